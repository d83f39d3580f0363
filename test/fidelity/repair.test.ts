/**
 * Gap repair end to end: a fake Amber that leaves intervals and whole days out the first time it serves a
 * range, and a collector that notices from its coverage ledger and fetches those days again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collector/collector.ts';
import { buildStatusReport, type StatusReport } from '../../src/query/collection-status.ts';
import { readIncompleteDays } from '../../src/db/coverage-ledger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { diffPrices, diffUsage } from '../helpers/ground-truth.ts';

// 13:00 NEM time on 2025-11-21.
const NOW = new Date('2025-11-21T03:00:00Z');
const HOUR_MS = 60 * 60 * 1000;
const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE';
const HALF_HOUR_SITE = '01JB2WXYZ3M4N5P6Q7R8S9T0VA';
const SETTINGS = { rateLimit: { limit: 50, windowSeconds: 300 }, intervalMinutes: 5, usagePollMinutes: 60, priceRevisionDays: 2, usageRevisionDays: 7, siteIds: null };

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function cycle(collector: Collector): Promise<void> {
  await collector.runCycle(AbortSignal.timeout(30_000));
  // Repairs run in the background after the cycle; settle waits for them.
  await collector.settle();
}

function report(h: Harness): Promise<StatusReport> {
  return buildStatusReport(h.pool, SETTINGS, h.clock.now);
}

function dataRequests(h: Harness, from: number): Array<{ endpoint: string; siteId: string | null; startDate?: string; endDate?: string }> {
  return h.fake.requests
    .slice(from)
    .filter((r) => r.endpoint === 'prices' || r.endpoint === 'usage')
    .map((r) => ({ endpoint: r.endpoint, siteId: r.siteId, startDate: r.query['startDate'], endDate: r.query['endDate'] }));
}

describe('gap repair', () => {
  it('reaches 100 % coverage within a few cycles after intervals and days were left out, at most 2 repair calls per cycle', async () => {
    const h = (harness = await startHarness({ now: NOW }));
    const start = '2025-11-01';
    // The first two price chunks of the 5-minute site lose 3 % of their intervals; the 30-minute site's
    // usage loses two whole days. Served again later, everything is there.
    h.fake.inject({ kind: 'dropIntervals', fraction: 0.03, endpoint: 'prices', siteId: FIVE_MINUTE_SITE, times: 2 });
    h.fake.inject({ kind: 'dropIntervals', fraction: 0, days: ['2025-11-03', '2025-11-05'], endpoint: 'usage', siteId: HALF_HOUR_SITE, times: 3 });
    const collector = h.newCollector({ historicalStartDate: start });
    await collector.discoverSites(AbortSignal.timeout(10_000));
    await collector.backfill(AbortSignal.timeout(60_000));

    const before = await report(h);
    const gapsOf = (r: StatusReport, site: string, type: string) => r.streams.find((s) => s.siteId === site && s.dataType === type)!;
    expect(gapsOf(before, FIVE_MINUTE_SITE, 'price').gaps.incomplete).toEqual(['2025-11-01..2025-11-14']);
    expect(gapsOf(before, HALF_HOUR_SITE, 'usage').gaps.incomplete).toEqual(['2025-11-03', '2025-11-05']);
    expect(gapsOf(before, HALF_HOUR_SITE, 'usage').percentComplete).toBeLessThan(100);
    // The ledger agrees with the data: the missing intervals are exactly the ones the oracle finds missing.
    const missing = await diffPrices(h.pool, h.fake, FIVE_MINUTE_SITE, start, '2025-11-20');
    const ledger = before.streams.find((s) => s.siteId === FIVE_MINUTE_SITE && s.dataType === 'price')!.intervals;
    expect(ledger.expected - ledger.stored).toBe(missing.missing.length);

    // Trailing windows start on the 14th (usage) and the 19th (prices): anything older is a repair.
    let cycles = 0;
    while ((await report(h)).streams.some((s) => s.gapDays.incomplete > 0) && cycles < 5) {
      const seen = h.fake.requests.length;
      await cycle(collector);
      cycles += 1;
      const repairs = dataRequests(h, seen).filter((r) => r.startDate! < '2025-11-14');
      expect(repairs.length).toBeLessThanOrEqual(2);
    }
    // 14 incomplete price days (two calls) and two usage days (one call): two cycles.
    expect(cycles).toBe(2);

    const after = await report(h);
    for (const stream of after.streams) {
      expect({ stream: `${stream.siteId} ${stream.dataType}`, gaps: stream.gaps }).toEqual({
        stream: `${stream.siteId} ${stream.dataType}`,
        gaps: { notCollected: [], incomplete: [], unavailable: [] },
      });
      expect(stream.percentComplete).toBe(100);
    }
    const prices = await diffPrices(h.pool, h.fake, FIVE_MINUTE_SITE, start, '2025-11-20');
    expect({ missing: prices.missing.length, wrong: prices.wrong.length }).toEqual({ missing: 0, wrong: 0 });
    const usage = await diffUsage(h.pool, h.fake, HALF_HOUR_SITE, start, '2025-11-20');
    expect({ missing: usage.missing.length, wrong: usage.wrong.length }).toEqual({ missing: 0, wrong: 0 });
    const checks = await h.pool.query('SELECT count(*)::int AS n FROM coverage_checks');
    expect(checks.rows[0].n).toBe(0);

    // Nothing left to repair: a further cycle makes no repair call.
    const seen = h.fake.requests.length;
    await cycle(collector);
    expect(dataRequests(h, seen).filter((r) => r.startDate! < '2025-11-14')).toEqual([]);
  });

  it('remembers a day Amber has no data for and re-checks it after 1 h, then 6 h, until the data appears', async () => {
    const h = (harness = await startHarness({ now: NOW }));
    const day = '2025-11-03';
    h.fake.inject({ kind: 'dropIntervals', fraction: 0, days: [day], endpoint: 'usage', siteId: HALF_HOUR_SITE, times: 1_000 });
    const collector = h.newCollector({ historicalStartDate: '2025-11-01', siteIds: [HALF_HOUR_SITE] });
    await collector.discoverSites(AbortSignal.timeout(10_000));
    await collector.backfill(AbortSignal.timeout(30_000));
    const refetches = () => h.fake.requests.filter((r) => r.endpoint === 'usage' && r.query['startDate'] === day).length;
    const check = async () =>
      (await h.pool.query<{ fruitless_checks: number; next_check_at: Date }>(
        `SELECT fruitless_checks, next_check_at FROM coverage_checks WHERE site_id = $1 AND data_type = 'usage' AND nem_date = $2`,
        [HALF_HOUR_SITE, day],
      )).rows[0];

    await cycle(collector);
    expect(refetches()).toBe(1);
    expect(await check()).toEqual({ fruitless_checks: 1, next_check_at: new Date(NOW.getTime() + HOUR_MS) });

    // Within the hour it costs nothing, however many cycles run.
    await cycle(collector);
    await cycle(collector);
    expect(refetches()).toBe(1);

    h.clock.now = new Date(NOW.getTime() + HOUR_MS);
    await cycle(collector);
    expect(refetches()).toBe(2);
    expect(await check()).toEqual({ fruitless_checks: 2, next_check_at: new Date(NOW.getTime() + 7 * HOUR_MS) });
    const stream = (await report(h)).streams.find((s) => s.siteId === HALF_HOUR_SITE && s.dataType === 'usage')!;
    expect(stream.gaps).toEqual({ notCollected: [], incomplete: [], unavailable: [day] });
    expect(stream.nextCheckAt).toBe(new Date(NOW.getTime() + 7 * HOUR_MS).toISOString());

    // The data turns up; the next check after the 6 h back-off finds it and forgets the day.
    h.fake.clearFaults();
    h.clock.now = new Date(NOW.getTime() + 7 * HOUR_MS);
    await cycle(collector);
    expect(refetches()).toBe(3);
    expect(await check()).toBeUndefined();
    expect(await readIncompleteDays(h.pool, { siteId: HALF_HOUR_SITE, dataType: 'usage', from: '2025-11-01', through: '2025-11-19' })).toEqual([]);
  });
});
