/**
 * The price right now and what is forecast. `price_data` holds settled (actual) prices; the running
 * interval and everything after it live in the forecast archive (`price_forecasts`, one row per change,
 * by fetch time). So the current interval and the forecast are read from the archive as it stood at `now`
 * (see forecast-archive.ts), and `latestActual` (the last settled price) from `price_data`. A current or
 * forecast row in `price_data` (a database written before the archive existed) still counts when the
 * archive has nothing for that interval.
 */
import { nemIsoInstant } from '../domain/nem-time.ts';
import type { Queryable } from '../db/pool.ts';
import { forecastInForce, type ArchivedPrice, type PriceValues } from './forecast-archive.ts';
import { channelOrder, nemIntervalStart, nemIsoText, nemWallClock } from './nem-sql.ts';

export interface StoredPrice extends PriceValues {
  channelType: string;
  /** Interval start and end, ISO 8601 at +10:00. */
  start: string;
  end: string;
  duration: number;
  /** When the collector fetched this price (archived current and forecast prices); null for settled prices. */
  fetchedAt: string | null;
}

export interface ChannelNow {
  channelType: string;
  /** The interval that contains `now` (a CurrentInterval, or still the forecast), or null. */
  current: StoredPrice | null;
  /** The newest ActualInterval that has started by `now` (the last settled price), or null when none is stored. */
  latestActual: StoredPrice | null;
}

export interface PricesNow {
  now: string;
  channels: ChannelNow[];
  /** Intervals starting after `now` (so after the current one) within the horizon, oldest first, all channels. */
  forecast: StoredPrice[];
  /** The newest fetch the current interval and forecast come from (ISO 8601), or null when nothing is archived. */
  forecastFetchedAt: string | null;
}

/** Amber forecasts reach the end of the next NEM day, so at most 48 hours ahead. */
const FORECAST_HORIZON_HOURS = 48;

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
  const stored = await db.query<{ channel_type: string; current: PriceRow | null; latest: PriceRow | null }>(
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
                 AND p.interval_type <> 'ActualInterval'
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
  const archived = await forecastInForce(db, {
    siteId: args.siteId,
    at: args.now,
    until: new Date(args.now.getTime() + FORECAST_HORIZON_HOURS * 3_600_000),
  });
  const running = (price: ArchivedPrice) => price.startMs <= args.now.getTime();
  const archivedForecast = archived.filter((price) => !running(price));
  // Stored forecast rows are the fallback for a database written before the archive existed.
  const forecast = archivedForecast.length > 0 ? archivedForecast.map(fromArchive) : await storedForecast(db, args.siteId, now);
  const fetched = archived.map((price) => price.fetchedMs);
  return {
    now,
    channels: stored.rows.map((row) => {
      const current = archived.find((price) => price.channelType === row.channel_type && running(price));
      return {
        channelType: row.channel_type,
        current: current ? fromArchive(current) : row.current && fromPriceData(row.current),
        latestActual: row.latest && fromPriceData(row.latest),
      };
    }),
    forecast,
    forecastFetchedAt: fetched.length > 0 ? new Date(Math.max(...fetched)).toISOString() : null,
  };
}

async function storedForecast(db: Queryable, siteId: string, now: string): Promise<StoredPrice[]> {
  const result = await db.query<PriceRow>(
    `SELECT ${PRICE_COLUMNS} FROM price_data p
     WHERE p.site_id = $1
       AND p.nem_time > $2::timestamptz AND p.nem_time <= $2::timestamptz + make_interval(hours => $3)
       AND p.nem_time - make_interval(mins => p.duration) > $2::timestamptz
       AND p.interval_type <> 'ActualInterval'
     ORDER BY p.nem_time, ${channelOrder('p.channel_type')}, p.duration`,
    [siteId, now, FORECAST_HORIZON_HOURS],
  );
  return result.rows.map(fromPriceData);
}

function fromPriceData(row: PriceRow): StoredPrice {
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
    fetchedAt: null,
  };
}

/** An archived price as the read API shows it (Amber's range and advanced price left out). */
export function fromArchive(price: ArchivedPrice): StoredPrice {
  return {
    channelType: price.channelType,
    start: nemIsoInstant(price.startMs),
    end: nemIsoInstant(price.endMs),
    duration: price.duration,
    perKwh: price.perKwh,
    spotPerKwh: price.spotPerKwh,
    renewables: price.renewables,
    spikeStatus: price.spikeStatus,
    descriptor: price.descriptor,
    intervalType: price.intervalType,
    estimate: price.estimate,
    fetchedAt: new Date(price.fetchedMs).toISOString(),
  };
}
