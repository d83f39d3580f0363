/**
 * Gap repair: past days the ledger shows incomplete are fetched again, a few calls per cycle at backfill
 * priority, so fresh data always goes first and the rate budget is never swamped.
 *
 * Newest first: a recent gap is the one Amber is most likely still filling in (late meter reads, a
 * delayed price run) and the one users look at, while a day that is old and still empty is most likely
 * missing at Amber for good. Days whose re-fetch brought nothing new back off (1 h, 6 h, 1 day, then
 * weekly by default), so such a day cannot starve the others or burn the budget forever.
 */
import type { DataType, NemDate, Site } from '../domain/models.ts';
import { compareNemDates, MAX_RANGE_DAYS, type DayRange } from '../domain/nem-time.ts';
import { abortError, isCollectorError, isFatal } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { readIncompleteDays, writeCoverageChecks, type CoverageCheck, type DayCount, type IncompleteDay } from '../db/coverage-ledger.ts';
import type { Queryable } from '../db/pool.ts';
import type { CollectionState } from '../db/collection-state.ts';
import type { CollectDays } from './chunk.ts';
import type { RevisionSettings } from './data-types.ts';
import type { Stream } from '../domain/fetch-plan.ts';
import { repairChunks, repairWindow, type RepairPolicy } from '../domain/repair-rules.ts';

export type RepairOutcome = 'complete' | 'progress' | 'fruitless';

/** A stream as repair sees it: its site and the days repair may touch. */
export interface RepairStream {
  site: Site;
  dataType: DataType;
  window: DayRange;
}

export interface RepairSummary {
  calls: number;
  /** Days re-fetched that are now complete. */
  completed: number;
  /** Days re-fetched that gained intervals but are still incomplete. */
  improved: number;
  /** Days re-fetched (or whose re-fetch failed) with nothing new: they back off. */
  fruitless: number;
}

/** The streams with days to repair, each with its repair window (pure: the states are read by the caller). */
export function repairStreams(
  streams: readonly Stream[],
  states: readonly CollectionState[],
  settings: RevisionSettings,
  now: Date,
): RepairStream[] {
  return streams.flatMap((stream) => {
    const state = states.find((st) => st.siteId === stream.site.id && st.dataType === stream.dataType);
    const revisionDays = stream.dataType === 'price' ? settings.priceRevisionDays : settings.usageRevisionDays;
    const collected = { from: state?.backfillFrom ?? stream.range.from, through: state?.collectedThrough ?? null };
    const window = repairWindow(stream.range, stream.dataType, collected, revisionDays, now);
    return window ? [{ site: stream.site, dataType: stream.dataType, window }] : [];
  });
}

/** Takes up to `limit` items, one from each list in turn, so every stream gets its share. */
export function roundRobin<T>(lists: readonly (readonly T[])[], limit: number): T[] {
  const picked: T[] = [];
  for (let index = 0; picked.length < limit; index += 1) {
    const round = lists.filter((list) => index < list.length).map((list) => list[index] as T);
    if (round.length === 0) break;
    picked.push(...round.slice(0, limit - picked.length));
  }
  return picked;
}

/** What to remember about a re-fetched day: null (forget it) once complete, else when to look again. */
export function nextCheck(previous: CoverageCheck | null, outcome: RepairOutcome, now: Date, policy: RepairPolicy): CoverageCheck | null {
  if (outcome === 'complete') return null;
  if (outcome === 'progress') return { fruitlessChecks: 0, lastCheckedAt: now, nextCheckAt: now };
  const fruitlessChecks = (previous?.fruitlessChecks ?? 0) + 1;
  const delays = policy.recheckAfterMs;
  const delay = delays[Math.min(fruitlessChecks, delays.length) - 1] ?? 0;
  return { fruitlessChecks, lastCheckedAt: now, nextCheckAt: new Date(now.getTime() + delay) };
}

/** How a re-fetch changed a day it targeted. */
export function outcomeOf(day: DayCount): RepairOutcome {
  if (day.stored >= day.expected) return 'complete';
  return day.previouslyStored === null || day.stored > day.previouslyStored ? 'progress' : 'fruitless';
}

export interface GapRepairDeps {
  pool: Queryable;
  collect: CollectDays;
  logger: Logger;
  now: () => Date;
  policy: RepairPolicy;
}

interface PlannedRepair {
  stream: RepairStream;
  chunk: DayRange;
  targets: Map<NemDate, IncompleteDay>;
}

/** One round of repair: picks at most `policy.callsPerCycle` calls over `streams` and makes them. */
export async function repairGaps(deps: GapRepairDeps, streams: readonly RepairStream[], signal: AbortSignal): Promise<RepairSummary> {
  const summary: RepairSummary = { calls: 0, completed: 0, improved: 0, fruitless: 0 };
  const limit = deps.policy.callsPerCycle;
  if (limit <= 0) return summary;
  const perStream = await Promise.all(streams.map((stream) => planStream(deps, stream, limit)));
  const picked = roundRobin(perStream, limit);
  await Promise.all(
    picked.map(async (repair) => {
      const outcomes = await runRepair(deps, repair, signal);
      summary.calls += 1;
      for (const outcome of outcomes) {
        if (outcome === 'complete') summary.completed += 1;
        else if (outcome === 'progress') summary.improved += 1;
        else summary.fruitless += 1;
      }
    }),
  );
  if (summary.calls > 0) deps.logger.info({ ...summary }, 'gap repair round finished');
  return summary;
}

async function planStream(deps: GapRepairDeps, stream: RepairStream, limit: number): Promise<PlannedRepair[]> {
  const days = await readIncompleteDays(deps.pool, {
    siteId: stream.site.id,
    dataType: stream.dataType,
    from: stream.window.startDate,
    through: stream.window.endDate,
    dueAt: deps.now(),
    // `limit` chunks never span more than this many of the newest candidate days.
    limit: limit * MAX_RANGE_DAYS,
  });
  return repairChunks(days.map((d) => d.date))
    .slice(0, limit)
    .map((chunk) => ({
      stream,
      chunk,
      targets: new Map(days.filter((d) => inRange(d.date, chunk)).map((d) => [d.date, d])),
    }));
}

async function runRepair(deps: GapRepairDeps, repair: PlannedRepair, signal: AbortSignal): Promise<RepairOutcome[]> {
  const { stream, chunk, targets } = repair;
  const { site, dataType } = stream;
  const now = deps.now();
  const outcomes: RepairOutcome[] = [];
  try {
    await deps.collect(site, dataType, chunk, signal, {
      inTransaction: async (tx, days) => {
        const updates = days.flatMap((day) => {
          const target = targets.get(day.date);
          if (target === undefined) {
            // Not a day we came for, but fetched anyway: forget it if it is complete now.
            return day.stored >= day.expected ? [{ date: day.date, check: null }] : [];
          }
          const outcome = outcomeOf(day);
          outcomes.push(outcome);
          return [{ date: day.date, check: nextCheck(target.check, outcome, now, deps.policy) }];
        });
        await writeCoverageChecks(tx, site.id, dataType, updates);
      },
    });
  } catch (err) {
    if (signal.aborted) throw abortError(signal.reason);
    if (isFatal(err) || isCollectorError(err, 'ABORTED')) throw err;
    // A range that keeps failing backs off like one with no data, instead of costing calls every cycle.
    await writeCoverageChecks(
      deps.pool,
      site.id,
      dataType,
      [...targets.values()].map((day) => ({ date: day.date, check: nextCheck(day.check, 'fruitless', now, deps.policy) })),
    );
    return [...targets.keys()].map(() => 'fruitless');
  }
  deps.logger.info(
    {
      site: site.id,
      dataType,
      startDate: chunk.startDate,
      endDate: chunk.endDate,
      completed: outcomes.filter((o) => o === 'complete').length,
      stillIncomplete: outcomes.filter((o) => o !== 'complete').length,
    },
    'gap repair: incomplete days fetched again',
  );
  return outcomes;
}

function inRange(day: NemDate, range: DayRange): boolean {
  return compareNemDates(day, range.startDate) >= 0 && compareNemDates(day, range.endDate) <= 0;
}
