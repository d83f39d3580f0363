/**
 * The price right now and what is forecast, from the stored prices. `price_data` keeps whatever interval
 * types the collector stores: today that is actual prices only, so `current` and `forecast` are empty and
 * `latestActual` (the last settled price, with its time) is what a reader shows. Current and forecast
 * rows, once stored there, are picked up as they are.
 */
import type { Queryable } from '../db/pool.ts';
import { channelOrder, nemIntervalStart, nemIsoText, nemWallClock } from './nem-sql.ts';

export interface StoredPrice {
  channelType: string;
  /** Interval start and end, ISO 8601 at +10:00. */
  start: string;
  end: string;
  duration: number;
  /** c/kWh incl. GST; on feed-in, negative means you are paid. */
  perKwh: number;
  spotPerKwh: number;
  renewables: number;
  spikeStatus: string;
  descriptor: string | null;
  intervalType: string;
  estimate: boolean | null;
}

export interface ChannelNow {
  channelType: string;
  /** The stored interval that contains `now` (an estimate, or a forecast if the collector is behind), or null. */
  current: StoredPrice | null;
  /** The newest ActualInterval that has started by `now` (the last settled price), or null when none is stored. */
  latestActual: StoredPrice | null;
}

export interface PricesNow {
  now: string;
  channels: ChannelNow[];
  /** Intervals starting after `now` (so after the current one) within the horizon, oldest first, all channels. */
  forecast: StoredPrice[];
}

const FORECAST_HORIZON_HOURS = 24;

const PRICE_COLUMNS = `
  p.channel_type, ${nemIsoText(nemIntervalStart('p.'))} AS start, ${nemIsoText(nemWallClock('p.nem_time'))} AS "end",
  p.duration, p.per_kwh::float8 AS per_kwh, p.spot_per_kwh::float8 AS spot_per_kwh, p.renewables::float8 AS renewables,
  p.spike_status, p.descriptor, p.interval_type, p.estimate`;

interface PriceRow {
  channel_type: string;
  start: string;
  end: string;
  duration: number;
  per_kwh: number;
  spot_per_kwh: number;
  renewables: number;
  spike_status: string;
  descriptor: string | null;
  interval_type: string;
  estimate: boolean | null;
}

export async function readPricesNow(db: Queryable, args: { siteId: string; now: Date }): Promise<PricesNow> {
  const now = args.now.toISOString();
  // One indexed lookup per channel type (the primary key leads with site_id, channel_type, nem_time).
  const channels = await db.query<{ channel_type: string; current: PriceRow | null; latest: PriceRow | null }>(
    `WITH channel_types AS (
       SELECT DISTINCT channel_type FROM (
         SELECT c ->> 'type' AS channel_type FROM sites, jsonb_array_elements(channels) AS c WHERE id = $1
       ) AS declared
     )
     SELECT ct.channel_type,
            (SELECT to_jsonb(x) FROM (
               SELECT ${PRICE_COLUMNS} FROM price_data p
               WHERE p.site_id = $1 AND p.channel_type = ct.channel_type
                 AND p.nem_time > $2::timestamptz AND p.nem_time <= $2::timestamptz + interval '1 hour'
                 AND p.nem_time - make_interval(mins => p.duration) <= $2::timestamptz
               ORDER BY p.duration, p.nem_time LIMIT 1) AS x) AS current,
            (SELECT to_jsonb(x) FROM (
               SELECT ${PRICE_COLUMNS} FROM price_data p
               WHERE p.site_id = $1 AND p.channel_type = ct.channel_type
                 AND p.nem_time - make_interval(mins => p.duration) <= $2::timestamptz
                 AND p.interval_type = 'ActualInterval'
               ORDER BY p.nem_time DESC, p.duration LIMIT 1) AS x) AS latest
     FROM channel_types ct
     ORDER BY ${channelOrder('ct.channel_type')}`,
    [args.siteId, now],
  );
  const forecast = await db.query<PriceRow>(
    `SELECT ${PRICE_COLUMNS} FROM price_data p
     WHERE p.site_id = $1
       AND p.nem_time > $2::timestamptz AND p.nem_time <= $2::timestamptz + make_interval(hours => $3)
       AND p.nem_time - make_interval(mins => p.duration) > $2::timestamptz
     ORDER BY p.nem_time, ${channelOrder('p.channel_type')}, p.duration`,
    [args.siteId, now, FORECAST_HORIZON_HOURS],
  );
  return {
    now,
    channels: channels.rows.map((row) => ({
      channelType: row.channel_type,
      current: row.current && toStoredPrice(row.current),
      latestActual: row.latest && toStoredPrice(row.latest),
    })),
    forecast: forecast.rows.map(toStoredPrice),
  };
}

function toStoredPrice(row: PriceRow): StoredPrice {
  return {
    channelType: row.channel_type,
    start: row.start,
    end: row.end,
    duration: row.duration,
    perKwh: row.per_kwh,
    spotPerKwh: row.spot_per_kwh,
    renewables: row.renewables,
    spikeStatus: row.spike_status,
    descriptor: row.descriptor,
    intervalType: row.interval_type,
    estimate: row.estimate,
  };
}
