/**
 * Scenario 4: PostgreSQL goes away. The shared test server is never restarted (other files use it): a
 * TCP proxy stands between the collector and Postgres and refuses or cuts connections, or the
 * collector's own connections to its own database are terminated with `pg_terminate_backend`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';
import { startCollectorProcess, exitMessage } from '../child-rig.ts';
import type { DaemonUnderTest } from '../daemon-rig.ts';
import {
  daemonTrial,
  expectLogged,
  lineTime,
  outcomeOf,
  waitForLines,
  type Scenario,
  type Size,
  type Trial,
  type TrialResult,
} from '../trial.ts';
import { createWorld, type World, pacedWorld, PACED_ENV } from '../world.ts';

const LOCK_LOST = 'lost the connection holding the single-writer lock; pausing collection';
const LOCK_HELD = 'holding the single-writer lock; this collector writes';

const isMsg = (msg: string) => (line: Record<string, unknown>) => line['message'] === msg;
const isUnreachable = (line: Record<string, unknown>) => typeof line['message'] === 'string' && /^database (.* )?not reachable yet/.test(line['message']);

/** The world's database URL, but through the proxy. */
function viaProxy(world: World, proxy: TcpProxy): string {
  const url = new URL(world.db.url);
  url.port = String(proxy.port);
  return url.toString();
}

async function proxyFor(world: World): Promise<TcpProxy> {
  const url = new URL(world.db.url);
  return startTcpProxy({ targetHost: url.hostname, targetPort: Number(url.port || 5432) });
}

/** Terminates every connection the collector has open to the world's database (not the test's own). */
async function terminateCollectorConnections(world: World): Promise<number> {
  const { rows } = await world.db.pool.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE datname = $1 AND application_name = 'amber-collector' AND pid <> pg_backend_pid()`,
    [world.db.name],
  );
  return rows[0]?.n ?? 0;
}

/** The lock was lost, taken again, and no stream failure was left unexplained. */
function lockCameBack(daemon: DaemonUnderTest): string[] {
  const held = daemon.log.lines.filter(isMsg(LOCK_HELD)).length;
  return [...expectLogged(daemon.log, LOCK_LOST, 'after the cut'), ...(held >= 2 ? [] : [`the lock was taken ${held} time(s), expected a second time after the cut`])];
}

function terminatedMidBackfill(days: number): Trial {
  return {
    label: 'pg_terminate_backend on every collector connection mid-backfill',
    run: () =>
      daemonTrial({
        world: pacedWorld(days),
        env: PACED_ENV,
        during: async (world, daemon) => {
          await waitForLines(daemon.log.lines, isMsg('backfill chunk stored'), { count: 3, what: 'backfill chunks before the cut' });
          const terminated = await terminateCollectorConnections(world);
          if (terminated === 0) throw new Error('no collector connection to terminate');
          return Date.now();
        },
        recoveryTimeoutMs: 60_000,
        expect: (_world, daemon) => lockCameBack(daemon),
      }),
  };
}

function restartedMidBackfill(downMs: number, days: number): Trial {
  let proxy: TcpProxy | undefined;
  return {
    label: `restart mid-backfill: every connection reset, refused for ${downMs} ms`,
    run: async () => {
      try {
        return await daemonTrial({
          world: pacedWorld(days),
          env: PACED_ENV,
          before: async (world) => {
            proxy = await proxyFor(world);
          },
          databaseUrl: (world) => viaProxy(world, proxy!),
          during: async (_world, daemon) => {
            await waitForLines(daemon.log.lines, isMsg('backfill chunk stored'), { count: 3, what: 'backfill chunks before the restart' });
            proxy!.refuse();
            proxy!.cutAll();
            await sleep(downMs);
            await proxy!.accept();
            return Date.now();
          },
          recoveryTimeoutMs: 60_000,
          expect: (_world, daemon) => lockCameBack(daemon),
        });
      } finally {
        await proxy?.close();
      }
    },
  };
}

function cutMidCycle(): Trial {
  let proxy: TcpProxy | undefined;
  return {
    label: 'every connection reset mid-cycle (database 25 ms away)',
    run: async () => {
      try {
        return await daemonTrial({
          world: { days: 14 },
          before: async (world) => {
            proxy = await proxyFor(world);
          },
          databaseUrl: (world) => viaProxy(world, proxy!),
          during: async (_world, daemon) => {
            const lines = daemon.log.lines;
            await waitForLines(lines, isMsg('backfill finished'), { what: 'the backfill' });
            // Slow every query, then cut while the cycle after the next one is running.
            proxy!.setLatencyMs(25);
            const cycles = lines.filter(isMsg('cycle finished')).length;
            await waitForLines(lines, isMsg('cycle finished'), { count: cycles + 1, what: 'a cycle before the cut' });
            await sleep(150);
            proxy!.cutAll();
            return Date.now();
          },
          resumedAt: async (_world, daemon, cutAt) => {
            const after = (line: Record<string, unknown>) => line['message'] === 'cycle finished' && lineTime(line) > cutAt;
            return waitForLines(daemon.log.lines, after, { what: 'a cycle after the cut' }).catch(() => null);
          },
          recoveryTimeoutMs: 60_000,
        });
      } finally {
        await proxy?.close();
      }
    },
  };
}

/**
 * The real process started while the database refuses connections: it must keep trying with growing
 * pauses and say so, then collect once the database is back (not exit, not go quiet).
 */
function unreachableAtStartup(attempts: number): Trial {
  return {
    label: `database refusing connections at start-up (${attempts} attempts), then back`,
    run: async (): Promise<TrialResult> => {
      const world = await createWorld({ days: 7 });
      const proxy = await proxyFor(world);
      const problems: string[] = [];
      try {
        proxy.refuse();
        const proc = await startCollectorProcess(world.env({ DATABASE_URL: viaProxy(world, proxy) }));
        let exitedEarly = false;
        void proc.exited.then(() => {
          exitedEarly = true;
        });
        await waitForLines(proc.lines, isUnreachable, { count: attempts, timeoutMs: 60_000, what: 'database retries' });
        const retries = proc.lines.filter(isUnreachable);
        const waits = retries.map((line) => Number(line['retryInMs']));
        if (!waits.every((wait, i) => i === 0 || wait >= waits[i - 1]!) || waits.at(-1)! <= waits[0]!) {
          problems.push(`retry pauses do not grow: ${waits.join(', ')} ms`);
        }
        if (!retries.every((line) => line['host'] === '127.0.0.1' && line['database'] === world.db.name)) {
          problems.push('a retry line does not name the host and database');
        }
        if (retries.some((line) => JSON.stringify(line).includes('postgres://'))) problems.push('a retry line shows the connection URL');
        await proxy.accept();
        const backAt = Date.now();
        const completeAt = await world.waitUntilComplete(60_000);
        const exit = await proc.terminate();
        if (exit.code !== 0) problems.push(`exit code ${exit.code} after SIGTERM (${exitMessage(proc) ?? 'no message'})`);
        return {
          outcome: outcomeOf(await world.check(), {
            recoveryMs: completeAt === null ? null : completeAt - backAt,
            unexpectedExits: exitedEarly && exit.code !== 0 ? 1 : 0,
            crashesWithoutMessage: exitedEarly && exit.code !== 0 && exitMessage(proc) === null ? 1 : 0,
          }),
          problems,
        };
      } finally {
        await proxy.close();
        await world.close();
      }
    },
  };
}

export const databaseFaults: Scenario = {
  name: '4 PostgreSQL down / connections cut',
  trials(size: Size): Trial[] {
    if (size === 'short') return [unreachableAtStartup(2), terminatedMidBackfill(10)];
    return [
      unreachableAtStartup(5),
      terminatedMidBackfill(30),
      terminatedMidBackfill(30),
      restartedMidBackfill(1_000, 30),
      restartedMidBackfill(5_000, 30),
      cutMidCycle(),
      cutMidCycle(),
    ];
  },
};
