import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AmberClient } from '../../src/amber/client.ts';
import { readCollectionState, resetCollectionState } from '../../src/db/collection-state.ts';
import { diffPrices, diffUsage } from '../helpers/ground-truth.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';

// 13:00 NEM time on 2025-11-21: prices exist through the current interval, usage through 2025-11-20.
const NOW = new Date('2025-11-21T03:00:00Z');
const START = '2025-09-22'; // 60 NEM days before the 21st
// 30 NEM days: five 7-day chunks of each stream (MAX_RANGE_DAYS), for the tests about how a backfill repeats,
// resumes or takes turns, which hold at five chunks as at nine; the 60-day one checks the stored rows.
const SHORT_START = '2025-10-23';

async function tableFingerprint(h: Harness): Promise<{ prices: string; usage: string }> {
  const prices = await h.pool.query<{ f: string }>(
    `SELECT count(*) || ':' || md5(string_agg(concat_ws('|', site_id, channel_type, nem_time, duration, per_kwh, spot_per_kwh, raw::text), ',' ORDER BY site_id, channel_type, nem_time, duration)) AS f FROM price_data`,
  );
  const usage = await h.pool.query<{ f: string }>(
    `SELECT count(*) || ':' || md5(string_agg(concat_ws('|', site_id, channel_id, nem_time, duration, kwh, cost, quality, raw::text), ',' ORDER BY site_id, channel_id, nem_time, duration)) AS f FROM usage_data`,
  );
  return { prices: prices.rows[0]!.f, usage: usage.rows[0]!.f };
}

describe('backfill of two sites: 60 days, and 30 for the repeats', () => {
  // Each test has its own database and runs the backfill it builds on, so none depends on another's.
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ now: NOW });
  });
  afterEach(async () => h.close());

  async function backfillEverySite(start = START) {
    const collector = h.newCollector({ historicalStartDate: start });
    const sites = await collector.discoverSites(AbortSignal.timeout(10_000));
    await collector.backfill(AbortSignal.timeout(60_000));
    return sites;
  }

  it('stores exactly the actual intervals and usage the API has, with no duplicates', async () => {
    const sites = await backfillEverySite();

    const withData = sites.filter((s) => s.status !== 'pending' && s.status !== 'closed');
    expect(withData.length).toBeGreaterThanOrEqual(2);
    for (const site of withData) {
      const prices = await diffPrices(h.pool, h.fake, site.id, START, '2025-11-21');
      expect(prices.missing).toEqual([]);
      expect(prices.extra).toEqual([]);
      expect(prices.wrong).toEqual([]);
      expect(prices.stored).toBeGreaterThan(0);
      const usage = await diffUsage(h.pool, h.fake, site.id, START, '2025-11-20');
      expect({ missing: usage.missing, extra: usage.extra, wrong: usage.wrong }).toEqual({ missing: [], extra: [], wrong: [] });
      expect(usage.stored).toBe(usage.expected);
      expect((await readCollectionState(h.pool, site.id, 'price'))?.collectedThrough).toBe('2025-11-20');
      expect((await readCollectionState(h.pool, site.id, 'usage'))?.collectedThrough).toBe('2025-11-20');
    }
    // Every closed and active site is stored, even those with nothing to collect.
    const stored = await h.pool.query('SELECT id FROM sites');
    expect(stored.rowCount).toBe(sites.length);
  });

  it('a cycle right after the backfill changes nothing, and a second backfill makes no calls', async () => {
    await backfillEverySite(SHORT_START);
    const collector = h.newCollector({ historicalStartDate: SHORT_START });
    await collector.discoverSites(AbortSignal.timeout(10_000));
    h.fake.resetRequestLog();
    const summary = await collector.runCycle(AbortSignal.timeout(30_000));
    expect(summary).toMatchObject({ inserted: 0, updated: 0, failedStreams: 0 });
    expect(summary!.unchanged).toBeGreaterThan(0);
    h.fake.resetRequestLog();
    await collector.backfill(AbortSignal.timeout(10_000));
    expect(h.fake.requests.filter((r) => r.endpoint === 'prices' || r.endpoint === 'usage')).toHaveLength(0);
  });

  it('FORCE_REINIT-style reset collects everything again and writes nothing new', async () => {
    await backfillEverySite(SHORT_START);
    const before = await tableFingerprint(h);
    await resetCollectionState(h.pool);
    const collector = h.newCollector({ historicalStartDate: SHORT_START });
    await collector.discoverSites(AbortSignal.timeout(10_000));
    h.fake.resetRequestLog();
    await collector.backfill(AbortSignal.timeout(60_000));
    expect(h.fake.requests.filter((r) => r.endpoint === 'prices').length).toBeGreaterThan(8);
    expect(await tableFingerprint(h)).toEqual(before);
    const changed = await h.pool.query('SELECT count(*)::int AS n FROM price_data WHERE revision_count > 0');
    expect(changed.rows[0].n).toBe(0);
  });
});

describe('interrupted backfills', () => {
  let reference: Harness;
  let expected: { prices: string; usage: string };
  const start = '2025-10-20';

  beforeAll(async () => {
    reference = await startHarness({ now: NOW });
    const collector = reference.newCollector({ historicalStartDate: start });
    await collector.discoverSites(AbortSignal.timeout(10_000));
    await collector.backfill(AbortSignal.timeout(60_000));
    expected = await tableFingerprint(reference);
  });
  afterAll(async () => reference.close());

  it('resumes after an abort at any point and ends identical to an uninterrupted run', async () => {
    const h = await startHarness({ now: NOW });
    try {
      // Deterministic "random" abort points, from before the first call to mid-way through.
      const abortAfterMs = [0, 3, 17, 40, 90, 160, 250];
      for (const ms of abortAfterMs) {
        const collector = h.newCollector({ historicalStartDate: start });
        const controller = new AbortController();
        setTimeout(() => controller.abort(), ms);
        try {
          await collector.discoverSites(controller.signal);
          await collector.backfill(controller.signal);
        } catch {
          // An abort during discovery surfaces as an error; the next attempt starts over.
        }
        await collector.settle();
      }
      const last = h.newCollector({ historicalStartDate: start });
      await last.discoverSites(AbortSignal.timeout(10_000));
      await last.backfill(AbortSignal.timeout(60_000));
      expect(await tableFingerprint(h)).toEqual(expected);
    } finally {
      await h.close();
    }
  });
});

describe('incremental cycles', () => {
  it('lands usage revisions on the next usage poll and moves updated_at only for changed rows', async () => {
    // 05:00 NEM on the 21st: usage for the 20th has just appeared, partly estimated.
    const h = await startHarness({ now: new Date('2025-11-20T19:00:00Z'), fake: { usageLagHours: 4, usageFinalHours: 12 } });
    try {
      const collector = h.newCollector({ historicalStartDate: '2025-11-18' });
      await collector.discoverSites(AbortSignal.timeout(10_000));
      await collector.backfill(AbortSignal.timeout(30_000));
      const site = collector.collectedSites.find((s) => s.status === 'active')!;
      const firstSeen = h.fake.expectedUsage(site.id, '2025-11-20', '2025-11-20');
      expect(firstSeen.length).toBeGreaterThan(0);

      // Ten hours later the day is final: some rows change (estimated → billable), the rest do not.
      h.clock.now = new Date('2025-11-21T05:00:00Z');
      const final = h.fake.expectedUsage(site.id, '2025-11-20', '2025-11-20');
      const changedKeys = final.filter((row, i) => JSON.stringify(row) !== JSON.stringify(firstSeen[i])).length;
      expect(changedKeys).toBeGreaterThan(0);
      await collector.runCycle(AbortSignal.timeout(30_000));

      const diff = await diffUsage(h.pool, h.fake, site.id, '2025-11-18', '2025-11-20');
      expect({ missing: diff.missing, wrong: diff.wrong }).toEqual({ missing: [], wrong: [] });
      const moved = await h.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM usage_data WHERE site_id = $1 AND nem_date = '2025-11-20' AND updated_at > first_seen_at`,
        [site.id],
      );
      expect(moved.rows[0]!.n).toBe(changedKeys);
      const untouched = await h.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM usage_data WHERE site_id = $1 AND nem_date < '2025-11-20' AND updated_at > first_seen_at`,
        [site.id],
      );
      expect(untouched.rows[0]!.n).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('skips a tick while the previous cycle is still running', async () => {
    const h = await startHarness({ now: NOW });
    try {
      const collector = h.newCollector({ historicalStartDate: '2025-11-19' });
      await collector.discoverSites(AbortSignal.timeout(10_000));
      h.fake.inject({ kind: 'slowHeaders', ms: 300, endpoint: 'prices' });
      const first = collector.runCycle(AbortSignal.timeout(10_000));
      const second = await collector.runCycle(AbortSignal.timeout(10_000));
      expect(second).toBeNull();
      expect(await first).not.toBeNull();
    } finally {
      await h.close();
    }
  });

  it('keeps collecting the healthy site when another site keeps failing', async () => {
    const h = await startHarness({ now: NOW });
    try {
      const collector = h.newCollector({ historicalStartDate: '2025-11-01' });
      const sites = (await collector.discoverSites(AbortSignal.timeout(10_000))).filter((s) => s.status === 'active');
      const [broken, healthy] = [sites[0]!, sites[1]!];
      h.fake.inject({ kind: 'status', status: 502, siteId: broken.id, times: 1_000 });
      await collector.backfill(AbortSignal.timeout(30_000));
      const ok = await diffPrices(h.pool, h.fake, healthy.id, '2025-11-01', '2025-11-21');
      expect({ missing: ok.missing.length, wrong: ok.wrong.length }).toEqual({ missing: 0, wrong: 0 });
      const state = await readCollectionState(h.pool, broken.id, 'price');
      expect(state?.collectedThrough ?? null).toBeNull();
      expect(state?.lastError).toMatch(/AMBER_SERVER/);
      expect(state?.consecutiveFailures).toBeGreaterThan(0);

      // Once the site recovers, the next cycle resumes its backfill.
      h.fake.clearFaults();
      await collector.runCycle(AbortSignal.timeout(30_000));
      while (collector.backfillRunning) await new Promise((r) => setTimeout(r, 20));
      const recovered = await diffPrices(h.pool, h.fake, broken.id, '2025-11-01', '2025-11-21');
      expect({ missing: recovered.missing.length, wrong: recovered.wrong.length }).toEqual({ missing: 0, wrong: 0 });
      expect((await readCollectionState(h.pool, broken.id, 'price'))?.consecutiveFailures).toBe(0);
    } finally {
      await h.close();
    }
  });
});

describe('chunks in memory', () => {
  /** Counts the client's prices and usage calls in flight, keeping the most seen at once and their order. */
  function observeCalls(): { wrap: (client: AmberClient) => AmberClient; most: () => number; order: string[] } {
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    const track = <T>(key: string, call: () => Promise<T>): Promise<T> => {
      order.push(key);
      inFlight += 1;
      most = Math.max(most, inFlight);
      return call().finally(() => (inFlight -= 1));
    };
    const wrap = (client: AmberClient): AmberClient => ({
      ...client,
      getPrices: (siteId, ...rest) => track(`${siteId}|price`, () => client.getPrices(siteId, ...rest)),
      getUsage: (siteId, ...rest) => track(`${siteId}|usage`, () => client.getUsage(siteId, ...rest)),
    });
    return { wrap, most: () => most, order };
  }

  it('the backfill holds one chunk at a time and takes the streams in turns', async () => {
    const h = await startHarness({ now: NOW });
    try {
      const calls = observeCalls();
      const collector = h.newCollector({ historicalStartDate: SHORT_START, wrapClient: calls.wrap });
      await collector.discoverSites(AbortSignal.timeout(10_000));
      await collector.backfill(AbortSignal.timeout(60_000));
      expect(calls.most()).toBe(1);
      const streams = new Set(calls.order);
      expect(streams.size).toBeGreaterThanOrEqual(4);
      // Every stream has its first chunk stored before any stream gets its second.
      expect(new Set(calls.order.slice(0, streams.size)).size).toBe(streams.size);
    } finally {
      await h.close();
    }
  });

  it('a cycle during the backfill adds at most one more chunk, and both finish complete', async () => {
    const h = await startHarness({ now: NOW });
    try {
      const calls = observeCalls();
      const collector = h.newCollector({ historicalStartDate: SHORT_START, wrapClient: calls.wrap });
      const sites = await collector.discoverSites(AbortSignal.timeout(10_000));
      h.fake.inject({ kind: 'slowHeaders', ms: 20, times: 1_000 });
      const backfill = collector.backfill(AbortSignal.timeout(60_000));
      const summary = await collector.runCycle(AbortSignal.timeout(60_000));
      await backfill;
      while (collector.backfillRunning) await new Promise((r) => setTimeout(r, 20));
      expect(summary).toMatchObject({ failedStreams: 0 });
      expect(calls.most()).toBe(2);
      for (const site of sites.filter((s) => s.status === 'active')) {
        const prices = await diffPrices(h.pool, h.fake, site.id, SHORT_START, '2025-11-21');
        expect({ missing: prices.missing.length, wrong: prices.wrong.length }).toEqual({ missing: 0, wrong: 0 });
      }
    } finally {
      await h.close();
    }
  });
});
