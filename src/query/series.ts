/**
 * Time series for charts and the read API: prices and usage aggregated into NEM-time buckets.
 *
 * Buckets are computed in SQL on the interval START in NEM wall-clock time (see nem-sql.ts), so `1d` is a
 * NEM day and `1mo` a NEM calendar month whatever the server's or the session's time zone. A response is
 * capped at `maxPoints`: without a window the finest one that fits is chosen; a window that is too fine for
 * the range is refused with the windows that would fit, never silently coarsened.
 */
import type { Queryable } from '../db/pool.ts';
import { channelOrder, nemIntervalStart, nemIsoText } from './nem-sql.ts';
import type { SiteInfo } from './site-selection.ts';

export const WINDOWS = ['5m', '30m', '1h', '1d', '1mo'] as const;
export type Window = (typeof WINDOWS)[number];
export const AGGREGATES = ['min', 'max', 'avg', 'sum'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export const DEFAULT_MAX_POINTS = 20_000;

const WINDOW_SPECS: Record<Window, { minutes: number; bucket: (wallClock: string) => string }> = {
  '5m': { minutes: 5, bucket: (t) => `date_bin('5 minutes', ${t}, TIMESTAMP '2000-01-01')` },
  '30m': { minutes: 30, bucket: (t) => `date_bin('30 minutes', ${t}, TIMESTAMP '2000-01-01')` },
  '1h': { minutes: 60, bucket: (t) => `date_trunc('hour', ${t})` },
  '1d': { minutes: 24 * 60, bucket: (t) => `date_trunc('day', ${t})` },
  // The shortest month, so point estimates stay upper bounds.
  '1mo': { minutes: 28 * 24 * 60, bucket: (t) => `date_trunc('month', ${t})` },
};

export interface SeriesRange {
  sites: readonly SiteInfo[];
  /** Channel types (prices) or channel types and meter identifiers (usage); null for all. */
  channels: readonly string[] | null;
  /** Intervals whose start is in [from, to). */
  from: Date;
  to: Date;
}

export type WindowChoice = { ok: true; window: Window; estimatedPoints: number } | { ok: false; problem: string };

/**
 * The window to use: `requested` if its worst-case point count fits in `maxPoints`, else a refusal naming
 * the windows that fit; without a request, the finest window that fits.
 */
export function chooseWindow(
  kind: 'price' | 'usage',
  range: SeriesRange,
  requested: Window | null,
  maxPoints: number = DEFAULT_MAX_POINTS,
): WindowChoice {
  const estimate = (window: Window) => estimatePoints(kind, range, window);
  const fitting = WINDOWS.filter((window) => estimate(window) <= maxPoints);
  if (requested !== null) {
    const points = estimate(requested);
    if (points <= maxPoints) return { ok: true, window: requested, estimatedPoints: points };
    const advice = fitting.length > 0 ? `use window=${fitting[0]} or wider, or a shorter range` : 'use a shorter range';
    return {
      ok: false,
      problem: `window=${requested} over this range could return up to ${points} points, more than the limit of ${maxPoints}: ${advice}`,
    };
  }
  const window = fitting[0];
  if (window === undefined) {
    return { ok: false, problem: `the range is too long even at window=1mo (limit ${maxPoints} points): use a shorter range` };
  }
  return { ok: true, window, estimatedPoints: estimate(window) };
}

/** Worst case: one point per bucket per series, and never more buckets than the site has intervals. */
function estimatePoints(kind: 'price' | 'usage', range: SeriesRange, window: Window): number {
  const minutes = Math.max(0, (range.to.getTime() - range.from.getTime()) / 60_000);
  let points = 0;
  for (const site of range.sites) {
    const step = Math.max(WINDOW_SPECS[window].minutes, site.intervalLength);
    points += seriesOf(kind, site, range.channels) * (Math.ceil(minutes / step) + 1);
  }
  return points;
}

function seriesOf(kind: 'price' | 'usage', site: SiteInfo, channels: readonly string[] | null): number {
  const wanted = site.channels.filter(
    (c) => channels === null || channels.includes(c.type) || (kind === 'usage' && channels.includes(c.identifier)),
  );
  return kind === 'price' ? new Set(wanted.map((c) => c.type)).size : wanted.length;
}

function aggregate(agg: Aggregate, column: string, timeWeighted: boolean): string {
  const expression = {
    min: `min(${column})`,
    max: `max(${column})`,
    sum: `sum(${column})`,
    // A price holds for its interval's duration, so a bucket mixing 5- and 30-minute rows is averaged over time.
    avg: timeWeighted ? `sum(${column} * duration) / sum(duration)` : `avg(${column})`,
  }[agg];
  return `round((${expression})::numeric, 5)::float8`;
}

export interface PricePoint {
  /** Bucket start, ISO 8601 at +10:00. */
  start: string;
  perKwh: number;
  spotPerKwh: number;
  renewables: number;
  intervals: number;
  spikes: number;
  potentialSpikes: number;
  /** Intervals in the bucket that are still forecasts. */
  forecasts: number;
}

export interface PriceSeries {
  siteId: string;
  channelType: string;
  points: PricePoint[];
}

export async function priceSeries(db: Queryable, range: SeriesRange, window: Window, agg: Aggregate): Promise<PriceSeries[]> {
  const bucket = WINDOW_SPECS[window].bucket(nemIntervalStart());
  const result = await db.query<{
    site_id: string;
    channel_type: string;
    start: string;
    per_kwh: number;
    spot_per_kwh: number;
    renewables: number;
    intervals: number;
    spikes: number;
    potential_spikes: number;
    forecasts: number;
  }>(
    `SELECT site_id, channel_type, ${nemIsoText('bucket')} AS start,
            ${aggregate(agg, 'per_kwh', true)} AS per_kwh,
            ${aggregate(agg, 'spot_per_kwh', true)} AS spot_per_kwh,
            ${aggregate(agg, 'renewables', true)} AS renewables,
            count(*)::int AS intervals,
            count(*) FILTER (WHERE spike_status = 'spike')::int AS spikes,
            count(*) FILTER (WHERE spike_status = 'potential')::int AS potential_spikes,
            count(*) FILTER (WHERE interval_type = 'ForecastInterval')::int AS forecasts
     FROM (
       SELECT site_id, channel_type, duration, per_kwh, spot_per_kwh, renewables, spike_status, interval_type,
              ${bucket} AS bucket
       FROM price_data
       WHERE ${rangeCondition('channel_type = ANY($2::text[])')}
     ) AS intervals
     GROUP BY site_id, channel_type, bucket
     ORDER BY site_id, ${channelOrder('channel_type')}, bucket`,
    rangeParams(range),
  );
  return groupSeries(
    result.rows,
    (row) => `${row.site_id}|${row.channel_type}`,
    (row) => ({ siteId: row.site_id, channelType: row.channel_type, points: [] as PricePoint[] }),
    (row) => ({
      start: row.start,
      perKwh: row.per_kwh,
      spotPerKwh: row.spot_per_kwh,
      renewables: row.renewables,
      intervals: row.intervals,
      spikes: row.spikes,
      potentialSpikes: row.potential_spikes,
      forecasts: row.forecasts,
    }),
  );
}

export interface UsagePoint {
  start: string;
  kwh: number;
  /** Cents incl. GST as stored: negative for feed-in income. */
  costCents: number;
  intervals: number;
  estimated: number;
  billable: number;
}

export interface UsageSeries {
  siteId: string;
  channelId: string;
  channelType: string;
  points: UsagePoint[];
}

export async function usageSeries(db: Queryable, range: SeriesRange, window: Window, agg: Aggregate): Promise<UsageSeries[]> {
  const bucket = WINDOW_SPECS[window].bucket(nemIntervalStart());
  const result = await db.query<{
    site_id: string;
    channel_id: string;
    channel_type: string;
    start: string;
    kwh: number;
    cost_cents: number;
    intervals: number;
    estimated: number;
    billable: number;
  }>(
    `SELECT site_id, channel_id, channel_type, ${nemIsoText('bucket')} AS start,
            ${aggregate(agg, 'kwh', false)} AS kwh,
            ${aggregate(agg, 'cost', false)} AS cost_cents,
            count(*)::int AS intervals,
            count(*) FILTER (WHERE quality = 'estimated')::int AS estimated,
            count(*) FILTER (WHERE quality = 'billable')::int AS billable
     FROM (
       SELECT site_id, channel_id, channel_type, duration, kwh, cost, quality, ${bucket} AS bucket
       FROM usage_data
       WHERE ${rangeCondition('(channel_type = ANY($2::text[]) OR channel_id = ANY($2::text[]))')}
     ) AS intervals
     GROUP BY site_id, channel_id, channel_type, bucket
     ORDER BY site_id, ${channelOrder('channel_type')}, channel_id, bucket`,
    rangeParams(range),
  );
  return groupSeries(
    result.rows,
    (row) => `${row.site_id}|${row.channel_id}`,
    (row) => ({ siteId: row.site_id, channelId: row.channel_id, channelType: row.channel_type, points: [] as UsagePoint[] }),
    (row) => ({
      start: row.start,
      kwh: row.kwh,
      costCents: row.cost_cents,
      intervals: row.intervals,
      estimated: row.estimated,
      billable: row.billable,
    }),
  );
}

/**
 * Parameters $1 sites, $2 channels (or null), $3 from, $4 to. The first nem_time bounds are on the
 * primary key (an index range per site and channel); the exact test is on the interval start.
 */
function rangeCondition(channelMatch: string): string {
  return `site_id = ANY($1::text[])
          AND ($2::text[] IS NULL OR ${channelMatch})
          AND nem_time > $3::timestamptz AND nem_time <= $4::timestamptz + interval '1 hour'
          AND nem_time - make_interval(mins => duration) >= $3::timestamptz
          AND nem_time - make_interval(mins => duration) < $4::timestamptz`;
}

function rangeParams(range: SeriesRange): unknown[] {
  return [range.sites.map((s) => s.id), range.channels, range.from.toISOString(), range.to.toISOString()];
}

/** Rows arrive ordered by series, then time; consecutive rows with one key form one series. */
function groupSeries<Row, Series extends { points: Point[] }, Point>(
  rows: readonly Row[],
  keyOf: (row: Row) => string,
  newSeries: (row: Row) => Series,
  pointOf: (row: Row) => Point,
): Series[] {
  const series: Series[] = [];
  let key: string | null = null;
  for (const row of rows) {
    if (keyOf(row) !== key) {
      key = keyOf(row);
      series.push(newSeries(row));
    }
    series.at(-1)?.points.push(pointOf(row));
  }
  return series;
}
