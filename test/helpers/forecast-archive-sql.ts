/**
 * A battery site's prices, usage and forecast archive generated in SQL at the densities the README gives: a
 * 5-minute site with feed-in; every interval and channel with 6 forecast snapshots (compacted), and over the
 * last 7 days (or `uncompactedDays`) 85 (uncompacted, one every 30 minutes over 42 hours). For the what-if's memory test and bench.
 */
import type pg from 'pg';
import { upsertSites } from '../../src/db/sites-store.ts';
import { addDays, nemDayStart } from '../../src/domain/nem-time.ts';
import { testSite } from '../fidelity/fixtures.ts';

export const ARCHIVE_SITE = testSite('01MEMORYSITE00000000000001', 5, [['E1', 'general'], ['B1', 'feedIn']]);
const UNCOMPACTED_DAYS = 7;

/** Stores the site and its data for the NEM days [from, to]; returns the forecast rows written. */
export async function seedForecastArchive(pool: pg.Pool, from: string, to: string, uncompactedDays = UNCOMPACTED_DAYS): Promise<number> {
  await upsertSites(pool, [ARCHIVE_SITE]);
  const compactedUntil = nemDayStart(addDays(to, -(uncompactedDays - 1)));
  const range = [ARCHIVE_SITE.id, new Date(nemDayStart(from).getTime() + 5 * 60_000), nemDayStart(addDays(to, 1))];
  const ends = `generate_series($2::timestamptz, $3::timestamptz, interval '5 minutes') AS e`;
  const day = `((e - interval '1 second') AT TIME ZONE 'Australia/Brisbane')::date`;
  const price = `20 + 15 * sin(extract(epoch FROM e) / 7200) + CASE WHEN extract(epoch FROM e)::bigint % 9001 < 300 THEN 300 ELSE 0 END`;
  await pool.query(
    `INSERT INTO price_data (site_id, channel_type, nem_time, duration, start_time, end_time, nem_date, per_kwh, spot_per_kwh, renewables, spike_status, interval_type, raw)
     SELECT $1, ch, e, 5, e - interval '299 seconds', e, ${day}, CASE WHEN ch = 'general' THEN ${price} ELSE -5 END, 8, 40, 'none', 'ActualInterval', '{}'
     FROM unnest(ARRAY['general', 'feedIn']) AS ch, ${ends}`,
    range,
  );
  await pool.query(
    `INSERT INTO usage_data (site_id, channel_id, channel_type, nem_time, duration, start_time, end_time, nem_date, kwh, cost, quality, per_kwh, spot_per_kwh, renewables, spike_status, raw)
     SELECT $1, c.id, c.type, e, 5, e - interval '299 seconds', e, ${day}, c.sign * (0.05 + 0.05 * abs(sin(extract(epoch FROM e) / 5000 + c.sign))), 1, 'billable', 20, 8, 40, 'none', '{}'
     FROM (VALUES ('E1', 'general', 1), ('B1', 'feedIn', -1)) AS c (id, type, sign), ${ends}`,
    range,
  );
  const inserted = await pool.query(
    `INSERT INTO price_forecasts (site_id, channel_type, nem_time, duration, fetched_at, nem_date, interval_type, per_kwh, spot_per_kwh, renewables, spike_status)
     SELECT $1, ch, e, 5, e - interval '5 minutes' - k * CASE WHEN e <= $4 THEN interval '7 hours' ELSE interval '30 minutes' END, ${day},
            'ForecastInterval', ${price} + k * 0.1, 8, 40, 'none'
     FROM unnest(ARRAY['general', 'feedIn']) AS ch, ${ends},
          generate_series(0, CASE WHEN e <= $4 THEN 5 ELSE 84 END) AS k`,
    [...range, compactedUntil],
  );
  return inserted.rowCount ?? 0;
}
