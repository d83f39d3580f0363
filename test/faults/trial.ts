/**
 * The shape every fault trial shares: build a world, run the collector through a fault, wait until the
 * database is complete again (or give up), stop, and compare with the ground truth.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CapturedLogger } from '../helpers/capture-logger.ts';
import { startDaemon, type DaemonUnderTest } from './daemon-rig.ts';
import type { TrialOutcome } from './report.ts';
import { createWorld, lastFaultAt, type DataCheck, type World, type WorldOptions } from './world.ts';

export type Size = 'short' | 'full';

export interface TrialResult {
  outcome: TrialOutcome;
  /** Expectations about behaviour (log lines, exit codes, requests) that did not hold. */
  problems: string[];
  /** False for trials with nothing to recover from (a refused configuration). Default true. */
  expectsRecovery?: boolean;
}

export interface Trial {
  /** e.g. `bare 429 ×6 on prices`. */
  label: string;
  run(): Promise<TrialResult>;
}

export interface Scenario {
  name: string;
  trials(size: Size): Trial[];
}

/** Cron for in-process daemons: a cycle every second, so "retried next cycle" takes seconds, not minutes. */
export const FAST_CYCLES = '* * * * * *';

/** Turns the final oracle check into a trial outcome. */
export function outcomeOf(check: DataCheck, extra: Partial<TrialOutcome> & { recoveryMs: number | null }): TrialOutcome {
  return {
    checked: check.expected,
    lost: check.lost,
    duplicated: check.duplicated,
    wrong: check.wrong,
    unexpectedExits: 0,
    crashesWithoutMessage: 0,
    ...extra,
    notes: [...check.samples, ...(extra.notes ?? [])],
  };
}

/** True when some captured line at error or fatal level exists (pino numeric levels: 50, 60). */
export function loggedAnError(log: CapturedLogger): boolean {
  return log.lines.some((line) => typeof line['level'] === 'number' && line['level'] >= 50);
}

export interface DaemonTrialOptions {
  world: WorldOptions;
  /** Extra environment for the collector (e.g. a short AMBER_REQUEST_TIMEOUT_SECONDS). */
  env?: Record<string, string>;
  /** Arms faults before the collector starts (queued fake faults, a refusing proxy). */
  before?(world: World): Promise<void> | void;
  /**
   * Runs while the collector runs (a storm, a cut); resolves with the wall time the fault ended, or
   * nothing to take the fake's last faulty response as the end.
   */
  during?(world: World, daemon: DaemonUnderTest): Promise<number | void>;
  /**
   * When recovery means more than a complete database (collection carrying on after a cut): resolves with
   * the wall time it did, or null.
   */
  resumedAt?(world: World, daemon: DaemonUnderTest, faultEndedAt: number): Promise<number | null>;
  /** Checks on behaviour once the trial is over: returns what did not hold. */
  expect?(world: World, daemon: DaemonUnderTest): Promise<string[]> | string[];
  /** Environment override for where the collector finds the database (a proxy). */
  databaseUrl?(world: World): string;
  recoveryTimeoutMs: number;
}

/** One in-process daemon through one fault, measured. */
export async function daemonTrial(options: DaemonTrialOptions): Promise<TrialResult> {
  const world = await createWorld(options.world);
  try {
    await options.before?.(world);
    const startedAt = Date.now();
    const env = world.env({ ...options.env, ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl(world) } : {}) });
    const daemon = startDaemon(env, { cycleCron: FAST_CYCLES, lockRetryMs: 200 });
    let completeAt: number | null = null;
    let end = startedAt;
    try {
      const faultEndedAt = await options.during?.(world, daemon);
      completeAt = await world.waitUntilComplete(options.recoveryTimeoutMs);
      end = faultEndedAt ?? lastFaultAt(world.fake) ?? startedAt;
      if (completeAt !== null && options.resumedAt) {
        const resumedAt = await options.resumedAt(world, daemon, end);
        completeAt = resumedAt === null ? null : Math.max(completeAt, resumedAt);
      }
    } finally {
      await daemon.stop();
    }
    const check = await world.check();
    const problems = (await options.expect?.(world, daemon)) ?? [];
    const notes = daemon.failure ? [`runDaemon failed: ${String(daemon.failure)}`] : [];
    return {
      outcome: outcomeOf(check, {
        recoveryMs: completeAt === null ? null : Math.max(0, completeAt - end),
        unexpectedExits: daemon.endedEarly ? 1 : 0,
        crashesWithoutMessage: daemon.endedEarly && !loggedAnError(daemon.log) ? 1 : 0,
        notes,
      }),
      problems,
    };
  } finally {
    await world.close();
  }
}

/**
 * Resolves with the wall time the `count`-th line matching `predicate` appeared (pino's `time`, or now
 * when a line has none); rejects after `timeoutMs`. Works on captured and child-process logs alike.
 */
export async function waitForLines(
  lines: ReadonlyArray<Record<string, unknown>>,
  predicate: (line: Record<string, unknown>) => boolean,
  options: { count?: number; timeoutMs?: number; what?: string } = {},
): Promise<number> {
  const { count = 1, timeoutMs = 30_000, what = 'the awaited log lines' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const matching = lines.filter(predicate);
    const line = matching[count - 1];
    if (line) return lineTime(line);
    if (Date.now() > deadline) throw new Error(`${what}: ${matching.length} of ${count} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Polls `condition` until it holds; rejects with `failure` after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number, failure: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(failure);
    await sleep(20);
  }
}

/** A log line's wall time: pino writes epoch ms in-process and an ISO string from the process. */
export function lineTime(line: Record<string, unknown>): number {
  const time = line['time'];
  if (typeof time === 'number') return time;
  if (typeof time === 'string') return Date.parse(time);
  return Date.now();
}

/** A message for `problems` when no captured line has `message`. */
export function expectLogged(log: CapturedLogger, msg: string, what: string): string[] {
  return log.lines.some((line) => line['message'] === msg) ? [] : [`${what}: no log line "${msg}"`];
}
