/**
 * End to end against the fake Amber server (test/fake-amber): real routes, auth, data, faults and its own
 * sliding-window rate limiter. Each test starts its own fake, so they run concurrently.
 */
import { describe, expect, test, type TestContext } from 'vitest';
import { createAmberClient } from '../../src/amber/client.ts';
import { addDays, lastUsageDay, nemToday } from '../../src/domain/nem-time.ts';
import { createRateLimiter } from '../../src/amber/rate-limiter.ts';
import type { Logger } from '../../src/logger.ts';
import { silentLogger } from '../../src/logger.ts';
import { startFakeAmber, type FakeAmberOptions } from '../fake-amber/server.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { maxInAnyWindow } from './pacing-stats.ts';
import { VirtualClock } from './virtual-clock.ts';
import { DEFAULT_RATE_LIMIT } from '../../src/config/variables.ts';
import type { CollectorError } from '../../src/errors.ts';

/** 13:10 NEM time: yesterday's usage has landed (4 h lag) but is not final yet. */
const NOW = new Date('2025-11-20T03:10:00Z');
const YESTERDAY = lastUsageDay(NOW);

async function setup(
  context: TestContext,
  options: { fake?: FakeAmberOptions; logger?: Logger; clock?: VirtualClock } = {},
) {
  const fake = await startFakeAmber({ rateLimit: null, now: () => NOW, ...options.fake, ...(options.clock ? { clock: options.clock } : {}) });
  // With one-second windows, a loaded test machine can delay a request by more than the default 250 ms
  // margin (sized for Amber's 300 s window); a wider margin keeps the pacing assertions about pacing.
  const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, marginMs: 500, ...(options.clock ? { clock: options.clock } : {}) });
  const client = createAmberClient({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    limiter,
    logger: options.logger ?? silentLogger(),
    requestTimeoutMs: 2_000,
    retry: { maxAttempts: 3, baseMs: 10, capMs: 20 },
    wallClock: () => NOW.getTime(),
  });
  context.onTestFinished(async () => {
    await client.close();
    await fake.close();
  });
  const sites = await client.listSites();
  return { fake, client, limiter, sites: sites.items };
}

describe.concurrent('against the fake Amber server', () => {
  test('sites, a week of prices and a week of usage parse completely and match the ground truth', async (context) => {
    const { fake, client, sites } = await setup(context);
    expect(sites.length).toBeGreaterThan(0);
    for (const site of sites) {
      const from = addDays(YESTERDAY, -6);
      const prices = await client.getPrices(site.id, from, YESTERDAY, { resolution: site.intervalLength, priority: 'backfill' });
      expect(prices.rejected).toEqual([]);
      expect(prices.items.map((p) => p.raw)).toEqual(fake.expectedPrices(site.id, from, YESTERDAY));
      const usage = await client.getUsage(site.id, from, YESTERDAY, { priority: 'backfill' });
      expect(usage.rejected).toEqual([]);
      expect(usage.items.map((u) => u.raw)).toEqual(fake.expectedUsage(site.id, from, YESTERDAY));
    }
  });

  test('current prices with neighbours parse, with mixed 5- and 30-minute durations', async (context) => {
    const { client, sites } = await setup(context);
    const fiveMinute = sites.find((site) => site.intervalLength === 5) ?? sites[0]!;
    const current = await client.getCurrentPrices(fiveMinute.id, { previous: 12, next: 288, resolution: 5 });
    expect(current.rejected).toEqual([]);
    expect(current.items.filter((p) => p.type === 'CurrentInterval').length).toBeGreaterThan(0);
    expect(new Set(current.items.map((p) => p.date))).toContain(nemToday(NOW));
  });

  test('a wrong key is AMBER_AUTH, without retries', async (context) => {
    const fake = await startFakeAmber({ rateLimit: null, now: () => NOW });
    context.onTestFinished(() => fake.close());
    const client = createAmberClient({ baseUrl: fake.url, apiKey: 'psk_wrong', limiter: createRateLimiter({ policy: DEFAULT_RATE_LIMIT }), logger: silentLogger(), requestTimeoutMs: 5_000 });
    context.onTestFinished(() => client.close());
    await expect(client.listSites()).rejects.toMatchObject({ code: 'AMBER_AUTH' });
    expect(fake.requests).toHaveLength(1);
  });

  test('a 404 names the URL path it called and never the key', async (context) => {
    const fake = await startFakeAmber({ rateLimit: null, now: () => NOW });
    context.onTestFinished(() => fake.close());
    const baseUrl = `${fake.url}/extra`;
    const client = createAmberClient({ baseUrl, apiKey: fake.apiKey, limiter: createRateLimiter({ policy: DEFAULT_RATE_LIMIT }), logger: silentLogger(), requestTimeoutMs: 5_000 });
    context.onTestFinished(() => client.close());
    const error = (await client.listSites().then(
      () => null,
      (err: unknown) => err,
    )) as CollectorError;
    expect(error).toMatchObject({ code: 'AMBER_NOT_FOUND', details: { path: `${new URL(baseUrl).pathname}/sites` } });
    expect(error.message).toBe(`Amber answered 404 for ${new URL(baseUrl).pathname}/sites: check AMBER_API_BASE_URL (Amber's is https://api.amber.com.au/v1)`);
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(fake.apiKey);
  });

  test('faults: a 503 and a reset are retried; a truncated body is AMBER_SCHEMA', async (context) => {
    const { fake, client, sites } = await setup(context);
    const site = sites[0]!;
    fake.inject({ kind: 'status', status: 503, endpoint: 'prices' });
    fake.inject({ kind: 'reset', endpoint: 'prices' });
    const prices = await client.getPrices(site.id, YESTERDAY, YESTERDAY);
    expect(prices.items.length).toBeGreaterThan(0);
    fake.inject({ kind: 'truncated', endpoint: 'usage' });
    await expect(client.getUsage(site.id, YESTERDAY, YESTERDAY)).rejects.toMatchObject({ code: 'AMBER_SCHEMA' });
  });

  test('faults: a bad row is rejected alone; new enum values and unknown fields are kept', async (context) => {
    const log = captureLogger('debug');
    const { fake, client, sites } = await setup(context, { logger: log.logger });
    const site = sites[0]!;
    fake.inject({ kind: 'badRow', endpoint: 'prices', index: 0 });
    const withBadRow = await client.getPrices(site.id, YESTERDAY, YESTERDAY);
    expect(withBadRow.rejected.map((r) => r.index)).toEqual([0]);
    expect(withBadRow.items.length).toBeGreaterThan(0);

    fake.inject({ kind: 'newEnum', endpoint: 'prices' });
    fake.inject({ kind: 'unknownFields', endpoint: 'usage' });
    const withNewEnum = await client.getPrices(site.id, YESTERDAY, YESTERDAY);
    expect(withNewEnum.rejected).toEqual([]);
    expect(log.lines.filter((line) => line['message'] === 'unknown value in an Amber API response; kept as sent').length).toBeGreaterThan(0);
    const usage = await client.getUsage(site.id, YESTERDAY, YESTERDAY);
    expect(usage.rejected).toEqual([]);
    expect(usage.items[0]?.raw).toHaveProperty('loyalty');
  });

  test('a lockout (429 with RateLimit-Reset) is waited out, not hammered', async (context) => {
    const { fake, client, sites } = await setup(context);
    fake.inject({ kind: 'lockout', seconds: 1, endpoint: 'prices' });
    fake.resetRequestLog();
    const prices = await client.getPrices(sites[0]!.id, YESTERDAY, YESTERDAY);
    expect(prices.items.length).toBeGreaterThan(0);
    // One refused request, then one after the lockout: a retry inside it would have extended it.
    expect(fake.requests.map((r) => [r.status, r.fault])).toEqual([
      [429, 'lockout'],
      [200, null],
    ]);
    expect(fake.requests[1]!.at - fake.requests[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  // In virtual time shared by the client's limiter and the fake's: time stands still while a request is on its
  // way, so the fake counts each at the moment the limiter let it go. In real time a loaded machine can hold a
  // request longer than any margin between its send and its arrival, and the count would measure the machine.
  // Waiting out the windows against the real clock is the daemon tests' job (daemon.test.ts, 4;w=1).
  test("the fake's own 4;w=1 budget, learned from its first response, is never exceeded", async (context) => {
    let calling = 0;
    // Time moves only while every call still running waits in the limiter's queue: none is on the wire.
    const clock = new VirtualClock(0, { busy: () => calling > limiter.snapshot().queued });
    const { fake, client, limiter, sites } = await setup(context, { fake: { rateLimit: { limit: 4, windowSeconds: 1 } }, clock });
    expect(limiter.snapshot()).toMatchObject({ limit: 4, windowSeconds: 1 });
    const site = sites[0]!;
    await Promise.all(
      [0, 1].map(async (worker) => {
        for (let i = 0; i < 5; i += 1) {
          const day = addDays(YESTERDAY, -(worker * 5 + i));
          calling += 1;
          try {
            await client.getPrices(site.id, day, day, { priority: 'backfill' });
          } finally {
            calling -= 1;
          }
        }
      }),
    );
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
    // 11 requests (the sites, then 10 days) at 4 a second: the windows were really waited out, in virtual time.
    expect(fake.requests).toHaveLength(11);
    expect(fake.requests[10]!.at - fake.requests[0]!.at).toBeGreaterThanOrEqual(2_000);
    expect(maxInAnyWindow(fake.requests.map((r) => r.at), 1_000)).toBeLessThanOrEqual(4);
  });
});
