/**
 * The forecast archive: each cycle asks `/prices/current` once per site for the running interval and
 * everything forecast after it, and keeps whatever changed since the last snapshot, so users can study
 * how forecasts converge on the actual price.
 */
import type pg from 'pg';
import type { AmberClient } from '../amber/client.ts';
import { currentPricesRange, type CurrentPricesParams } from '../amber/request-params.ts';
import type { PriceInterval, Site } from '../domain/models.ts';
import { isCollectorError, isFatal } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { ROLLUP_AFTER_DAYS, rollUpForecastAccuracy } from '../db/accuracy-rollup.ts';
import { compactForecasts, pruneForecasts, storeForecastSnapshots } from '../db/forecast-store.ts';
import { withTransaction } from '../db/pool.ts';
import { pruneRejectedIntervals, recordRejectedIntervals } from '../db/rejected-intervals.ts';

/**
 * Amber forecasts reach the end of the next NEM day (AEMO pre-dispatch), so never more than 48 h ahead:
 * asking for 48 h of intervals at the site's resolution gets the whole horizon in one call (576 at
 * 5 minutes, 96 at 30), far below the API's cap of 2048 for previous + next. `previous` is 0: finished
 * intervals are actual prices, which `/prices` already collects.
 */
const FORECAST_HORIZON_MINUTES = 48 * 60;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Refused elements are kept this long after they were last seen: long enough to notice, short enough to forget a fixed API bug. */
const REJECTED_RETENTION_DAYS = 90;

export function forecastRequest(site: Pick<Site, 'intervalLength'>): CurrentPricesParams {
  // The API knows only 5 and 30; any other length (15 is in the spec, never seen) gets the API's default.
  const resolution = site.intervalLength === 5 || site.intervalLength === 30 ? site.intervalLength : undefined;
  const step = resolution ?? 30;
  return { previous: 0, next: Math.ceil(FORECAST_HORIZON_MINUTES / step), ...(resolution ? { resolution } : {}) };
}

export interface ForecastDeps {
  pool: pg.Pool;
  client: AmberClient;
  logger: Logger;
  now: () => Date;
  /** Days of forecasts kept, by interval end; null keeps everything. */
  retentionDays: number | null;
  /** Intervals that ended this many days ago are compacted (see compactForecasts); null never compacts. */
  compactAfterDays: number | null;
  /** Sees each site's snapshot once it is stored (alerts read the current and forecast prices from it). */
  onSnapshot?: (snapshot: ForecastSnapshot) => void;
}

export interface ForecastSnapshot {
  site: Site;
  fetchedAt: Date;
  /** The CurrentInterval and ForecastInterval elements of every channel, as the API sent them. */
  intervals: readonly PriceInterval[];
}

export interface ForecastSummary {
  calls: number;
  stored: number;
  unchanged: number;
  pruned: number;
  /** Snapshots deleted by compaction. */
  compacted: number;
  /** Elements of the responses refused (kept in rejected_intervals). */
  rejected: number;
  /** Rows of rejected_intervals not seen for REJECTED_RETENTION_DAYS, deleted. */
  rejectedPruned: number;
  failedSites: number;
}

/** One snapshot per site, side by side. A site that fails is logged and skipped; only a bad API key throws. */
export async function archiveForecasts(deps: ForecastDeps, sites: readonly Site[], signal: AbortSignal): Promise<ForecastSummary> {
  const summary: ForecastSummary = { calls: 0, stored: 0, unchanged: 0, pruned: 0, compacted: 0, rejected: 0, rejectedPruned: 0, failedSites: 0 };
  await Promise.all(
    sites.map(async (site) => {
      try {
        summary.calls += 1;
        const request = forecastRequest(site);
        const parsed = await deps.client.getCurrentPrices(site.id, request, { priority: 'fresh', signal });
        const fetchedAt = deps.now();
        const intervals = parsed.items.filter(isForecast);
        const counts = await withTransaction(deps.pool, async (tx) => {
          const range = currentPricesRange(request, fetchedAt);
          await recordRejectedIntervals(tx, { siteId: site.id, dataType: 'forecast', ...range, items: parsed.rejected });
          return storeForecastSnapshots(tx, site.id, fetchedAt, intervals);
        });
        deps.onSnapshot?.({ site, fetchedAt, intervals });
        summary.rejected += parsed.rejected.length;
        summary.stored += counts.stored;
        summary.unchanged += counts.unchanged;
        if (deps.retentionDays !== null) {
          summary.pruned += await pruneForecasts(deps.pool, site.id, new Date(fetchedAt.getTime() - deps.retentionDays * DAY_MS));
        }
        if (deps.compactAfterDays !== null) {
          summary.compacted += await compactSlice(deps, site.id, new Date(fetchedAt.getTime() - deps.compactAfterDays * DAY_MS));
        }
        await rollUpSlice(deps, site.id, fetchedAt);
      } catch (err) {
        if (isCollectorError(err, 'ABORTED') || signal.aborted) return;
        if (isFatal(err)) throw err;
        summary.failedSites += 1;
        deps.logger.warn({ site: site.id, err }, 'could not archive price forecasts; the next cycle tries again');
      }
    }),
  );
  if (deps.compactAfterDays !== null) summary.rejectedPruned = await pruneRejected(deps);
  deps.logger.debug({ ...summary }, 'price forecasts archived');
  return summary;
}

/**
 * Compacts one bounded slice of the site's archive (at most COMPACTION_SLICE_DAYS of intervals), so a
 * backlog (a first start with a long archive, or after FORECAST_COMPACT_AFTER_DAYS is lowered) is worked
 * off a slice per cycle instead of in one long transaction. Returns the rows deleted.
 */
async function compactSlice(deps: ForecastDeps, siteId: string, through: Date): Promise<number> {
  const slice = await compactForecasts(deps.pool, siteId, through);
  if (slice === null) return 0;
  deps.logger.debug(
    { site: siteId, from: slice.from.toISOString(), through: slice.through.toISOString(), kept: slice.kept, deleted: slice.deleted },
    'price forecasts compacted',
  );
  return slice.deleted;
}

/**
 * Rolls up the site's next slice of final days of forecast accuracy (db/accuracy-rollup.ts), after compaction
 * so a day is summed as compacted. A failure waits for the next cycle: the report computes unrolled days directly.
 */
async function rollUpSlice(deps: ForecastDeps, siteId: string, fetchedAt: Date): Promise<void> {
  try {
    const readyBefore = new Date(fetchedAt.getTime() - ROLLUP_AFTER_DAYS * DAY_MS);
    const slice = await rollUpForecastAccuracy(deps.pool, siteId, readyBefore, deps.compactAfterDays !== null);
    if (slice !== null) deps.logger.debug({ site: siteId, ...slice }, 'forecast accuracy rolled up');
  } catch (err) {
    deps.logger.warn({ site: siteId, err }, 'could not roll up forecast accuracy; the next cycle tries again');
  }
}

/** Forgets refused elements not seen for REJECTED_RETENTION_DAYS, with the compaction; a failure waits for the next cycle. */
async function pruneRejected(deps: ForecastDeps): Promise<number> {
  try {
    return await pruneRejectedIntervals(deps.pool, new Date(deps.now().getTime() - REJECTED_RETENTION_DAYS * DAY_MS));
  } catch (err) {
    deps.logger.warn({ err }, 'could not prune rejected_intervals; the next cycle tries again');
    return 0;
  }
}

function isForecast(interval: PriceInterval): boolean {
  return interval.type === 'CurrentInterval' || interval.type === 'ForecastInterval';
}
