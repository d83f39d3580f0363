/**
 * Forecast accuracy by lead time over a seeded archive whose figures are worked out by hand: MAE and bias of
 * perKwh and of the advanced predicted price, coverage of the low–high range, spike hits, misses and false
 * alarms, a 30-minute forecast against the mean of six settled 5-minute prices, and what is left out
 * (fetched after the interval started, more than 48 hours ahead, a half-hour not wholly settled).
 */
import { describe, expect, it } from 'vitest';
import { forecastAccuracy } from '../../src/query/forecast-accuracy.ts';
import { databaseForFile } from '../helpers/database.ts';
import { ACCURACY_SITE as SITE, seedHandWorkedArchive } from './accuracy-seed.ts';

const RANGE = { siteId: SITE.id, from: new Date('2025-11-20T00:00:00Z'), to: new Date('2025-11-20T02:00:00Z'), channels: null };

const db = databaseForFile({ seed: seedHandWorkedArchive });

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
