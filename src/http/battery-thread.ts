/**
 * Runs one battery calculation (what-if, plan, or a plan comparison with the battery) in a worker thread
 * (battery-worker.ts) with a deadline and a heap of its own: past the deadline the thread is terminated, and
 * a thread that runs out of heap ends alone; either way the caller gets a BATTERY_LIMIT error to answer with,
 * and the daemon carries on. The routes share one runner, so one calculation runs at a time, whichever asked.
 */
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { DatabaseConnection } from '../config/database.ts';
import { CollectorError, type ErrorCode } from '../errors.ts';
import type { comparePlans, CompareReport } from '../plans/plan-comparison.ts';
import type { batteryPlan, batteryWhatIf, PlanReport, WhatIfReport } from '../query/battery-analysis.ts';
import { ReadGate } from './read-gate.ts';

export type BatteryJob =
  | { kind: 'what-if'; args: Parameters<typeof batteryWhatIf>[1] }
  | { kind: 'plan'; args: Parameters<typeof batteryPlan>[1] }
  | { kind: 'compare'; args: Parameters<typeof comparePlans>[1] };

export interface WorkerInput {
  job: BatteryJob;
  connection: DatabaseConnection;
}

export type WorkerOutcome =
  | { ok: true; report: unknown }
  | { ok: false; error: { message: string; code?: ErrorCode; details?: object; sqlState?: string | null } };

export interface BatteryThreadLimits {
  /** Wall-clock time the thread may take, start-up and database reads included. */
  deadlineMs: number;
  /** The thread's old-generation heap (V8's --max-old-space-size for it alone). */
  maxHeapMb: number;
}

/**
 * The thread's entry beside this file: `battery-worker.ts` when running from the sources (node's type
 * stripping, and the tests), `battery-worker.js` in the build (dist/, see tsconfig.build.json).
 */
const WORKER_FILE = new URL(`./battery-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
/** Young-generation space: the work allocates few short-lived objects, and more only grows the thread's RSS. */
const YOUNG_GENERATION_MB = 8;

interface Reports {
  'what-if': WhatIfReport;
  plan: PlanReport;
  compare: CompareReport;
}

/**
 * Months of what-if finish well within the deadline; a year with a forecast archived all year can take longer
 * (its forecast-driven plans dominate: `npm run bench -- battery-worker` measures it) and is then refused with
 * a 504. The heap holds a year of intervals and half a day of the forecast archive at a time.
 */
const DEFAULT_BATTERY_LIMITS: BatteryThreadLimits = { deadlineMs: 120_000, maxHeapMb: 96 };

export interface BatteryRunner {
  /** One job in its own thread; a second while one runs is refused with READ_OVERLOADED (a 503 with Retry-After). */
  run<J extends BatteryJob>(job: J): Promise<Reports[J['kind']]>;
}

export interface BatteryRunnerOptions {
  /** The read pool: the thread connects to its database on its own. */
  pool: pg.Pool;
  /** Default: the pool's. */
  connection?: DatabaseConnection;
  /** Default: DEFAULT_BATTERY_LIMITS (tests shorten the deadline). */
  limits?: BatteryThreadLimits;
  /** Default: one at a time and none waiting (tests hold it to see the refusal). */
  gate?: ReadGate;
}

export function batteryRunner(options: BatteryRunnerOptions): BatteryRunner {
  const { pool } = options;
  // A pool from db/pool.ts holds its connection's URL and TLS setting as given.
  const connection = options.connection ?? { url: pool.options.connectionString ?? '', ssl: (pool.options.ssl as DatabaseConnection['ssl'] | undefined) ?? false };
  const limits = options.limits ?? DEFAULT_BATTERY_LIMITS;
  // A queue a flood of requests could grow would hold threads of tens of seconds each: refuse instead.
  const gate = options.gate ?? new ReadGate({ concurrency: 1, queueLength: 0, maxWaitMs: 5_000 });
  return { run: (job) => gate.run(() => runBatteryJob(job, connection, limits)) };
}

export function runBatteryJob<J extends BatteryJob>(job: J, connection: DatabaseConnection, limits: BatteryThreadLimits): Promise<Reports[J['kind']]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_FILE, {
      workerData: { job, connection } satisfies WorkerInput,
      resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      // The daemon's own flags (--max-old-space-size=128 and the like) are for its heap, not this thread's.
      execArgv: [],
    });
    // Neither the thread nor its deadline keeps a stopping daemon alive: the request they serve goes with it.
    worker.unref();
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      outcome();
    };
    const deadline = setTimeout(() => {
      settle(() => reject(limitError('deadline', `the battery calculation took longer than ${limits.deadlineMs / 1000} s and was stopped: ask for a shorter range`)));
      void worker.terminate();
    }, limits.deadlineMs).unref();
    worker.once('message', (outcome: WorkerOutcome) => settle(() => (outcome.ok ? resolve(outcome.report as Reports[J['kind']]) : reject(errorFrom(outcome.error)))));
    worker.once('error', (err: Error & { code?: string }) => {
      const failure =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? limitError('memory', `the battery calculation needed more than its ${limits.maxHeapMb} MB of memory and was stopped: ask for a shorter range`)
          : err;
      settle(() => reject(failure));
    });
    worker.once('exit', (code) => settle(() => reject(new Error(`the battery worker exited with code ${code} without an answer`))));
  });
}

function limitError(limit: 'deadline' | 'memory', message: string): CollectorError<'BATTERY_LIMIT'> {
  return new CollectorError('BATTERY_LIMIT', message, { details: { limit } });
}

/** The worker's error as the caller would have seen it thrown in its own thread. */
function errorFrom(error: Extract<WorkerOutcome, { ok: false }>['error']): Error {
  // Details are each code's own plain data, cloned across the thread boundary unchanged.
  if (error.code !== undefined) return new CollectorError(error.code, error.message, { details: (error.details ?? {}) as never });
  // The worker's statement timeout: as slow as a missed deadline, and answered the same way.
  if (error.sqlState === '57014') return limitError('deadline', `the battery calculation's database read took too long: ask for a shorter range`);
  return new Error(`the battery calculation failed: ${error.message}`);
}
