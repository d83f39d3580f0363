/**
 * A battery site's prices, usage and forecast archive generated in SQL, shaped as the collector stores what the
 * API sends and at the densities the README gives: a 5-minute site with feed-in, polled every 5 minutes. Each
 * poll at resolution 5 sends 5-minute intervals for about the next hour (up to the first half-hour boundary an
 * hour past the running interval) and 30-minute ones after it, to the end of the next NEM day (API-NOTES §2.3,
 * test/fake-amber's `currentSlots`). A forecast changes on nearly every poll, so uncompacted (the last 7 days)
 * every poll is a row: 13 to 18 per 5-minute interval, about 400 per 30-minute one, ~24,000 rows a day per
 * channel, the README's 73,000 a day for three channels. Older intervals are compacted as the collector does:
 * the first and last snapshot and the ones in force 5 min, 30 min, 1, 2, 4, 8, 12, 24 and 36 hours before the
 * interval's start, about 5 rows per interval and channel (`uncompactedDays` moves the line). For the what-if's
 * memory test, the forecast-accuracy roll-up test and the benches.
 */
import type pg from 'pg';
import { upsertSites } from '../../src/db/sites-store.ts';
import { addDays, nemDayStart } from '../../src/domain/nem-time.ts';
import { testSite } from '../fidelity/fixtures.ts';

export const ARCHIVE_SITE = testSite('01MEMORYSITE00000000000001', 5, [['E1', 'general'], ['B1', 'feedIn']]);
const UNCOMPACTED_DAYS = 7;
/** The leads (before the interval's start) whose snapshot in force compaction keeps, as the README lists them. */
const COMPACTION_LEADS = ['5 minutes', '30 minutes', '1 hour', '2 hours', '4 hours', '8 hours', '12 hours', '24 hours', '36 hours'];

/** Stores the site and its data for the NEM days [from, to]; returns the forecast rows written. */
export async function seedForecastArchive(pool: pg.Pool, from: string, to: string, uncompactedDays = UNCOMPACTED_DAYS): Promise<number> {
  await upsertSites(pool, [ARCHIVE_SITE]);
  const client = await pool.connect();
  try {
    return await seedRows(client, from, to, uncompactedDays);
  } finally {
    await client.query('RESET statement_timeout; RESET session_replication_role');
    client.release();
  }
}

async function seedRows(client: pg.PoolClient, from: string, to: string, uncompactedDays: number): Promise<number> {
  await client.query('SET statement_timeout = 0');
  // Every row names the site stored just before, so the foreign keys' per-row checks (triggers, which a replica
  // session does not fire; the tables have no other insert triggers) would only spend a third of the seed.
  await client.query('SET session_replication_role = replica');
  const compactedUntil = nemDayStart(addDays(to, -(uncompactedDays - 1)));
  const range = [ARCHIVE_SITE.id, new Date(nemDayStart(from).getTime() + 5 * 60_000), nemDayStart(addDays(to, 1))];
  const ends = `generate_series($2::timestamptz, $3::timestamptz, interval '5 minutes') AS e`;
  const day = `((e - interval '1 second') AT TIME ZONE 'Australia/Brisbane')::date`;
  const priceAt = (end: string) =>
    `20 + 15 * sin(extract(epoch FROM ${end}) / 7200) + CASE WHEN extract(epoch FROM ${end})::bigint % 9001 < 300 THEN 300 ELSE 0 END`;
  await client.query(
    `INSERT INTO price_data (site_id, channel_type, nem_time, duration, start_time, end_time, nem_date, per_kwh, spot_per_kwh, renewables, spike_status, interval_type, raw)
     SELECT $1, ch, e, 5, e - interval '299 seconds', e, ${day}, CASE WHEN ch = 'general' THEN ${priceAt('e')} ELSE -5 END, 8, 40, 'none', 'ActualInterval', '{}'
     FROM unnest(ARRAY['general', 'feedIn']) AS ch, ${ends}`,
    range,
  );
  await client.query(
    `INSERT INTO usage_data (site_id, channel_id, channel_type, nem_time, duration, start_time, end_time, nem_date, kwh, cost, quality, per_kwh, spot_per_kwh, renewables, spike_status, raw)
     SELECT $1, c.id, c.type, e, 5, e - interval '299 seconds', e, ${day}, c.sign * (0.05 + 0.05 * abs(sin(extract(epoch FROM e) / 5000 + c.sign))), 1, 'billable', 20, 8, 40, 'none', '{}'
     FROM (VALUES ('E1', 'general', 1), ('B1', 'feedIn', -1)) AS c (id, type, sign), ${ends}`,
    range,
  );
  // Every interval the polls sent, with the fetches that sent it: [first, last], every 5 minutes.
  //  - 5-minute interval ending e: from the poll whose 5-minute span first reaches it (an hour before the last
  //    half-hour boundary before e) to the poll at its start.
  //  - 30-minute interval ending E (a half-hour boundary): from the first poll whose horizon (the end of the next
  //    NEM day) reaches it, until the polls' 5-minute span reaches its start (E − 95 min).
  // A 30-minute interval's price is the mean of its six 5-minute ones, as it settles.
  const halfHourPrice = [0, 5, 10, 15, 20, 25].map((m) => priceAt(`(e - interval '${m} minutes')`)).join(' + ');
  const intervals = `
    SELECT e AS nem_time, 5 AS duration, ${day} AS nem_date, ${priceAt('e')} AS price,
           to_timestamp(floor((extract(epoch FROM e) - 1) / 1800) * 1800) - interval '60 minutes' AS first_fetch, e - interval '5 minutes' AS last_fetch
    FROM ${ends}
    UNION ALL
    SELECT e, 30, ${day}, (${halfHourPrice}) / 6, ((${day} - 1)::timestamp AT TIME ZONE 'Australia/Brisbane'), e - interval '95 minutes'
    FROM ${ends} WHERE extract(epoch FROM e)::bigint % 1800 = 0`;
  // Each fetch a little off, more so the further ahead: a forecast that changes on every poll.
  const row = (fetch: string) =>
    `SELECT $1, ch, i.nem_time, i.duration, ${fetch}, i.nem_date, 'ForecastInterval',
            CASE WHEN ch = 'general' THEN i.price ELSE -5 END + extract(epoch FROM i.nem_time - ${fetch}) / 36000, 8, 40, 'none'`;
  const columns = `INSERT INTO price_forecasts (site_id, channel_type, nem_time, duration, fetched_at, nem_date, interval_type, per_kwh, spot_per_kwh, renewables, spike_status)`;
  const uncompacted = await client.query(
    `${columns}
     ${row('f')}
     FROM (${intervals}) i, unnest(ARRAY['general', 'feedIn']) AS ch, generate_series(i.first_fetch, i.last_fetch, interval '5 minutes') AS f
     WHERE i.nem_time > $4`,
    [...range, compactedUntil],
  );
  const start = `(i.nem_time - make_interval(mins => i.duration))`;
  const inForce = COMPACTION_LEADS.map((lead) => `least(i.last_fetch, ${start} - interval '${lead}')`).join(', ');
  const compacted = await client.query(
    `${columns}
     ${row('f')}
     FROM (${intervals}) i, unnest(ARRAY['general', 'feedIn']) AS ch,
          LATERAL (SELECT DISTINCT f FROM unnest(ARRAY[i.first_fetch, i.last_fetch, ${inForce}]) AS f WHERE f >= i.first_fetch) kept
     WHERE i.nem_time <= $4`,
    [...range, compactedUntil],
  );
  return (uncompacted.rowCount ?? 0) + (compacted.rowCount ?? 0);
}
