/**
 * The forecast archive: one `/prices/current` call per site and cycle, snapshots stored only when they
 * changed, pruned by FORECAST_RETENTION_DAYS, compacted after FORECAST_COMPACT_AFTER_DAYS, and comparable
 * with actual prices once those are known.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collector/collector.ts';
import { FORECAST_LEAD_MINUTES } from '../../src/db/forecast-store.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';

// 13:00 NEM time on 2025-11-21.
const NOW = new Date('2025-11-21T03:00:00Z');
const MINUTE_MS = 60_000;
const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE';
const HALF_HOUR_SITE = '01JB2WXYZ3M4N5P6Q7R8S9T0VA';

let h: Harness;
let collector: Collector;

async function cycleAt(at: Date, c: Collector = collector): Promise<void> {
  h.clock.now = at;
  await c.runCycle(AbortSignal.timeout(30_000));
  await c.settle();
}

async function snapshots(): Promise<number> {
  return (await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM price_forecasts')).rows[0]!.n;
}

// Each test starts from an empty archive with the clock at NOW, so none depends on another having run first.
beforeEach(async () => {
  h = await startHarness({ now: NOW });
  collector = h.newCollector({ historicalStartDate: '2025-11-19' });
  await collector.discoverSites(AbortSignal.timeout(10_000));
});
afterEach(async () => h.close());

describe('forecast archive', () => {
  it('asks each active site once per cycle for 48 h ahead at its own resolution and stores current and forecast intervals', async () => {
    await cycleAt(NOW);
    const calls = h.fake.requests.filter((r) => r.endpoint === 'currentPrices');
    expect(calls.map((r) => ({ site: r.siteId, query: r.query })).sort((a, b) => a.site!.localeCompare(b.site!))).toEqual([
      { site: FIVE_MINUTE_SITE, query: { previous: '0', next: '576', resolution: '5' } },
      { site: HALF_HOUR_SITE, query: { previous: '0', next: '96', resolution: '30' } },
    ]);
    const kinds = await h.pool.query<{ interval_type: string; n: number; with_band: number; ahead: boolean }>(
      `SELECT interval_type, count(*)::int AS n, count(advanced_predicted)::int AS with_band, bool_and(nem_time > $1) AS ahead
       FROM price_forecasts GROUP BY interval_type ORDER BY interval_type`,
      [NOW],
    );
    expect(kinds.rows.map((r) => r.interval_type)).toEqual(['CurrentInterval', 'ForecastInterval']);
    expect(kinds.rows.every((r) => r.n > 0 && r.with_band > 0 && r.ahead)).toBe(true);
    // The forecast horizon is the end of the next NEM day: 2025-11-22 24:00 NEM = 2025-11-22T14:00Z.
    const last = await h.pool.query<{ last: Date }>('SELECT max(nem_time) AS last FROM price_forecasts');
    expect(last.rows[0]!.last).toEqual(new Date('2025-11-22T14:00:00Z'));
  });

  it('stores nothing when the forecast did not change, and only the changed intervals when it did', async () => {
    await cycleAt(NOW);
    const first = await snapshots();
    await cycleAt(NOW);
    expect(await snapshots()).toBe(first);

    await cycleAt(new Date(NOW.getTime() + 2 * MINUTE_MS));
    const second = await snapshots();
    expect(second).toBeGreaterThan(first);
    // No stored snapshot repeats the one before it for the same interval.
    const repeats = await h.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT (interval_type, estimate, per_kwh, spot_per_kwh, renewables, spike_status, descriptor, range_min, range_max,
                 advanced_low, advanced_predicted, advanced_high)
                IS NOT DISTINCT FROM
                lag((interval_type, estimate, per_kwh, spot_per_kwh, renewables, spike_status, descriptor, range_min, range_max,
                     advanced_low, advanced_predicted, advanced_high))
                  OVER (PARTITION BY site_id, channel_type, nem_time, duration ORDER BY fetched_at) AS same
         FROM price_forecasts) s
       WHERE same`,
    );
    expect(repeats.rows[0]!.n).toBe(0);
  });

  it('lines forecasts up with actual prices once those are known', async () => {
    await cycleAt(NOW);
    await cycleAt(new Date(NOW.getTime() + 3 * 60 * MINUTE_MS));
    const accuracy = await h.pool.query<{ n: number; min_lead: number; sites: number }>(
      `SELECT count(*)::int AS n, min(extract(epoch FROM lead_time))::int AS min_lead, count(DISTINCT site_id)::int AS sites
       FROM price_forecast_accuracy WHERE actual_per_kwh IS NOT NULL AND error_per_kwh = forecast_per_kwh - actual_per_kwh`,
    );
    expect(accuracy.rows[0]!.n).toBeGreaterThan(0);
    expect(accuracy.rows[0]!.min_lead).toBeGreaterThanOrEqual(0);
    // 30-minute forecasts of the 5-minute site are compared with the mean of six actual 5-minute prices.
    const halfHourly = await h.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM price_forecast_accuracy WHERE site_id = $1 AND duration = 30`,
      [FIVE_MINUTE_SITE],
    );
    expect(halfHourly.rows[0]!.n).toBeGreaterThan(0);
  });

  it('prunes snapshots of intervals older than FORECAST_RETENTION_DAYS', async () => {
    const pruning = h.newCollector({ historicalStartDate: '2025-11-19', forecastRetentionDays: 1 });
    await pruning.discoverSites(AbortSignal.timeout(10_000));
    const later = new Date(NOW.getTime() + 2 * 24 * 60 * MINUTE_MS);
    await cycleAt(later, pruning);
    const oldest = await h.pool.query<{ oldest: Date }>('SELECT min(nem_time) AS oldest FROM price_forecasts');
    expect(oldest.rows[0]!.oldest.getTime()).toBeGreaterThanOrEqual(later.getTime() - 24 * 60 * MINUTE_MS);
    expect(await snapshots()).toBeGreaterThan(0);
  });

  it('compacts intervals older than FORECAST_COMPACT_AFTER_DAYS as cycles go by, and leaves younger ones whole', async () => {
    const log = captureLogger('debug');
    const compacting = h.newCollector({ historicalStartDate: '2025-11-19', forecastCompactAfterDays: 1, logger: log.logger });
    await compacting.discoverSites(AbortSignal.timeout(10_000));
    // 27 hours of cycles from NOW: every 5 minutes for the first 4 hours, so that the intervals which pass the
    // one-day cutoff by the end (NOW to NOW + 3 h) gather a vintage from every poll before them, as a daemon's
    // would; then every 30 minutes, which still moves the cutoff in steps across them, compacting as cycles go
    // by, and still gives younger intervals more vintages than compaction keeps (94 cycles instead of 324).
    const start = NOW.getTime();
    const cycleMinutes = [...Array.from({ length: 4 * 12 }, (_, i) => (i + 1) * 5), ...Array.from({ length: 23 * 2 }, (_, i) => 240 + (i + 1) * 30)];
    const perInterval = async () =>
      (await h.pool.query<{ site_id: string; nem_time: Date; n: number }>(
        `SELECT site_id, nem_time, max(n)::int AS n FROM (
           SELECT site_id, nem_time, count(*) AS n FROM price_forecasts GROUP BY site_id, channel_type, nem_time, duration) s
         GROUP BY 1, 2`,
      )).rows;
    for (const minutes of cycleMinutes) await cycleAt(new Date(start + minutes * MINUTE_MS), compacting);
    // Snapshot counts per interval before the next cycle moves the cutoff by another 5 minutes.
    const cutoff = new Date(h.clock.now.getTime() - 24 * 60 * MINUTE_MS);
    const rows = await perInterval();
    const markers = await h.pool.query<{ site_id: string; compacted_through: Date }>('SELECT site_id, compacted_through FROM forecast_compaction');

    expect(markers.rows.map((m) => m.site_id).sort()).toEqual([FIVE_MINUTE_SITE, HALF_HOUR_SITE].sort());
    // Each marker stands at the end of the last interval due: the cutoff itself, or for the half-hour site
    // the last half hour before it.
    for (const m of markers.rows) {
      expect(m.compacted_through.getTime()).toBeLessThanOrEqual(cutoff.getTime());
      expect(m.compacted_through.getTime()).toBeGreaterThan(cutoff.getTime() - 30 * MINUTE_MS);
    }
    const old = rows.filter((r) => r.nem_time <= cutoff);
    const young = rows.filter((r) => r.nem_time > cutoff);
    expect(old.length).toBeGreaterThan(0);
    expect(Math.max(...old.map((r) => r.n))).toBeLessThanOrEqual(FORECAST_LEAD_MINUTES.length + 2);
    // Younger intervals keep every vintage: half-hourly forecasts change on every 5-minute poll of the fake.
    expect(Math.max(...young.map((r) => r.n))).toBeGreaterThan(FORECAST_LEAD_MINUTES.length + 2);
    expect(log.lines.find((l) => l['message'] === 'price forecasts compacted')).toMatchObject({
      site: expect.any(String),
      from: expect.any(String),
      through: expect.any(String),
      kept: expect.any(Number),
      deleted: expect.any(Number),
    });

    // The accuracy view still lines the compacted forecasts up with actual prices.
    const accuracy = await h.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM price_forecast_accuracy WHERE nem_time <= $1 AND actual_per_kwh IS NOT NULL',
      [cutoff],
    );
    expect(accuracy.rows[0]!.n).toBeGreaterThan(0);
  }, 240_000);
});
