/**
 * Scenario 5: the real process is killed. SIGKILL at random moments of the backfill (no chance to clean
 * up: every chunk's rows and watermark commit together or not at all), then a restart that must finish
 * the job; and SIGTERM in the middle of a chunk, which must stop cleanly, quickly, and lose nothing.
 * The fake Amber server lives in the test process, so it outlives every collector process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../../helpers/seeded-random.ts';
import { startTcpProxy } from '../../helpers/tcp-proxy.ts';
import { byMessage, exitMessage, startCollectorProcess, type CollectorProcess, type ProcessExit } from '../child-rig.ts';
import { outcomeOf, waitForLines, type Scenario, type Size, type Trial, type TrialResult } from '../trial.ts';
import { createWorld, type World, pacedWorld, PACED_ENV } from '../world.ts';

/** run.ts promises to stop within this after SIGTERM (inside Docker's 10 s grace period). */
const SHUTDOWN_DEADLINE_MS = 10_000;

interface ExitReview {
  unexpectedExits: number;
  crashesWithoutMessage: number;
  problems: string[];
}

function exitFigures(review: ExitReview): Pick<ExitReview, 'unexpectedExits' | 'crashesWithoutMessage'> {
  return { unexpectedExits: review.unexpectedExits, crashesWithoutMessage: review.crashesWithoutMessage };
}

/** A collector we stopped must exit 0 after saying so; any other exit is a crash. */
function reviewStop(proc: CollectorProcess, exit: ProcessExit, label: string): ExitReview {
  if (exit.code === 0 && proc.lines.some(byMessage('stopped cleanly'))) return { unexpectedExits: 0, crashesWithoutMessage: 0, problems: [] };
  const message = exitMessage(proc);
  return {
    unexpectedExits: 1,
    crashesWithoutMessage: message === null ? 1 : 0,
    problems: [`${label}: exit ${exit.code ?? exit.signal} (${message ?? 'no message'})`],
  };
}

/** Starts a second collector on the same world and lets it finish; measures from its start. */
async function restartAndFinish(world: World, env: Record<string, string>, review: ExitReview): Promise<number | null> {
  const proc = await startCollectorProcess(env);
  const completeAt = await world.waitUntilComplete(90_000);
  const exit = await proc.terminate();
  const stopped = reviewStop(proc, exit, 'the restarted collector');
  review.unexpectedExits += stopped.unexpectedExits;
  review.crashesWithoutMessage += stopped.crashesWithoutMessage;
  review.problems.push(...stopped.problems);
  return completeAt === null ? null : completeAt - proc.startedAt;
}

/** Starts a collector and SIGKILLs it `afterMs` after its backfill starts; returns it with how it exited. */
async function killMidBackfill(env: Record<string, string>, afterMs: number): Promise<{ first: CollectorProcess; killed: ProcessExit }> {
  const first = await startCollectorProcess(env);
  await first.waitFor(byMessage('backfill started'));
  await sleep(afterMs);
  first.child.kill('SIGKILL');
  return { first, killed: await first.exited };
}

/** Slows the body of the fake's next prices response to 30 s, starts a collector, and returns it once that download is under way. */
async function startDuringSlowDownload(world: World, env: Record<string, string>): Promise<CollectorProcess> {
  world.fake.inject({ kind: 'slowBody', ms: 30_000, endpoint: 'prices' });
  const proc = await startCollectorProcess(env);
  await waitForLines(world.fake.requests as unknown as Array<Record<string, unknown>>, (r) => r['fault'] === 'slowBody', {
    what: 'the slow response',
  });
  return proc;
}

/** SIGKILL at a (seeded) random moment of the backfill, then a restart. */
function killTrial(seed: number, days: number): Trial {
  const random = seededRandom(seed);
  // Anywhere in the backfill (about 100 ms a day here): before its first chunk, mid-transaction, between chunks.
  const killAfterMs = Math.round(random() * (days * 100));
  return {
    label: `SIGKILL ${killAfterMs} ms into the backfill (seed ${seed}), then restart`,
    run: async (): Promise<TrialResult> => {
      const world = await createWorld(pacedWorld(days));
      try {
        const env = world.env(PACED_ENV);
        const { first, killed } = await killMidBackfill(env, killAfterMs);
        const review: ExitReview = { unexpectedExits: 0, crashesWithoutMessage: 0, problems: [] };
        if (killed.signal !== 'SIGKILL') {
          review.problems.push(`the first collector exited by itself before the kill (${killed.code}: ${exitMessage(first) ?? 'no message'})`);
          review.unexpectedExits += 1;
        }
        const chunksBefore = first.lines.filter(byMessage('backfill chunk stored')).length;
        const recoveryMs = await restartAndFinish(world, env, review);
        return {
          outcome: outcomeOf(await world.check(), { recoveryMs, ...exitFigures(review), notes: [`killed after ${chunksBefore} chunks`] }),
          problems: review.problems,
        };
      } finally {
        await world.close();
      }
    },
  };
}

/** SIGTERM while an Amber response is half-way through its body. */
function termMidRequest(days: number): Trial {
  return {
    label: 'SIGTERM while a chunk is being downloaded, then restart',
    run: async (): Promise<TrialResult> => {
      const world = await createWorld(pacedWorld(days));
      try {
        const env = world.env(PACED_ENV);
        const proc = await startDuringSlowDownload(world, env);
        return await terminateAndResume(world, env, proc);
      } finally {
        await world.close();
      }
    },
  };
}

/**
 * SIGTERM while transactions are slow (the database 100 ms away, through a proxy): the stop lands
 * inside a chunk's transaction, which must commit or roll back whole.
 */
function termMidTransaction(seed: number, days: number): Trial {
  const random = seededRandom(seed);
  const termAfterMs = 200 + Math.round(random() * 800);
  return {
    label: `SIGTERM ${termAfterMs} ms after a chunk, database 100 ms away (seed ${seed}), then restart`,
    run: async (): Promise<TrialResult> => {
      const world = await createWorld(pacedWorld(days));
      const target = new URL(world.db.url);
      const proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
      try {
        proxy.setLatencyMs(100);
        const viaProxy = new URL(world.db.url);
        viaProxy.port = String(proxy.port);
        const proc = await startCollectorProcess(world.env({ ...PACED_ENV, DATABASE_URL: viaProxy.toString() }));
        await proc.waitFor(byMessage('backfill chunk stored'), 60_000);
        await sleep(termAfterMs);
        return await terminateAndResume(world, world.env(PACED_ENV), proc);
      } finally {
        await proxy.close();
        await world.close();
      }
    },
  };
}

async function terminateAndResume(world: World, env: Record<string, string>, proc: CollectorProcess): Promise<TrialResult> {
  const signalledAt = Date.now();
  const exit = await proc.terminate();
  const stopMs = Date.now() - signalledAt;
  const review = reviewStop(proc, exit, 'after SIGTERM');
  if (stopMs > SHUTDOWN_DEADLINE_MS) review.problems.push(`took ${stopMs} ms to stop after SIGTERM`);
  const recoveryMs = await restartAndFinish(world, env, review);
  return {
    outcome: outcomeOf(await world.check(), { recoveryMs, ...exitFigures(review), notes: [`stopped ${stopMs} ms after SIGTERM`] }),
    problems: review.problems,
  };
}

/**
 * The short version: a SIGKILL at a random moment of the backfill, then a restarted collector stopped
 * with SIGTERM while it downloads a chunk, then a third that finishes the job.
 */
function killThenTerminate(seed: number, days: number): Trial {
  const killAfterMs = Math.round(seededRandom(seed)() * (days * 100));
  return {
    label: `SIGKILL ${killAfterMs} ms into the backfill, then SIGTERM mid-download, then restart`,
    run: async (): Promise<TrialResult> => {
      const world = await createWorld(pacedWorld(days));
      try {
        const env = world.env(PACED_ENV);
        await killMidBackfill(env, killAfterMs);
        const second = await startDuringSlowDownload(world, env);
        return await terminateAndResume(world, env, second);
      } finally {
        await world.close();
      }
    },
  };
}

export const processKills: Scenario = {
  name: '5 SIGKILL / SIGTERM',
  trials(size: Size): Trial[] {
    if (size === 'short') return [killThenTerminate(7, 10)];
    const trials = Array.from({ length: 20 }, (_, i) => killTrial(i + 1, 30));
    trials.push(termMidRequest(30), termMidTransaction(1, 30), termMidTransaction(2, 30), termMidTransaction(3, 30));
    return trials;
  },
};
