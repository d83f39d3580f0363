/**
 * `price_forecasts`: snapshots of the current and forecast intervals `/prices/current` returned, by fetch
 * time. A snapshot equal to the latest stored one of the same interval is skipped inside the INSERT
 * itself, so each stored row marks a change and repeated polls of a steady forecast write nothing.
 */
import type { PriceInterval } from '../amber/models.ts';
import { endInstant } from './intervals.ts';
import type { Queryable } from './pool.ts';

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
