/**
 * The battery calculation's own thread (node:worker_threads), started per request by battery-thread.ts: it
 * opens one read-only database connection of its own, runs the what-if, the plan or the plan comparison
 * with the battery, posts the report (or what went wrong) and ends. The daemon's event loop (health checks, metrics, the read API, collection)
 * never waits on the work, and the thread's heap is its own, capped, so running out of it ends the thread,
 * not the daemon.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { createPool } from '../db/pool.ts';
import { isCollectorError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { comparePlans } from '../plans/plan-comparison.ts';
import { batteryPlan, batteryWhatIf } from '../query/battery-analysis.ts';
import type { BatteryJob, WorkerInput, WorkerOutcome } from './battery-thread.ts';

/** A statement the calculation waits on past this is cut: the thread's deadline is the caller's to keep anyway. */
const STATEMENT_TIMEOUT_MS = 60_000;

const { job, connection } = workerData as WorkerInput;
const pool = createPool(connection, silentLogger(), { max: 1, applicationName: 'amber-collector-battery', statementTimeoutMs: STATEMENT_TIMEOUT_MS, readOnly: true });
try {
  parentPort?.postMessage({ ok: true, report: await run(job) } satisfies WorkerOutcome);
} catch (err) {
  parentPort?.postMessage({ ok: false, error: describe(err) } satisfies WorkerOutcome);
} finally {
  await pool.end();
}

function run(work: BatteryJob): Promise<unknown> {
  switch (work.kind) {
    case 'what-if':
      return batteryWhatIf(pool, work.args);
    case 'plan':
      return batteryPlan(pool, work.args);
    case 'compare':
      return comparePlans(pool, work.args);
  }
}

/** An error as plain data (a thread boundary carries no classes): what the caller needs to answer it. */
function describe(err: unknown): Extract<WorkerOutcome, { ok: false }>['error'] {
  if (isCollectorError(err)) return { code: err.code, message: err.message, details: err.details };
  if (err instanceof pg.DatabaseError) return { sqlState: err.code ?? null, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}
