/**
 * A site's history by UTC hour, the way Home Assistant's long-term statistics hold it: energy and billed cost per
 * meter channel, and the settled price per channel type (time-weighted mean, min and max). An interval belongs to
 * the hour its start falls in (Amber's `startTime` is `hh:mm:01`, so truncating it is the floor); intervals never
 * straddle an hour, since 5 and 30 minutes divide it and NEM time is a whole-hour offset from UTC.
 */
import type { Queryable } from '../db/pool.ts';

export interface ChannelHour {
  channelId: string;
  channelType: string;
  /** The hour's start, epoch milliseconds. */
  hourMs: number;
  kwh: number;
  /** Cents as billed: negative for feed-in income. */
  cents: number;
}

export interface PriceHour {
  channelType: string;
  hourMs: number;
  /** c/kWh, as Amber sends it (on feed-in, negative means you are paid). */
  mean: number;
  min: number;
  max: number;
}

/** Every hour of the site's usage from `fromMs` on (the whole archive when null), ordered by channel and hour. */
export async function usageHours(db: Queryable, siteId: string, fromMs: number | null): Promise<ChannelHour[]> {
  const result = await db.query<{ channel_id: string; channel_type: string; hour: Date; kwh: number; cents: number }>(
    `SELECT channel_id, channel_type, date_trunc('hour', start_time, 'UTC') AS hour, sum(kwh)::float8 AS kwh, sum(cost)::float8 AS cents
     FROM usage_data
     WHERE site_id = $1 AND ($2::timestamptz IS NULL OR start_time >= $2::timestamptz)
     GROUP BY channel_id, channel_type, hour
     ORDER BY channel_id, hour`,
    [siteId, fromMs === null ? null : new Date(fromMs)],
  );
  return result.rows.map((row) => ({ channelId: row.channel_id, channelType: row.channel_type, hourMs: row.hour.getTime(), kwh: row.kwh, cents: row.cents }));
}

/** Every hour of settled prices at the site's own interval length, from `fromMs` on, ordered by channel type and hour. */
export async function priceHours(db: Queryable, siteId: string, fromMs: number | null): Promise<PriceHour[]> {
  const result = await db.query<{ channel_type: string; hour: Date; mean: number; min: number; max: number }>(
    `SELECT p.channel_type, date_trunc('hour', p.start_time, 'UTC') AS hour,
            (sum(p.per_kwh * p.duration) / sum(p.duration))::float8 AS mean, min(p.per_kwh)::float8 AS min, max(p.per_kwh)::float8 AS max
     FROM price_data p JOIN sites s ON s.id = p.site_id
     WHERE p.site_id = $1 AND p.interval_type = 'ActualInterval' AND p.duration = s.interval_length
       AND ($2::timestamptz IS NULL OR p.start_time >= $2::timestamptz)
     GROUP BY p.channel_type, hour
     ORDER BY p.channel_type, hour`,
    [siteId, fromMs === null ? null : new Date(fromMs)],
  );
  return result.rows.map((row) => ({ channelType: row.channel_type, hourMs: row.hour.getTime(), mean: row.mean, min: row.min, max: row.max }));
}
