/**
 * Forecast accuracy by lead time over a seeded archive whose figures are worked out by hand: MAE and bias of
 * perKwh and of the advanced predicted price, coverage of the low–high range, spike hits, misses and false
 * alarms, a 30-minute forecast against the mean of six settled 5-minute prices, and what is left out
 * (fetched after the interval started, more than 48 hours ahead, a half-hour not wholly settled).
 */
import { describe, expect, it } from 'vitest';
import { upsertSites } from '../../src/db/sites-store.ts';
import { forecastAccuracy } from '../../src/query/forecast-accuracy.ts';
import { testSite } from '../fidelity/fixtures.ts';
import { databaseForFile } from '../helpers/database.ts';
import { insertForecasts, insertSettled } from './accuracy-seed.ts';

const SITE = testSite('01ACCURACYSITE000000000001', 5, [['E1', 'general'], ['B1', 'feedIn']]);
const RANGE = { siteId: SITE.id, from: new Date('2025-11-20T00:00:00Z'), to: new Date('2025-11-20T02:00:00Z'), channels: null };

const db = databaseForFile({
  seed: async (pool) => {
    await upsertSites(pool, [SITE]);
    await insertSettled(pool, SITE.id, [
      { channel: 'general', end: '2025-11-20T00:05:00Z', duration: 5, perKwh: 20 }, // I1
      { channel: 'general', end: '2025-11-20T00:10:00Z', duration: 5, perKwh: 30 }, // I2
      { channel: 'general', end: '2025-11-20T00:15:00Z', duration: 5, perKwh: 300, spike: 'spike' }, // I3
      // The half-hour 00:30–01:00Z, settled in full: mean 35.
      ...[10, 20, 30, 40, 50, 60].map((perKwh, i) => ({ channel: 'general', end: new Date(Date.parse('2025-11-20T00:35:00Z') + i * 300_000).toISOString(), duration: 5, perKwh })),
      // The half-hour 01:00–01:30Z, one interval missing: its 30-minute forecast has nothing to compare with.
      ...[1, 2, 3, 4, 5].map((i) => ({ channel: 'general', end: new Date(Date.parse('2025-11-20T01:00:00Z') + i * 300_000).toISOString(), duration: 5, perKwh: 99 })),
      { channel: 'feedIn', end: '2025-11-20T00:05:00Z', duration: 5, perKwh: -5 },
    ]);
    await insertForecasts(pool, SITE.id, [
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
  },
});

const noSpikes = { hits: 0, misses: 0, falseAlarms: 0 };

describe('forecast accuracy by lead time', () => {
  it('every bucket with data, its errors, range coverage and spike detection as worked out by hand', async () => {
    const result = await forecastAccuracy(db.pool, RANGE);
    expect(result.buckets).toEqual([
      {
        channelType: 'general', bucket: '0-5m', fromMinutes: 0, toMinutes: 5, forecasts: 2,
        perKwh: { count: 2, mae: 6, bias: -4 }, predicted: { count: 2, mae: 3, bias: -2 },
        range: { count: 2, coverage: 0.5 }, spikes: { hits: 1, misses: 0, falseAlarms: 0 },
      },
      {
        channelType: 'general', bucket: '5-30m', fromMinutes: 5, toMinutes: 30, forecasts: 2,
        perKwh: { count: 2, mae: 4.5, bias: 1.5 }, predicted: { count: 1, mae: 2, bias: -2 },
        range: { count: 1, coverage: 0 }, spikes: noSpikes,
      },
      {
        channelType: 'general', bucket: '30m-2h', fromMinutes: 30, toMinutes: 120, forecasts: 2,
        perKwh: { count: 2, mae: 101, bias: -101 }, predicted: { count: 2, mae: 75.5, bias: -74.5 },
        range: { count: 2, coverage: 1 }, spikes: { hits: 1, misses: 0, falseAlarms: 0 },
      },
      {
        channelType: 'general', bucket: '2-6h', fromMinutes: 120, toMinutes: 360, forecasts: 1,
        perKwh: { count: 1, mae: 10, bias: 10 }, predicted: { count: 1, mae: 5, bias: 5 },
        range: { count: 1, coverage: 1 }, spikes: { hits: 0, misses: 0, falseAlarms: 1 },
      },
      {
        channelType: 'feedIn', bucket: '5-30m', fromMinutes: 5, toMinutes: 30, forecasts: 1,
        perKwh: { count: 1, mae: 1, bias: 1 }, predicted: { count: 0, mae: null, bias: null },
        range: { count: 0, coverage: null }, spikes: noSpikes,
      },
    ]);
    expect(result.spikeWarnings).toEqual([{ channelType: 'general', spikes: 1, warned: 1, medianWarningMinutes: 60, longestWarningMinutes: 60 }]);
  });

  it('a spike no forecast warned of is a miss, and has no warning time', async () => {
    const result = await forecastAccuracy(db.pool, { ...RANGE, from: new Date('2025-11-20T00:10:00Z'), to: new Date('2025-11-20T00:15:00Z') });
    expect(result.buckets.map((b) => [b.bucket, b.forecasts, b.spikes])).toEqual([
      ['0-5m', 1, { hits: 1, misses: 0, falseAlarms: 0 }],
      ['30m-2h', 1, { hits: 1, misses: 0, falseAlarms: 0 }],
    ]);
    await db.pool.query(`UPDATE price_forecasts SET spike_status = 'none' WHERE site_id = $1 AND nem_time = '2025-11-20T00:15:00Z'`, [SITE.id]);
    try {
      const missed = await forecastAccuracy(db.pool, { ...RANGE, from: new Date('2025-11-20T00:10:00Z'), to: new Date('2025-11-20T00:15:00Z') });
      expect(missed.buckets.map((b) => b.spikes)).toEqual([{ hits: 0, misses: 1, falseAlarms: 0 }, { hits: 0, misses: 1, falseAlarms: 0 }]);
      expect(missed.spikeWarnings).toEqual([{ channelType: 'general', spikes: 1, warned: 0, medianWarningMinutes: null, longestWarningMinutes: null }]);
    } finally {
      await db.pool.query(`UPDATE price_forecasts SET spike_status = 'potential' WHERE site_id = $1 AND nem_time = '2025-11-20T00:15:00Z' AND per_kwh = 100`, [SITE.id]);
      await db.pool.query(`UPDATE price_forecasts SET spike_status = 'spike' WHERE site_id = $1 AND nem_time = '2025-11-20T00:15:00Z' AND per_kwh = 290`, [SITE.id]);
    }
  });

  it('one channel, and a range by interval start', async () => {
    const feedIn = await forecastAccuracy(db.pool, { ...RANGE, channels: ['feedIn'] });
    expect(feedIn.buckets.map((b) => [b.channelType, b.bucket])).toEqual([['feedIn', '5-30m']]);
    // From 00:05Z: I1 (starting 00:00Z) is out.
    const later = await forecastAccuracy(db.pool, { ...RANGE, from: new Date('2025-11-20T00:05:00Z') });
    expect(later.buckets.map((b) => [b.channelType, b.bucket, b.forecasts])).toEqual([
      ['general', '0-5m', 1],
      ['general', '5-30m', 1],
      ['general', '30m-2h', 2],
      ['general', '2-6h', 1],
    ]);
  });
});
