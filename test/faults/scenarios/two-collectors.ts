/**
 * Scenario 6: two collectors started at the same instant against one empty database (a deploy overlap, or
 * a home server and a cloud copy sharing a key). Both migrate at once, exactly one collects, and when it
 * stops the other takes over. Each talks to its own copy of the fake (same seed, same data) so the requests
 * show who collected.
 */
import { startFakeAmber } from '../../fake-amber/server.ts';
import { startDaemon, type DaemonUnderTest } from '../daemon-rig.ts';
import { FAST_CYCLES, lineTime, until, loggedAnError, outcomeOf, waitForLines, type Scenario, type Size, type Trial, type TrialResult } from '../trial.ts';
import { createWorld, dataRequests, FAKE_OPTIONS } from '../world.ts';

const LOCK_HELD = 'holding the single-writer lock; this collector writes';
const LOCK_WAIT = 'another collector is active on this database; waiting for it to stop';

function twoCollectors(round: number): Trial {
  return {
    label: `two collectors started together on an empty database (round ${round}), then the writer stops`,
    run: async (): Promise<TrialResult> => {
      const world = await createWorld({ days: 7, migrated: false });
      const twin = await startFakeAmber({ sites: world.sites, ...FAKE_OPTIONS });
      const daemons: DaemonUnderTest[] = [];
      const problems: string[] = [];
      try {
        const options = { cycleCron: FAST_CYCLES, lockRetryMs: 100 };
        const fakes = [world.fake, twin];
        daemons.push(
          startDaemon(world.env(), options),
          startDaemon(world.env({ AMBER_API_BASE_URL: twin.url, AMBER_API_KEY: twin.apiKey }), options),
        );
        const [a, b] = daemons as [DaemonUnderTest, DaemonUnderTest];
        const holds = (d: DaemonUnderTest) => d.log.lines.some((l) => l['message'] === LOCK_HELD);
        await until(() => holds(a) || holds(b), 30_000, 'neither collector took the writer lock');
        const [writer, standby] = holds(a) ? [a, b] : [b, a];
        const [writerFake, standbyFake] = writer === a ? fakes : [...fakes].reverse();
        const completeAt = await world.waitUntilComplete(60_000);
        if (holds(standby)) problems.push('both collectors held the writer lock at once');
        if (!standby.log.lines.some((l) => l['message'] === LOCK_WAIT)) problems.push(`the standby never said "${LOCK_WAIT}"`);
        if (standbyFake!.requests.length > 0) problems.push(`the standby made ${standbyFake!.requests.length} Amber requests while the other collected`);
        if (dataRequests(writerFake!) === 0) problems.push('the writer made no data requests');
        const migrations = [...a.log.lines, ...b.log.lines].filter((l) => l['message'] === 'applying database migration').length;
        const files = await world.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
        if (migrations !== files.rows[0]!.n) problems.push(`${migrations} migrations applied for ${files.rows[0]!.n} files: a migration ran twice`);

        // Hand-over: the writer stops; the standby must take the lock and run a cycle.
        const stoppedAt = Date.now();
        await writer.stop();
        const tookOverAt = await waitForLines(standby.log.lines, (l) => l['message'] === 'cycle finished' && lineTime(l) > stoppedAt, {
          what: 'a cycle by the standby after the hand-over',
        }).catch(() => null);
        if (tookOverAt === null) problems.push('the standby did not take over');
        const early = daemons.filter((d) => d.endedEarly);
        return {
          outcome: outcomeOf(await world.check(), {
            recoveryMs: completeAt === null || tookOverAt === null ? null : tookOverAt - stoppedAt,
            unexpectedExits: early.length,
            crashesWithoutMessage: early.filter((d) => !loggedAnError(d.log)).length,
            notes: early.map((d) => `runDaemon failed: ${String(d.failure)}`),
          }),
          problems,
        };
      } finally {
        for (const daemon of daemons) await daemon.stop();
        await twin.close();
        await world.close();
      }
    },
  };
}

export const twoCollectorsScenario: Scenario = {
  name: '6 two collectors, one database',
  trials(size: Size): Trial[] {
    return Array.from({ length: size === 'short' ? 1 : 5 }, (_, i) => twoCollectors(i + 1));
  },
};
