/**
 * Reading the forecast archive (`price_forecasts`) as it stood at a moment: the forecast "in force" at T
 * for an interval is its latest snapshot fetched at or before T (each stored row marks a change, see
 * db/forecast-store.ts), so the archive replays exactly what a reader saw then.
 *
 * At resolution 5 the API sends 5-minute intervals for about an hour and 30-minute ones after that, so an
 * interval first forecast at 30 minutes is later forecast as six 5-minute ones, and the older 30-minute
 * row stays in the archive. Where intervals of one channel overlap, the newer fetch wins (a tie goes to
 * the finer interval): that is what the latest fetch said.
 */
import type { ForecastStep } from '../battery/forecast-driven.ts';
import type { Queryable } from '../db/pool.ts';

/** What a stored price says about its interval, settled or forecast. */
export interface PriceValues {
  /** c/kWh incl. GST; on feed-in, negative means you are paid. */
  perKwh: number;
  spotPerKwh: number;
  renewables: number;
  spikeStatus: string;
  descriptor: string | null;
  intervalType: string;
  estimate: boolean | null;
}

/** Amber's range and advanced price as archived with a forecast (null where Amber sent none). */
export interface ArchivedExtras {
  range: { min: number; max: number } | null;
  advancedPrice: { low: number; predicted: number | null; high: number } | null;
}

export interface ArchivedPrice extends Snapshot, PriceValues, ArchivedExtras {}

interface ArchiveRow {
  channel_type: string;
  nem_time: Date;
  duration: number;
  fetched_at: Date;
  per_kwh: number;
  spot_per_kwh: number;
  renewables: number;
  spike_status: string;
  descriptor: string | null;
  interval_type: string;
  estimate: boolean | null;
  range_min: number | null;
  range_max: number | null;
  advanced_low: number | null;
  advanced_predicted: number | null;
  advanced_high: number | null;
}

/**
 * The site's archived current and forecast prices in force at `at`, for intervals that have not ended by
 * `at` and end by `until`: every channel, overlaps resolved, ordered by start then channel.
 */
export async function forecastInForce(db: Queryable, args: { siteId: string; at: Date; until: Date }): Promise<ArchivedPrice[]> {
  // The primary key (site_id, channel_type, nem_time, duration, fetched_at) serves each channel's range scan.
  const result = await db.query<ArchiveRow>(
    `SELECT DISTINCT ON (f.channel_type, f.nem_time, f.duration)
            f.channel_type, f.nem_time, f.duration, f.fetched_at, f.per_kwh::float8 AS per_kwh,
            f.spot_per_kwh::float8 AS spot_per_kwh, f.renewables::float8 AS renewables, f.spike_status,
            f.descriptor, f.interval_type, f.estimate, f.range_min::float8 AS range_min, f.range_max::float8 AS range_max,
            f.advanced_low::float8 AS advanced_low, f.advanced_predicted::float8 AS advanced_predicted, f.advanced_high::float8 AS advanced_high
     FROM price_forecasts f
     WHERE f.site_id = $1 AND f.fetched_at <= $2 AND f.nem_time > $2 AND f.nem_time <= $3
     ORDER BY f.channel_type, f.nem_time, f.duration, f.fetched_at DESC`,
    [args.siteId, args.at, args.until],
  );
  const prices = result.rows.map(
    (row): ArchivedPrice => ({
      channelType: row.channel_type,
      startMs: row.nem_time.getTime() - row.duration * 60_000,
      endMs: row.nem_time.getTime(),
      duration: row.duration,
      fetchedMs: row.fetched_at.getTime(),
      perKwh: row.per_kwh,
      spotPerKwh: row.spot_per_kwh,
      renewables: row.renewables,
      spikeStatus: row.spike_status,
      descriptor: row.descriptor,
      intervalType: row.interval_type,
      estimate: row.estimate,
      range: row.range_min === null || row.range_max === null ? null : { min: row.range_min, max: row.range_max },
      advancedPrice:
        row.advanced_low === null || row.advanced_high === null ? null : { low: row.advanced_low, predicted: row.advanced_predicted, high: row.advanced_high },
    }),
  );
  return withoutOverlaps(prices).sort((a, b) => a.startMs - b.startMs || channelRank(a.channelType) - channelRank(b.channelType));
}

/** One archived interval as overlap resolution sees it. */
export interface Snapshot {
  channelType: string;
  startMs: number;
  endMs: number;
  duration: number;
  fetchedMs: number;
}

/** Longest interval the API sends; overlapping intervals start less than this apart. */
const LONGEST_INTERVAL_MS = 30 * 60_000;

/** Drops every interval that overlaps one of its channel fetched later (or as late, and finer). */
function withoutOverlaps<T extends Snapshot>(prices: readonly T[]): T[] {
  const wins = (a: T, b: T) => a.fetchedMs > b.fetchedMs || (a.fetchedMs === b.fetchedMs && a.duration < b.duration);
  const byChannel = new Map<string, T[]>();
  for (const price of prices) {
    const list = byChannel.get(price.channelType) ?? [];
    list.push(price);
    byChannel.set(price.channelType, list);
  }
  const kept: T[] = [];
  for (const list of byChannel.values()) {
    list.sort((a, b) => a.startMs - b.startMs || a.duration - b.duration);
    for (let i = 0; i < list.length; i++) {
      const price = list[i]!;
      let beaten = false;
      for (let j = i - 1; j >= 0 && !beaten && list[j]!.startMs > price.startMs - LONGEST_INTERVAL_MS; j--) {
        beaten = list[j]!.endMs > price.startMs && wins(list[j]!, price);
      }
      for (let j = i + 1; j < list.length && !beaten && list[j]!.startMs < price.endMs; j++) beaten = wins(list[j]!, price);
      if (!beaten) kept.push(price);
    }
  }
  return kept;
}

/** The API's order of channel types: general, controlled load, feed-in, then anything new. */
export function channelRank(channelType: string): number {
  const rank = ['general', 'controlledLoad', 'feedIn'].indexOf(channelType);
  return rank === -1 ? 99 : rank;
}

/**
 * The forecast as plan steps from the interval containing `atMs` on: general prices, each with the
 * feed-in price of the same interval (0 for a site without feed-in), stopping at the first gap or, on a
 * site with feed-in, at the first interval without a feed-in price. Empty when nothing covers `atMs`.
 */
export function priceSteps(prices: readonly (Snapshot & { perKwh: number })[], hasFeedIn: boolean, atMs: number): ForecastStep[] {
  const general = prices.filter((p) => p.channelType === 'general').sort((a, b) => a.startMs - b.startMs);
  // By start, then end: a plan is made from this thousands of times in a what-if, so no string keys.
  const feedIn = new Map<number, Map<number, number>>();
  for (const p of prices) {
    if (p.channelType !== 'feedIn') continue;
    const byEnd = feedIn.get(p.startMs) ?? new Map<number, number>();
    byEnd.set(p.endMs, p.perKwh);
    feedIn.set(p.startMs, byEnd);
  }
  const steps: ForecastStep[] = [];
  let expectedStart: number | null = null;
  for (const price of general) {
    if (expectedStart === null) {
      if (price.endMs <= atMs) continue;
      if (price.startMs > atMs) break;
    } else if (price.startMs !== expectedStart) {
      break;
    }
    const feedInPrice = hasFeedIn ? feedIn.get(price.startMs)?.get(price.endMs) : 0;
    if (feedInPrice === undefined) break;
    steps.push({ startMs: price.startMs, endMs: price.endMs, importPrice: price.perKwh, feedInPrice });
    expectedStart = price.endMs;
  }
  return steps;
}

/** Amber forecasts reach the end of the next NEM day: never more than 48 hours ahead. */
export const FORECAST_REACH_MS = 48 * 3_600_000;

/**
 * A site's archived general and feed-in forecasts for a window of time, held in memory so the forecast in
 * force at any instant of it can be replayed without a query per decision (see battery-forecasts.ts).
 */
export class ForecastReplay {
  private readonly snapshots: Array<Snapshot & { perKwh: number }>;
  /**
   * Per channel and duration: interval keys sorted by end, each with its snapshots' indexes sorted by fetch
   * time, and the longest lead (end minus first fetch) among them. An interval ending more than that after T
   * has nothing fetched by T: 5-minute intervals are forecast only within the hour before them, so a decision
   * looks at the next ~20 of them, not all 576 of the 48 hours ahead.
   */
  private readonly keys = new Map<string, { maxLeadMs: number; list: Array<{ endMs: number; rows: number[] }> }>();
  private readonly hasFeedIn: boolean;

  constructor(snapshots: Array<Snapshot & { perKwh: number }>, hasFeedIn: boolean) {
    this.snapshots = snapshots;
    this.hasFeedIn = hasFeedIn;
    // Keyed by channel, then duration, then end: no string built per row (a window holds up to 60,000).
    const byGroup = new Map<string, Map<number, Map<number, number[]>>>();
    snapshots.forEach((s, i) => {
      const durations = byGroup.get(s.channelType) ?? byGroup.set(s.channelType, new Map()).get(s.channelType)!;
      const ends = durations.get(s.duration) ?? durations.set(s.duration, new Map()).get(s.duration)!;
      const rows = ends.get(s.endMs);
      if (rows === undefined) ends.set(s.endMs, [i]);
      else rows.push(i);
    });
    for (const [channel, durations] of byGroup) {
      for (const [duration, ends] of durations) {
        const group = { maxLeadMs: 0, list: [] as Array<{ endMs: number; rows: number[] }> };
        for (const [endMs, rows] of ends) {
          rows.sort((a, b) => snapshots[a]!.fetchedMs - snapshots[b]!.fetchedMs);
          group.list.push({ endMs, rows });
          group.maxLeadMs = Math.max(group.maxLeadMs, endMs - snapshots[rows[0]!]!.fetchedMs);
        }
        group.list.sort((a, b) => a.endMs - b.endMs);
        this.keys.set(`${channel}|${duration}`, group);
      }
    }
  }

  /** The plan steps of the forecast in force at `atMs` (see priceSteps). */
  stepsAt(atMs: number): ForecastStep[] {
    const inForce: Array<Snapshot & { perKwh: number }> = [];
    for (const { maxLeadMs, list } of this.keys.values()) {
      const lastEndMs = atMs + Math.min(FORECAST_REACH_MS, maxLeadMs);
      for (let k = firstEndingAfter(list, atMs); k < list.length && list[k]!.endMs <= lastEndMs; k++) {
        const row = latestFetchedBy(list[k]!.rows, this.snapshots, atMs);
        if (row !== undefined) inForce.push(this.snapshots[row]!);
      }
    }
    return priceSteps(withoutOverlaps(inForce), this.hasFeedIn, atMs);
  }
}

function firstEndingAfter(list: ReadonlyArray<{ endMs: number }>, atMs: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.endMs > atMs) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The last of `rows` (sorted by fetch time) fetched by `atMs`: a binary search, as an uncompacted interval has hundreds. */
function latestFetchedBy(rows: readonly number[], snapshots: ReadonlyArray<Snapshot>, atMs: number): number | undefined {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (snapshots[rows[mid]!]!.fetchedMs > atMs) hi = mid;
    else lo = mid + 1;
  }
  return lo === 0 ? undefined : rows[lo - 1];
}
