/**
 * The forecast list's formatting rules on made-up intervals (fixtures for formatting only; the values themselves
 * are checked end to end in mqtt-feed.test.ts): dollars, the feed-in sign Home Assistant's Amber integration uses,
 * and the attributes payload kept under Home Assistant's 16,384-byte limit however long the horizon.
 */
import { describe, expect, it } from 'vitest';
import { customerDollars } from '../../src/domain/customer-price.ts';
import { ATTRIBUTES_BUDGET_BYTES, forecastAttributes } from '../../src/mqtt/forecast-list.ts';
import { descriptorSlug, forecastEntries } from '../../src/query/core-forecast.ts';
import type { StoredPrice } from '../../src/query/current.ts';

function price(channelType: string, index: number, perKwh: number): StoredPrice {
  const start = Date.parse('2026-12-07T00:00:00Z') + index * 300_000;
  const iso = (ms: number) => `${new Date(ms + 36_000_000).toISOString().slice(0, 19)}+10:00`;
  return {
    channelType,
    start: iso(start),
    end: iso(start + 300_000),
    duration: 5,
    perKwh,
    spotPerKwh: 10.123456,
    renewables: 41.37,
    spikeStatus: 'none',
    descriptor: 'extremelyLow',
    intervalType: 'ForecastInterval',
    estimate: null,
    fetchedAt: '2026-12-06T23:55:00.000Z',
  };
}

describe('forecast list', () => {
  it('gives $/kWh, with feed-in positive when exporting earns money', () => {
    expect(customerDollars('general', 25.12345)).toBe(0.2512345);
    expect(customerDollars('feedIn', -8.5)).toBe(0.085);
    expect(customerDollars('feedIn', 2.76)).toBe(-0.0276);
    expect(customerDollars('feedIn', 0)).toBe(0);
    expect(descriptorSlug('extremelyLow')).toBe('extremely_low');
  });

  it('adds Amber range and advanced price from the fetched intervals, in the same sign', () => {
    const stored = price('feedIn', 0, -10);
    const sent = { channelType: 'feedIn', endTime: new Date(Date.parse(stored.end)).toISOString(), range: { min: -12, max: -8 }, advancedPrice: { low: -12, predicted: -10, high: -8 } };
    const [entry] = forecastEntries([stored], [sent as never]);
    expect(entry).toEqual(
      expect.objectContaining({ per_kwh: 0.1, range_min: 0.08, range_max: 0.12, advanced_price_low: 0.12, advanced_price_predicted: 0.1, advanced_price_high: 0.08, descriptor: 'extremely_low', renewables: 41 }),
    );
  });

  it('keeps the attributes under the budget on a 48-hour 5-minute horizon, and says how much it holds', () => {
    const entries = forecastEntries(
      Array.from({ length: 576 }, (_, i) => price('general', i, 20 + i / 7)),
      [],
    );
    const text = forecastAttributes(entries, 'amber_collector/x/general/forecast_full');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(ATTRIBUTES_BUDGET_BYTES);
    const parsed = JSON.parse(text) as { forecasts: unknown[]; intervals: number; horizon_intervals: number; full_horizon_topic: string };
    expect(parsed.horizon_intervals).toBe(576);
    expect(parsed.intervals).toBe(parsed.forecasts.length);
    expect(parsed.forecasts.length).toBeGreaterThan(40);
    // One more entry would not have fitted.
    const oneMore = { ...parsed, forecasts: entries.slice(0, parsed.intervals + 1), intervals: parsed.intervals + 1 };
    expect(Buffer.byteLength(JSON.stringify(oneMore))).toBeGreaterThan(ATTRIBUTES_BUDGET_BYTES);
    expect(forecastAttributes(entries.slice(0, 10), 't')).toContain('"intervals":10');
  });
});
