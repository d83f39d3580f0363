/**
 * The report queries against a real database holding known data: every figure is recomputed here from the
 * objects that were stored, so the SQL is checked against plain arithmetic, including NEM-day boundaries and
 * a session whose TimeZone is not UTC.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { UsageInterval } from '../../src/domain/models.ts';
import { buildStatusReport } from '../../src/query/collection-status.ts';
import { readPricesNow } from '../../src/query/current.ts';
import { dailyCosts, dailyPrices, dailyUsage, summary } from '../../src/query/reports.ts';
import { chooseWindow, usageSeries, priceSeries } from '../../src/query/series.ts';
import { listSites } from '../../src/query/site-selection.ts';
import { databaseForFile } from '../helpers/database.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';
import { buildFixture, loadFixture, NOW, SITE_30, SITE_5 } from './fixtures.ts';

const BOTH = [SITE_5.id, SITE_30.id];
const db = databaseForFile({ seed: loadFixture });
/** What the database holds: the expected figures are recomputed from these objects. */
const fixture = buildFixture();

function usageOf(siteId: string, date: string): UsageInterval[] {
  return (fixture.usage.get(siteId) ?? []).filter((u) => u.date === date);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('dailyCosts', () => {
  it('splits import (general + controlled load) from feed-in by channel type, in dollars', async () => {
    const rows = await dailyCosts(db.pool, { siteIds: BOTH, from: '2025-11-19', to: '2025-11-20' });
    expect(rows.map((r) => `${r.siteId} ${r.date}`)).toEqual([
      `${SITE_5.id} 2025-11-19`,
      `${SITE_5.id} 2025-11-20`,
      `${SITE_30.id} 2025-11-19`,
      `${SITE_30.id} 2025-11-20`,
    ]);
    for (const row of rows) {
      const usage = usageOf(row.siteId, row.date);
      const imports = usage.filter((u) => u.channelType !== 'feedIn');
      const feedIn = usage.filter((u) => u.channelType === 'feedIn');
      expect(row.importKwh).toBeCloseTo(sum(imports.map((u) => u.kwh)), 6);
      expect(row.importDollars).toBeCloseTo(sum(imports.map((u) => u.cost)) / 100, 4);
      expect(row.feedInKwh).toBeCloseTo(sum(feedIn.map((u) => u.kwh)), 6);
      // Feed-in cost is negative (income): earnings are reported positive.
      expect(row.feedInDollars).toBeCloseTo(-sum(feedIn.map((u) => u.cost)) / 100, 4);
      expect(row.feedInDollars).toBeGreaterThan(0);
      expect(row.netDollars).toBeCloseTo(row.importDollars! - row.feedInDollars!, 4);
      expect(row.intervals).toBe(usage.length);
      expect(row.estimated).toBe(usage.filter((u) => u.quality === 'estimated').length);
    }
    // Controlled load is import: the 5-minute site's import is general + E2.
    const site5 = rows.find((r) => r.siteId === SITE_5.id && r.date === '2025-11-19')!;
    expect(site5.importKwh).toBeCloseTo(288 * 0.1 + 288 * 0.05, 6);
  });

  it('shows a day without usage as a gap rather than leaving it out', async () => {
    const rows = await dailyCosts(db.pool, { siteIds: [SITE_30.id], from: '2025-11-18', to: '2025-11-19' });
    expect(rows[0]).toMatchObject({ date: '2025-11-18', importKwh: null, netDollars: null, intervals: 0 });
    expect(rows[1]).toMatchObject({ date: '2025-11-19', intervals: 96 });
  });
});

describe('NEM-day boundaries', () => {
  it('counts the interval ending at 00:00+10:00 in the previous day, for 5- and 30-minute sites', async () => {
    const rows = await dailyUsage(db.pool, { siteIds: BOTH, from: '2025-11-19', to: '2025-11-19' });
    const general = (siteId: string) => rows.find((r) => r.siteId === siteId && r.channelId === 'E1')!;
    expect(general(SITE_5.id).intervals).toBe(288);
    expect(general(SITE_30.id).intervals).toBe(48);
    const last = usageOf(SITE_30.id, '2025-11-19').at(-1)!;
    expect(last.nemTime).toBe('2025-11-20T00:00:00+10:00');

    // The same boundary in 1d buckets computed from nem_time (not nem_date): identical days.
    const range = { sites: await listSites(db.pool), channels: ['E1'], from: new Date('2025-11-18T14:00:00Z'), to: new Date('2025-11-20T14:00:00Z') };
    const series = await usageSeries(db.pool, range, '1d', 'sum');
    const site30 = series.find((s) => s.siteId === SITE_30.id)!;
    expect(site30.points.map((p) => [p.start, p.intervals])).toEqual([
      ['2025-11-19T00:00:00+10:00', 48],
      ['2025-11-20T00:00:00+10:00', 48],
    ]);
    expect(site30.points[0]!.kwh).toBeCloseTo(48 * 0.6, 6);
  });

  it('gives the same answers when the session and the process are in another time zone', async () => {
    const sites = await listSites(db.pool);
    const seriesRange = { sites, channels: null, from: new Date('2025-11-18T14:00:00Z'), to: new Date('2025-11-21T14:00:00Z') };
    const run = async (pool: pg.Pool) => ({
      costs: await dailyCosts(pool, { siteIds: BOTH, from: '2025-11-19', to: '2025-11-21' }),
      prices: await dailyPrices(pool, { siteIds: BOTH, from: '2025-11-19', to: '2025-11-21' }),
      daily: await usageSeries(pool, seriesRange, '1d', 'sum'),
      monthly: await priceSeries(pool, seriesRange, '1mo', 'avg'),
      hourly: await priceSeries(pool, seriesRange, '1h', 'max'),
      status: await buildStatusReport(pool, DEFAULT_STATUS_SETTINGS, NOW),
      now: await readPricesNow(pool, { siteId: SITE_5.id, now: NOW }),
    });
    const inUtc = await run(db.pool);
    const newYork = new pg.Pool({ connectionString: db.url, max: 1, options: '-c TimeZone=America/New_York' });
    const processZone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const zone = await newYork.query<{ TimeZone: string }>('SHOW TimeZone');
      expect(zone.rows[0]?.TimeZone).toBe('America/New_York');
      expect(new Date('2025-11-20T00:00:00Z').getHours()).toBe(19); // the process really is in New York
      expect(await run(newYork)).toEqual(inUtc);
    } finally {
      if (processZone === undefined) delete process.env.TZ;
      else process.env.TZ = processZone;
      await newYork.end();
    }
    expect(inUtc.daily.find((s) => s.siteId === SITE_5.id)!.points.map((p) => p.start)).toEqual([
      '2025-11-19T00:00:00+10:00',
      '2025-11-20T00:00:00+10:00',
    ]);
    expect(inUtc.monthly[0]!.points.map((p) => p.start)).toEqual(['2025-11-01T00:00:00+10:00']);
  });
});

describe('dailyPrices', () => {
  it('reports min / time-weighted avg / max and spike counts per day and channel', async () => {
    const rows = await dailyPrices(db.pool, { siteIds: BOTH, from: '2025-11-20', to: '2025-11-20' });
    const general5 = rows.find((r) => r.siteId === SITE_5.id && r.channelType === 'general')!;
    // 20 + hour, except the 18:00 interval at 300.
    expect(general5).toMatchObject({ min: 20, max: 300, intervals: 288, spikes: 1, potentialSpikes: 12 });
    expect(general5.avg).toBeCloseTo((sum(Array.from({ length: 24 }, (_, h) => (20 + h) * 12)) - 38 + 300) / 288, 4);
    const general30 = rows.find((r) => r.siteId === SITE_30.id && r.channelType === 'general')!;
    expect(general30).toMatchObject({ min: 20, max: 300, intervals: 48, spikes: 1, potentialSpikes: 2 });
    expect(rows.filter((r) => r.siteId === SITE_5.id).map((r) => r.channelType)).toEqual(['general', 'controlledLoad', 'feedIn']);
    expect(rows.find((r) => r.siteId === SITE_5.id && r.channelType === 'feedIn')).toMatchObject({ min: -7, max: -5 });
  });

  it('leaves forecasts out: today counts only the intervals that have started', async () => {
    const rows = await dailyPrices(db.pool, { siteIds: [SITE_5.id], from: '2025-11-21', to: '2025-11-21' });
    // 13:00 NEM: 156 finished intervals plus the current one.
    expect(rows.map((r) => r.intervals)).toEqual([157, 157, 157]);
  });
});

describe('summary', () => {
  it('lists sites, stored ranges with watermarks, and all-time totals', async () => {
    const report = await summary(db.pool, BOTH);
    expect(report.sites.map((s) => s.id).sort()).toEqual([...BOTH].sort());
    const price5 = report.stored.find((r) => r.siteId === SITE_5.id && r.dataType === 'price')!;
    expect(price5).toMatchObject({ rows: 3 * 288 * 3, firstDay: '2025-11-19', lastDay: '2025-11-21', collectedThrough: '2025-11-20' });
    expect(price5.lastSuccessAt).toMatch(/Z$/);
    const usage30 = report.stored.find((r) => r.siteId === SITE_30.id && r.dataType === 'usage')!;
    expect(usage30).toMatchObject({ rows: 2 * 48 * 2, firstDay: '2025-11-19', lastDay: '2025-11-20' });
    const totals5 = report.totals.find((t) => t.siteId === SITE_5.id)!;
    const usage = fixture.usage.get(SITE_5.id)!;
    expect(totals5.feedInKwh).toBeCloseTo(sum(usage.filter((u) => u.channelType === 'feedIn').map((u) => u.kwh)), 6);
    expect(totals5.netDollars).toBeCloseTo(sum(usage.map((u) => u.cost)) / 100, 4);
  });
});

describe('buildStatusReport', () => {
  it('counts intervals against the ones the interval length implies, and reports the last error', async () => {
    const report = await buildStatusReport(db.pool, DEFAULT_STATUS_SETTINGS, NOW);
    const find = (siteId: string, dataType: string) => report.streams.find((c) => c.siteId === siteId && c.dataType === dataType)!;
    // Prices are due through yesterday (the 20th), usage through the day before (the 19th).
    expect(find(SITE_5.id, 'price')).toMatchObject({
      wanted: { from: '2025-11-19', through: '2025-11-20' },
      collectedThrough: '2025-11-20',
      percentComplete: 100,
      intervals: { stored: 2 * 288 * 3, expected: 2 * 288 * 3 },
      lastError: null,
    });
    expect(find(SITE_30.id, 'usage')).toMatchObject({
      intervals: { stored: 48 * 2, expected: 48 * 2 },
      consecutiveFailures: 1,
      lastError: { message: 'AMBER_SERVER: 502 from /usage', current: true },
    });
    // Two days later with nothing new collected, prices are due through the 22nd: the 21st is stored
    // (it was today), the 22nd was never fetched.
    const later = await buildStatusReport(db.pool, DEFAULT_STATUS_SETTINGS, new Date(NOW.getTime() + 2 * 86_400_000), { siteId: SITE_5.id });
    expect(later.streams[0]).toMatchObject({ dataType: 'price', percentComplete: 75, gapDays: { notCollected: 1, incomplete: 0, unavailable: 0 } });
  });
});

describe('readPricesNow', () => {
  it('finds the interval containing now, the last actual price, and the forecast after it', async () => {
    const now = await readPricesNow(db.pool, { siteId: SITE_5.id, now: NOW });
    expect(now.channels.map((c) => c.channelType)).toEqual(['general', 'controlledLoad', 'feedIn']);
    const general = now.channels[0]!;
    expect(general.current).toMatchObject({ start: '2025-11-21T13:00:00+10:00', end: '2025-11-21T13:05:00+10:00', intervalType: 'CurrentInterval', estimate: true, perKwh: 33 });
    expect(general.latestActual).toMatchObject({ end: '2025-11-21T13:00:00+10:00', intervalType: 'ActualInterval', perKwh: 32 });
    expect(now.forecast[0]).toMatchObject({ start: '2025-11-21T13:05:00+10:00', intervalType: 'ForecastInterval', channelType: 'general' });
    expect(now.forecast).toHaveLength(131 * 3);
  });

  it('with the collector far behind, there is no current interval but the last actual price remains', async () => {
    const now = await readPricesNow(db.pool, { siteId: SITE_30.id, now: new Date('2025-11-25T00:00:00Z') });
    expect(now.channels[0]!.current).toBeNull();
    expect(now.channels[0]!.latestActual).toMatchObject({ end: '2025-11-21T13:00:00+10:00' });
    expect(now.forecast).toEqual([]);
  });
});

describe('chooseWindow', () => {
  const range = (days: number) => ({
    sites: [{ ...SITE_5, activeFrom: null, closedOn: null }],
    channels: null,
    from: new Date('2025-01-01T00:00:00Z'),
    to: new Date(Date.parse('2025-01-01T00:00:00Z') + days * 86_400_000),
  });

  it('picks the finest window that fits, and refuses a requested one that does not', () => {
    // 3 channels × 288 per day: 7 days of 5-minute points is 6,051 (fits 20k); 30 days is not.
    expect(chooseWindow('price', range(7), null)).toMatchObject({ ok: true, window: '5m' });
    expect(chooseWindow('price', range(30), null)).toMatchObject({ ok: true, window: '30m' });
    expect(chooseWindow('price', range(3650), null)).toMatchObject({ ok: true, window: '1d' });
    const refused = chooseWindow('price', range(30), '5m');
    expect(refused).toMatchObject({ ok: false });
    expect(!refused.ok && refused.problem).toContain('use window=30m or wider');
  });
});
