/**
 * `price_forecasts`: snapshots of the current and forecast intervals `/prices/current` returned, by fetch
 * time. A snapshot equal to the latest stored one of the same interval is skipped inside the INSERT
 * itself, so each stored row marks a change and repeated polls of a steady forecast write nothing.
 *
 * Because each row marks a change, the forecast in force at any moment T is exactly the latest row with
 * fetched_at <= T. Compaction (`compactForecasts`) relies on that: it keeps those rows for a fixed set of
 * lead times, so the compacted archive still answers "what was forecast L before the interval" exactly.
 */
import type pg from 'pg';
import type { PriceInterval } from '../domain/models.ts';
import { endInstant } from './intervals.ts';
import { withTransaction, type Queryable } from './pool.ts';

export interface SnapshotCounts {
  /** New snapshots written. */
  stored: number;
  /** Intervals whose latest stored snapshot already had these values. */
  unchanged: number;
}

/** The compared columns, in the order each batch element carries them after the key. */
const VALUE_COLUMNS = [
  ['nem_date', 'date'],
  ['interval_type', 'text'],
  ['estimate', 'boolean'],
  ['per_kwh', 'numeric'],
  ['spot_per_kwh', 'numeric'],
  ['renewables', 'numeric'],
  ['spike_status', 'text'],
  ['descriptor', 'text'],
  ['range_min', 'numeric'],
  ['range_max', 'numeric'],
  ['advanced_low', 'numeric'],
  ['advanced_predicted', 'numeric'],
  ['advanced_high', 'numeric'],
] as const;

const KEY_COLUMNS = [
  ['channel_type', 'text'],
  ['nem_time', 'timestamptz'],
  ['duration', 'integer'],
] as const;

const COLUMNS = [...KEY_COLUMNS, ...VALUE_COLUMNS];
const VALUE_NAMES = VALUE_COLUMNS.map(([name]) => name);

const STORE_SNAPSHOTS_SQL = `
  WITH incoming AS (
    SELECT ${COLUMNS.map(([name, type], i) => `(e->>${i})::${type} AS ${name}`).join(', ')}
    FROM jsonb_array_elements($3::jsonb) AS e
  ), changed AS (
    SELECT i.* FROM incoming i
    LEFT JOIN LATERAL (
      SELECT true AS found, ${VALUE_NAMES.map((n) => `f.${n}`).join(', ')}
      FROM price_forecasts f
      WHERE f.site_id = $1 AND f.channel_type = i.channel_type AND f.nem_time = i.nem_time AND f.duration = i.duration
      ORDER BY f.fetched_at DESC
      LIMIT 1
    ) latest ON true
    WHERE latest.found IS NULL
       OR (${VALUE_NAMES.map((n) => `latest.${n}`).join(', ')}) IS DISTINCT FROM (${VALUE_NAMES.map((n) => `i.${n}`).join(', ')})
  )
  INSERT INTO price_forecasts (site_id, fetched_at, ${COLUMNS.map(([name]) => name).join(', ')})
  SELECT $1, $2::timestamptz, ${COLUMNS.map(([name]) => name).join(', ')} FROM changed
  -- The same fetch stored twice (a retried cycle within one clock tick) is not a new snapshot.
  ON CONFLICT DO NOTHING`;

/** Stores the snapshots of `intervals` (current and forecast) fetched at `fetchedAt` that differ from the latest stored ones. */
export async function storeForecastSnapshots(
  db: Queryable,
  siteId: string,
  fetchedAt: Date,
  intervals: readonly PriceInterval[],
): Promise<SnapshotCounts> {
  const byKey = new Map<string, PriceInterval>();
  for (const interval of intervals) byKey.set(`${interval.channelType}|${endInstant(interval)}|${interval.duration}`, interval);
  if (byKey.size === 0) return { stored: 0, unchanged: 0 };
  const batch = [...byKey.values()].map((i) => [
    i.channelType,
    i.nemTime,
    i.duration,
    i.date,
    i.type,
    i.estimate,
    i.perKwh,
    i.spotPerKwh,
    i.renewables,
    i.spikeStatus,
    i.descriptor,
    i.range?.min ?? null,
    i.range?.max ?? null,
    i.advancedPrice?.low ?? null,
    i.advancedPrice?.predicted ?? null,
    i.advancedPrice?.high ?? null,
  ]);
  const result = await db.query(STORE_SNAPSHOTS_SQL, [siteId, fetchedAt, JSON.stringify(batch)]);
  const stored = result.rowCount ?? 0;
  return { stored, unchanged: byKey.size - stored };
}

/** Deletes a site's snapshots of intervals that ended before `before` (FORECAST_RETENTION_DAYS). */
export async function pruneForecasts(db: Queryable, siteId: string, before: Date): Promise<number> {
  const result = await db.query('DELETE FROM price_forecasts WHERE site_id = $1 AND nem_time < $2', [siteId, before]);
  return result.rowCount ?? 0;
}

/**
 * Lead times (minutes before an interval's START) whose vintage compaction keeps: the row in force then,
 * i.e. the latest with fetched_at <= start - lead. Roughly doubling steps cover the 5-minute
 * pre-dispatch (5, 30 min, 1 h), the half-hourly pre-dispatch runs through the day (2, 4, 8, 12 h) and the
 * day-ahead view (24, 36 h; forecasts reach at most 48 h ahead, and the first vintage covers the rest).
 */
export const FORECAST_LEAD_MINUTES: readonly number[] = Object.freeze([5, 30, 60, 120, 240, 480, 720, 1440, 2160]);

/** Interval ends one compaction covers at most: ~0.5 M rows of a 5-minute, 3-channel site, a few seconds. */
export const COMPACTION_SLICE_DAYS = 7;

export interface CompactedSlice {
  /** End of the first interval compacted and of the last one: the slice covers nem_time from..through. */
  from: Date;
  through: Date;
  kept: number;
  deleted: number;
}

/**
 * Where the site's next slice lies: the marker, the site's channel types, and the first interval end after
 * the marker. Channel types come from a loose index scan of the primary key (site, channel, nem_time, ...),
 * so every probe here, and the slice's scan below, is an index range read whatever the archive's size;
 * the BRIN index on nem_time loses its precision once compaction frees space that new rows reuse.
 */
const PLAN_SLICE_SQL = `
  WITH RECURSIVE channels (channel_type) AS (
    SELECT min(channel_type) FROM price_forecasts WHERE site_id = $1
    UNION ALL
    SELECT (SELECT min(f.channel_type) FROM price_forecasts f WHERE f.site_id = $1 AND f.channel_type > c.channel_type)
    FROM channels c WHERE c.channel_type IS NOT NULL
  ), marker AS (
    SELECT compacted_through FROM forecast_compaction WHERE site_id = $1
  )
  SELECT (SELECT compacted_through FROM marker) AS after,
         array_agg(c.channel_type) AS channels,
         min(first.nem_time) AS first
  FROM channels c
  CROSS JOIN LATERAL (
    SELECT min(f.nem_time) AS nem_time FROM price_forecasts f
    WHERE f.site_id = $1 AND f.channel_type = c.channel_type
      AND f.nem_time > coalesce((SELECT compacted_through FROM marker), '-infinity')
  ) first
  WHERE c.channel_type IS NOT NULL`;

/**
 * Deletes, among the snapshots of the site's intervals ending in ($4, $5] ($4 null: from the first), every
 * row that is neither the first nor the last of its interval nor the one in force at one of the lead times
 * $3 before the interval's start. A row is in force at T when fetched_at <= T and the next row of its interval (superseded_at) came
 * after T. Rows are addressed by ctid: the DELETE runs in the same statement, so under the same snapshot.
 */
const COMPACT_SLICE_SQL = `
  WITH ranked AS (
    SELECT f.ctid AS row_id, f.fetched_at,
           f.nem_time - make_interval(mins => f.duration) AS starts_at,
           row_number() OVER w = 1 AS first,
           lead(f.fetched_at) OVER w AS superseded_at
    FROM price_forecasts f
    WHERE f.site_id = $1 AND f.channel_type = ANY ($2::text[]) AND f.nem_time > coalesce($4::timestamptz, '-infinity') AND f.nem_time <= $5
    WINDOW w AS (PARTITION BY f.channel_type, f.nem_time, f.duration ORDER BY f.fetched_at)
  ), doomed AS (
    SELECT r.row_id FROM ranked r
    WHERE NOT r.first AND r.superseded_at IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM unnest($3::int[]) AS l (minutes)
        WHERE r.fetched_at <= r.starts_at - make_interval(mins => l.minutes)
          AND r.superseded_at > r.starts_at - make_interval(mins => l.minutes)
      )
  ), deleted AS (
    DELETE FROM price_forecasts WHERE ctid = ANY (ARRAY(SELECT row_id FROM doomed)) RETURNING 1
  )
  SELECT (SELECT count(*) FROM ranked)::int AS examined, (SELECT count(*) FROM deleted)::int AS deleted`;

/**
 * Compacts the next slice of the site's forecast archive: at most COMPACTION_SLICE_DAYS of interval ends
 * after the site's marker, none later than `through` (intervals that ended FORECAST_COMPACT_AFTER_DAYS
 * ago). Deletions and the marker's advance commit together. Returns null when nothing is due.
 */
export async function compactForecasts(pool: pg.Pool, siteId: string, through: Date): Promise<CompactedSlice | null> {
  return withTransaction(pool, async (tx) => {
    const plan = await tx.query<{ after: Date | null; channels: string[] | null; first: Date | null }>(PLAN_SLICE_SQL, [siteId]);
    const { after, channels, first } = plan.rows[0] ?? { after: null, channels: null, first: null };
    if (channels === null || first === null || first > through) return null;
    const sliceEnd = new Date(Math.min(first.getTime() + COMPACTION_SLICE_DAYS * 24 * 60 * 60 * 1000, through.getTime()));
    const result = await tx.query<{ examined: number; deleted: number }>(COMPACT_SLICE_SQL, [
      siteId,
      channels,
      FORECAST_LEAD_MINUTES,
      after,
      sliceEnd,
    ]);
    await tx.query(
      `INSERT INTO forecast_compaction (site_id, compacted_through) VALUES ($1, $2)
       ON CONFLICT (site_id) DO UPDATE SET compacted_through = excluded.compacted_through, updated_at = now()`,
      [siteId, sliceEnd],
    );
    const { examined, deleted } = result.rows[0]!;
    return { from: first, through: sliceEnd, kept: examined - deleted, deleted };
  });
}
