/**
 * The daily roll-up of forecast accuracy answers exactly as the direct computation: a generated archive
 * (5-minute and 30-minute forecasts, advanced ranges, spikes with and without warning) reported over a range
 * with partial days at both ends, with nothing, part and all of it rolled up. Also: a day is rolled up only
 * once final (compacted when compaction is on), a slice at a time, and the breakdown by time of day adds up to
 * the lead buckets; and the real collector rolls days up by itself as its cycles go by.
 */
import { describe, expect, it } from 'vitest';
import { ROLLUP_SLICE_DAYS, rollUpForecastAccuracy } from '../../src/db/accuracy-rollup.ts';
import { addDays } from '../../src/domain/nem-time.ts';
import { forecastAccuracy, type AccuracyFilter } from '../../src/query/forecast-accuracy.ts';
import { startHarness } from '../helpers/collector-harness.ts';
import { databaseForFile } from '../helpers/database.ts';
import { ARCHIVE_SITE as SITE, seedForecastArchive } from '../helpers/forecast-archive-sql.ts';

const FIRST_DAY = '2025-10-01';
const LAST_DAY = '2025-10-12';
const FAR_FUTURE = new Date('2030-01-01T00:00:00Z');

/** The generated archive, with what it lacks for this test: spikes, warnings and advanced prices. */
async function seed(pool: import('pg').Pool): Promise<void> {
  // One uncompacted day (a snapshot per poll) is enough to mix both densities, and keeps the seed quick.
  await seedForecastArchive(pool, FIRST_DAY, LAST_DAY, 1);
  await pool.query(`UPDATE price_data SET spike_status = 'spike' WHERE per_kwh > 200`);
  await pool.query(
    `UPDATE price_forecasts SET spike_status = CASE WHEN per_kwh > 200 AND extract(minute FROM fetched_at)::int % 10 < 5 THEN 'potential' ELSE 'none' END,
            advanced_predicted = per_kwh - 0.37, advanced_low = per_kwh - 0.05 * (extract(epoch FROM nem_time)::bigint / 300 % 10), advanced_high = per_kwh + 1.5
     WHERE extract(epoch FROM fetched_at)::bigint / 300 % 3 <> 0`,
  );
  // A 30-minute forecast of every half-hour, 3 and 20 hours ahead, compared with the mean of its six settled prices,
  // with a warning of a spike at 07:00 (the generator's own 30-minute forecasts carry none): where the generator
  // already holds a forecast fetched at that moment, this one replaces it.
  await pool.query(
    `INSERT INTO price_forecasts (site_id, channel_type, nem_time, duration, fetched_at, nem_date, interval_type, per_kwh, spot_per_kwh, renewables, spike_status, advanced_predicted)
     SELECT $1, 'general', e, 30, e - interval '30 minutes' - lead, ((e - interval '1 second') AT TIME ZONE 'Australia/Brisbane')::date, 'ForecastInterval',
            20 + 10 * cos(extract(epoch FROM e) / 5000), 8, 40, CASE WHEN extract(hour FROM e) = 7 THEN 'potential' ELSE 'none' END, 21
     FROM generate_series($2::timestamptz, $3::timestamptz, interval '30 minutes') AS e, unnest(ARRAY[interval '3 hours', interval '20 hours']) AS lead
     ON CONFLICT (site_id, channel_type, nem_time, duration, fetched_at) DO UPDATE
       SET per_kwh = excluded.per_kwh, spike_status = excluded.spike_status, advanced_predicted = excluded.advanced_predicted`,
    [SITE.id, '2025-10-01T00:30:00+10:00', '2025-10-13T00:00:00+10:00'],
  );
}

const db = databaseForFile({ seed });

/** Partial days at both ends, so the report mixes direct and rolled-up figures. */
const FILTER: AccuracyFilter = {
  siteId: SITE.id,
  from: new Date('2025-10-02T13:17:00+10:00'),
  to: new Date('2025-10-11T05:00:00+10:00'),
  channels: null,
  byTimeOfDay: true,
};

describe('the forecast accuracy roll-up', () => {
  it('answers exactly as the direct computation, with none, part and all of the range rolled up', async () => {
    const direct = await forecastAccuracy(db.pool, { ...FILTER, direct: true });
    expect(direct.buckets.length).toBeGreaterThan(6);
    expect(direct.spikeWarnings[0]!.spikes).toBeGreaterThan(0);
    expect(direct.spikeWarnings[0]!.warned).toBeGreaterThan(0);
    expect(direct.buckets.some((b) => b.range.coverage !== null && b.range.coverage > 0 && b.range.coverage < 1)).toBe(true);
    expect(await forecastAccuracy(db.pool, FILTER)).toEqual(direct); // nothing rolled up yet

    // Ready up to 2025-10-06: part of the range from the roll-up, the rest direct.
    expect(await rollUpForecastAccuracy(db.pool, SITE.id, new Date('2025-10-07T00:30:00+10:00'), false)).toEqual({ fromDay: FIRST_DAY, throughDay: '2025-10-06' });
    expect(await forecastAccuracy(db.pool, FILTER)).toEqual(direct);

    // Everything final: the whole days of the range come from the roll-up.
    const allFinal = new Date('2025-10-13T00:30:00+10:00');
    expect(await rollUpForecastAccuracy(db.pool, SITE.id, allFinal, false)).toEqual({ fromDay: '2025-10-07', throughDay: LAST_DAY });
    expect(await rollUpForecastAccuracy(db.pool, SITE.id, allFinal, false)).toBeNull();
    expect(await forecastAccuracy(db.pool, FILTER)).toEqual(direct);
    const days = await db.pool.query<{ n: number }>(`SELECT count(DISTINCT day)::int AS n FROM forecast_accuracy_daily WHERE site_id = $1`, [SITE.id]);
    expect(days.rows[0]!.n).toBe(12);

    // A channel filter and whole days exactly.
    const whole = { ...FILTER, from: new Date('2025-10-05T00:00:00+10:00'), to: new Date('2025-10-10T00:00:00+10:00'), channels: ['feedIn'] };
    expect(await forecastAccuracy(db.pool, whole)).toEqual(await forecastAccuracy(db.pool, { ...whole, direct: true }));
  });

  it('the breakdown by time of day adds up to the lead buckets', async () => {
    const report = await forecastAccuracy(db.pool, FILTER);
    for (const channel of ['general', 'feedIn']) {
      const byHour = report.timeOfDay!.filter((h) => h.channelType === channel);
      const byLead = report.buckets.filter((b) => b.channelType === channel);
      expect(byHour.map((h) => h.hour)).toEqual([...Array(24).keys()]);
      const total = (rows: ReadonlyArray<{ forecasts: number; perKwh: { count: number } }>) => rows.reduce((sum, r) => sum + r.forecasts, 0);
      expect(total(byHour)).toBe(total(byLead));
    }
  });

  it('waits for compaction when compaction is on, and rolls a backlog up a slice at a time', async () => {
    await db.pool.query(`DELETE FROM forecast_accuracy_rollup WHERE site_id = $1`, [SITE.id]);
    expect(await rollUpForecastAccuracy(db.pool, SITE.id, FAR_FUTURE, true)).toBeNull(); // never compacted
    await db.pool.query(`INSERT INTO forecast_compaction (site_id, compacted_through) VALUES ($1, '2025-10-04T00:30:00+10:00')`, [SITE.id]);
    expect(await rollUpForecastAccuracy(db.pool, SITE.id, FAR_FUTURE, true)).toEqual({ fromDay: FIRST_DAY, throughDay: '2025-10-03' });
    await db.pool.query(`UPDATE forecast_compaction SET compacted_through = '2030-01-01Z' WHERE site_id = $1`, [SITE.id]);
    // A backlog: one slice of ROLLUP_SLICE_DAYS; the days past the seed hold neither prices nor forecasts, nothing to wait for.
    expect(await rollUpForecastAccuracy(db.pool, SITE.id, FAR_FUTURE, true)).toEqual({ fromDay: '2025-10-04', throughDay: addDays('2025-10-04', ROLLUP_SLICE_DAYS - 1) });
    // A day with forecasts whose settled prices are missing stops the next slice before it.
    await db.pool.query(`DELETE FROM forecast_accuracy_rollup WHERE site_id = $1`, [SITE.id]);
    await db.pool.query(`DELETE FROM price_data WHERE site_id = $1 AND channel_type = 'general' AND nem_date = '2025-10-08' AND extract(minute FROM nem_time) = 5`, [SITE.id]);
    expect(await rollUpForecastAccuracy(db.pool, SITE.id, FAR_FUTURE, true)).toEqual({ fromDay: FIRST_DAY, throughDay: '2025-10-07' });
    expect(await rollUpForecastAccuracy(db.pool, SITE.id, FAR_FUTURE, true)).toBeNull();
    expect(await forecastAccuracy(db.pool, FILTER)).toEqual(await forecastAccuracy(db.pool, { ...FILTER, direct: true }));
  });
});

describe('the collector rolls forecast accuracy up after its cycles', () => {
  it('a week and a half later, the compacted days are rolled up and report as computed directly', async () => {
    const start = new Date('2025-11-20T03:00:00Z');
    const h = await startHarness({ now: start });
    try {
      const collector = h.newCollector({ historicalStartDate: '2025-11-19', forecastCompactAfterDays: 1 });
      await collector.discoverSites(AbortSignal.timeout(10_000));
      await collector.backfill(AbortSignal.timeout(60_000));
      // Forecasts archived every three hours for a day and a half.
      for (let hours = 0; hours <= 36; hours += 3) {
        h.clock.now = new Date(start.getTime() + hours * 3_600_000);
        await collector.runCycle(AbortSignal.timeout(30_000));
      }
      // Ten days on, the first cycle archives and compacts before it fetches the missed days' prices, so it rolls
      // nothing up that lacks them; the next one, five minutes later, rolls the final days up.
      h.clock.now = new Date(start.getTime() + 10 * 24 * 3_600_000);
      await collector.runCycle(AbortSignal.timeout(60_000));
      h.clock.now = new Date(h.clock.now.getTime() + 5 * 60_000);
      await collector.runCycle(AbortSignal.timeout(60_000));
      await collector.settle();
      const marker = await h.pool.query<{ site_id: string; day: string }>(`SELECT site_id, to_char(rolled_through, 'YYYY-MM-DD') AS day FROM forecast_accuracy_rollup`);
      expect(marker.rows.length).toBeGreaterThan(0);
      const site = marker.rows.find((row) => row.site_id === '01HQ7ZV3K8D4N5XWB2C9R6T1AE')!;
      expect(site.day >= '2025-11-21').toBe(true);
      const filter: AccuracyFilter = { siteId: site.site_id, from: new Date('2025-11-20T00:00:00+10:00'), to: new Date('2025-11-23T00:00:00+10:00'), channels: null, byTimeOfDay: true };
      const rolled = await forecastAccuracy(h.pool, filter);
      expect(rolled.buckets.length).toBeGreaterThan(3);
      expect(rolled).toEqual(await forecastAccuracy(h.pool, { ...filter, direct: true }));
    } finally {
      await h.close();
    }
  }, 180_000);
});
