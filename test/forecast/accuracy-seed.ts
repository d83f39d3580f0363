/**
 * Seeds settled prices and archived forecasts row by row, for forecast-accuracy tests whose expected
 * figures are worked out by hand from the rows, and the archive those tests share.
 */
import type pg from 'pg';
import { upsertSites } from '../../src/db/sites-store.ts';
import { testSite } from '../fidelity/fixtures.ts';

export const ACCURACY_SITE = testSite('01ACCURACYSITE000000000001', 5, [['E1', 'general'], ['B1', 'feedIn']]);

interface SettledRow {
  channel: string;
  /** Interval end (ISO 8601). */
  end: string;
  duration: number;
  perKwh: number;
  spike?: string;
}

interface ForecastRow extends SettledRow {
  fetchedAt: string;
  low?: number;
  predicted?: number;
  high?: number;
}

const nemDate = `((($3::timestamptz - interval '1 second') AT TIME ZONE 'UTC') + interval '10 hours')::date`;

async function insertSettled(pool: pg.Pool, siteId: string, rows: readonly SettledRow[]): Promise<void> {
  for (const row of rows) {
    await pool.query(
      `INSERT INTO price_data (site_id, channel_type, nem_time, duration, start_time, end_time, nem_date, per_kwh, spot_per_kwh, renewables, spike_status, interval_type, raw)
       VALUES ($1, $2, $3, $4, $3::timestamptz - make_interval(mins => $4) + interval '1 second', $3, ${nemDate}, $5, 8, 40, $6, 'ActualInterval', '{}')`,
      [siteId, row.channel, row.end, row.duration, row.perKwh, row.spike ?? 'none'],
    );
  }
}

async function insertForecasts(pool: pg.Pool, siteId: string, rows: readonly ForecastRow[]): Promise<void> {
  for (const row of rows) {
    await pool.query(
      `INSERT INTO price_forecasts (site_id, channel_type, nem_time, duration, fetched_at, nem_date, interval_type, per_kwh, spot_per_kwh, renewables,
                                    spike_status, advanced_low, advanced_predicted, advanced_high)
       VALUES ($1, $2, $3, $4, $5, ${nemDate}, 'ForecastInterval', $6, 8, 40, $7, $8, $9, $10)`,
      [siteId, row.channel, row.end, row.duration, row.fetchedAt, row.perKwh, row.spike ?? 'none', row.low ?? null, row.predicted ?? null, row.high ?? null],
    );
  }
}

/**
 * A 5-minute site's general and feed-in prices around 2025-11-20T00:00Z and their archived forecasts, with
 * the figures test/forecast/accuracy.test.ts works out by hand.
 */
export async function seedHandWorkedArchive(pool: pg.Pool): Promise<void> {
  await upsertSites(pool, [ACCURACY_SITE]);
  await insertSettled(pool, ACCURACY_SITE.id, [
    { channel: 'general', end: '2025-11-20T00:05:00Z', duration: 5, perKwh: 20 }, // I1
    { channel: 'general', end: '2025-11-20T00:10:00Z', duration: 5, perKwh: 30 }, // I2
    { channel: 'general', end: '2025-11-20T00:15:00Z', duration: 5, perKwh: 300, spike: 'spike' }, // I3
    // The half-hour 00:30–01:00Z, settled in full: mean 35.
    ...[10, 20, 30, 40, 50, 60].map((perKwh, i) => ({ channel: 'general', end: new Date(Date.parse('2025-11-20T00:35:00Z') + i * 300_000).toISOString(), duration: 5, perKwh })),
    // The half-hour 01:00–01:30Z, one interval missing: its 30-minute forecast has nothing to compare with.
    ...[1, 2, 3, 4, 5].map((i) => ({ channel: 'general', end: new Date(Date.parse('2025-11-20T01:00:00Z') + i * 300_000).toISOString(), duration: 5, perKwh: 99 })),
    { channel: 'feedIn', end: '2025-11-20T00:05:00Z', duration: 5, perKwh: -5 },
  ]);
  await insertForecasts(pool, ACCURACY_SITE.id, [
    // I1 (starts 00:00Z, settled 20)
    { channel: 'general', end: '2025-11-20T00:05:00Z', duration: 5, fetchedAt: '2025-11-19T23:58:00Z', perKwh: 22, predicted: 21, low: 19, high: 23 },
    { channel: 'general', end: '2025-11-20T00:05:00Z', duration: 5, fetchedAt: '2025-11-19T23:50:00Z', perKwh: 17, predicted: 18, low: 21, high: 25 },
    { channel: 'general', end: '2025-11-20T00:05:00Z', duration: 5, fetchedAt: '2025-11-20T00:01:00Z', perKwh: 500 }, // after the start
    { channel: 'general', end: '2025-11-20T00:05:00Z', duration: 5, fetchedAt: '2025-11-17T22:00:00Z', perKwh: 500 }, // 50 h ahead
    // I2 (starts 00:05Z, settled 30)
    { channel: 'general', end: '2025-11-20T00:10:00Z', duration: 5, fetchedAt: '2025-11-20T00:00:00Z', perKwh: 36 },
    { channel: 'general', end: '2025-11-20T00:10:00Z', duration: 5, fetchedAt: '2025-11-19T23:35:00Z', perKwh: 28, predicted: 31, low: 25, high: 35 },
    // I3 (starts 00:10Z, spiked at 300)
    { channel: 'general', end: '2025-11-20T00:15:00Z', duration: 5, fetchedAt: '2025-11-19T23:10:00Z', perKwh: 100, predicted: 150, low: 50, high: 400, spike: 'potential' },
    { channel: 'general', end: '2025-11-20T00:15:00Z', duration: 5, fetchedAt: '2025-11-20T00:08:00Z', perKwh: 290, predicted: 295, low: 280, high: 299, spike: 'spike' },
    // Half-hours (start 00:30Z and 01:00Z), 4 and 3 hours ahead.
    { channel: 'general', end: '2025-11-20T01:00:00Z', duration: 30, fetchedAt: '2025-11-19T20:30:00Z', perKwh: 45, predicted: 40, low: 30, high: 50, spike: 'potential' },
    { channel: 'general', end: '2025-11-20T01:30:00Z', duration: 30, fetchedAt: '2025-11-19T22:00:00Z', perKwh: 1 },
    { channel: 'feedIn', end: '2025-11-20T00:05:00Z', duration: 5, fetchedAt: '2025-11-19T23:50:00Z', perKwh: -4 },
  ]);
}
