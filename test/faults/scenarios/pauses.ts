/**
 * Scenario 7: the collector is paused past several cycles (a laptop asleep, a VM frozen, a stopped
 * container). A missed cycle must cost nothing but time: once it runs again, nothing is missing.
 *
 * Three ways: the in-process daemon's whole event loop frozen past several one-second cycles; the real
 * process stopped with SIGSTOP and resumed with SIGCONT while requests are in flight; and the data clock
 * advanced by hours and days between two ticks of a collector, so that new data (and usage revisions)
 * piled up while no cycle ran.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NemDate } from '../../../src/domain/models.ts';
import { addDays, nemToday } from '../../../src/domain/nem-time.ts';
import { startHarness } from '../../helpers/collector-harness.ts';
import { diffPrices, diffUsage } from '../../helpers/ground-truth.ts';
import { byMessage, exitMessage, startCollectorProcess } from '../child-rig.ts';
import { cleanOutcome } from '../report.ts';
import {
  daemonTrial,
  expectLogged,
  outcomeOf,
  waitForLines,
  type Scenario,
  type Size,
  type Trial,
  type TrialResult,
} from '../trial.ts';
import { createWorld, pacedWorld, PACED_ENV } from '../world.ts';

const MISSED = 'a cycle was missed (the process was paused or busy); the next one catches up';

/** Blocks this thread (the daemon, its cron and the fake alike) as SIGSTOP would. */
function freezeEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function frozenDaemon(freezeMs: number, days: number): Trial {
  return {
    label: `in-process daemon frozen ${freezeMs} ms mid-backfill (one-second cycles missed)`,
    run: () =>
      daemonTrial({
        world: pacedWorld(days),
        env: PACED_ENV,
        during: async (_world, daemon) => {
          await waitForLines(daemon.log.lines, byMessage('backfill chunk stored'), { count: 3, what: 'chunks before the freeze' });
          freezeEventLoop(freezeMs);
          return Date.now();
        },
        recoveryTimeoutMs: 60_000,
        expect: (_world, daemon) => expectLogged(daemon.log, MISSED, 'after the freeze'),
      }),
  };
}

function stoppedProcess(stopMs: number): Trial {
  return {
    label: `process SIGSTOPped ${stopMs} ms mid-backfill (requests time out after 1 s), then SIGCONT`,
    run: async (): Promise<TrialResult> => {
      const world = await createWorld(pacedWorld(30));
      const problems: string[] = [];
      try {
        const proc = await startCollectorProcess(world.env({ ...PACED_ENV, AMBER_REQUEST_TIMEOUT_SECONDS: '1' }));
        await proc.waitFor(byMessage('backfill chunk stored'), 60_000);
        proc.child.kill('SIGSTOP');
        await sleep(stopMs);
        proc.child.kill('SIGCONT');
        const resumedAt = Date.now();
        const completeAt = await world.waitUntilComplete(60_000);
        const exit = await proc.terminate();
        const crashed = exit.code !== 0;
        if (crashed) problems.push(`exit ${exit.code ?? exit.signal} after SIGTERM (${exitMessage(proc) ?? 'no message'})`);
        return {
          outcome: outcomeOf(await world.check(), {
            recoveryMs: completeAt === null ? null : completeAt - resumedAt,
            unexpectedExits: crashed ? 1 : 0,
            crashesWithoutMessage: crashed && exitMessage(proc) === null ? 1 : 0,
          }),
          problems,
        };
      } finally {
        await world.close();
      }
    },
  };
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** A jump of the data clock: with the collector left running (no tick came), or stopped and started again. */
interface Pause {
  ms: number;
  restart: boolean;
}

/**
 * A collector on a pinned data clock: backfill, one cycle, then for each pause the clock jumps ahead and
 * the first tick after it runs. After every tick the database must match the ground truth through today
 * (prices) and yesterday (usage), revisions included. The fake's usage arrives 4 h after the day and is
 * revised until 30 h after, as live.
 */
function dataClockJumps(jumps: Pause[]): Trial {
  const describe = ({ ms, restart }: Pause) =>
    `${ms >= DAY_MS ? `${ms / DAY_MS} d` : `${ms / HOUR_MS} h`} ${restart ? 'down' : 'without a tick'}`;
  return {
    label: `data clock advanced ${jumps.map(describe).join(', then ')}`,
    run: async (): Promise<TrialResult> => {
      const h = await startHarness({ now: new Date('2025-11-21T03:00:00Z') });
      const startDate = '2025-11-07';
      const problems: string[] = [];
      let total = cleanOutcome(0, 0);
      try {
        let collector = h.newCollector({ historicalStartDate: startDate });
        await collector.discoverSites(AbortSignal.timeout(20_000));
        await collector.backfill(AbortSignal.timeout(60_000));
        await collector.runCycle(AbortSignal.timeout(20_000));
        for (const pause of jumps) {
          h.clock.now = new Date(h.clock.now.getTime() + pause.ms);
          const tickStartedAt = Date.now();
          const signal = AbortSignal.timeout(60_000);
          if (pause.restart) {
            // As the daemon starts: sites, the backfill in the background, then the first tick at once.
            collector = h.newCollector({ historicalStartDate: startDate });
            await collector.discoverSites(signal);
            void collector.backfill(signal);
          }
          // The first tick after the pause; the backfill it starts (if any stream is behind) is awaited too.
          await collector.runCycle(signal);
          await collector.settle();
          const recoveryMs = Date.now() - tickStartedAt;
          const today: NemDate = nemToday(h.clock.now);
          let checked = 0;
          let lost = 0;
          let duplicated = 0;
          let wrong = 0;
          const notes: string[] = [];
          for (const site of collector.collectedSites.filter((s) => s.status === 'active')) {
            for (const diff of [
              await diffPrices(h.pool, h.fake, site.id, startDate, today),
              await diffUsage(h.pool, h.fake, site.id, startDate, addDays(today, -1)),
            ]) {
              checked += diff.expected;
              lost += diff.missing.length;
              duplicated += diff.extra.length;
              wrong += diff.wrong.length;
              notes.push(...[...diff.missing, ...diff.extra, ...diff.wrong].slice(0, 2).map((k) => `after ${describe(pause)}: ${k}`));
            }
          }
          total = {
            ...total,
            checked: total.checked + checked,
            lost: total.lost + lost,
            duplicated: total.duplicated + duplicated,
            wrong: total.wrong + wrong,
            recoveryMs: Math.max(total.recoveryMs ?? 0, recoveryMs),
            notes: [...(total.notes ?? []), ...notes],
          };
        }
        return { outcome: total, problems };
      } finally {
        await h.close();
      }
    },
  };
}

export const pauses: Scenario = {
  name: '7 paused past several cycles',
  trials(size: Size): Trial[] {
    if (size === 'short') {
      return [
        frozenDaemon(2_200, 10),
        dataClockJumps([
          { ms: HOUR_MS, restart: false },
          { ms: 10 * DAY_MS, restart: false },
          { ms: 10 * DAY_MS, restart: true },
        ]),
      ];
    }
    return [
      frozenDaemon(3_500, 30),
      frozenDaemon(6_000, 30),
      stoppedProcess(3_000),
      stoppedProcess(8_000),
      dataClockJumps([HOUR_MS, 6 * HOUR_MS, 3 * DAY_MS, 10 * DAY_MS].map((ms) => ({ ms, restart: false }))),
      dataClockJumps([{ ms: 30 * DAY_MS, restart: false }]),
      dataClockJumps([6 * HOUR_MS, 3 * DAY_MS, 10 * DAY_MS, 30 * DAY_MS].map((ms) => ({ ms, restart: true }))),
    ];
  },
};
