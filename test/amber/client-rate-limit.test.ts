/**
 * 429 handling and pacing against real loopback servers, in real time with one-second windows. Times are
 * only checked as lower bounds (a retry can never arrive *before* the lockout ends), never as upper bounds.
 */
import { describe, expect, test, type TestContext } from 'vitest';
import { createAmberClient, type AmberClient, type RateLimitedEvent } from '../../src/amber/client.ts';
import { createRateLimiter } from '../../src/amber/rate-limiter.ts';
import { silentLogger } from '../../src/logger.ts';
import { SITE } from './elements.ts';
import { sendJson, startLoopback, type LoopbackHandler } from './loopback.ts';
import { maxInAnyWindow } from './pacing-stats.ts';

/** Tests here run concurrently, so each cleans up through its own context. */
async function setup(context: TestContext, handler: LoopbackHandler, options: { policy?: string; maxAttempts?: number } = {}) {
  const server = await startLoopback(handler);
  const rateLimited: RateLimitedEvent[] = [];
  // With one-second windows, a loaded test machine can delay a request by more than the default 250 ms
  // margin (sized for Amber's 300 s window); a wider margin keeps the pacing assertions about pacing.
  const limiter = createRateLimiter({ marginMs: 500, ...(options.policy === undefined ? {} : { policy: options.policy }) });
  const client = createAmberClient({
    baseUrl: server.baseUrl,
    apiKey: 'psk_test',
    limiter,
    logger: silentLogger(),
    requestTimeoutMs: 2_000,
    retry: { maxAttempts: options.maxAttempts ?? 5, baseMs: 20, capMs: 20 },
    random: () => 0.5,
    onRateLimited: (event) => rateLimited.push(event),
  });
  context.onTestFinished(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, limiter, rateLimited };
}

/** The gap between the first two requests the server saw. */
function gapMs(server: { requests: Array<{ at: number }> }): number {
  return server.requests[1]!.at - server.requests[0]!.at;
}

const TOO_MANY = { message: 'Too Many Requests' };

describe.concurrent('429', () => {
  test('with Retry-After: waits that long (plus jitter), then retries', async (context) => {
    const { server, client, rateLimited } = await setup(context, (_req, res, index) =>
      index === 0 ? sendJson(res, 429, TOO_MANY, { 'retry-after': '1' }) : sendJson(res, 200, [SITE]),
    );
    expect((await client.listSites()).items).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    expect(gapMs(server)).toBeGreaterThanOrEqual(1_000);
    expect(rateLimited).toEqual([{ endpoint: 'sites', attempt: 1, waitMs: 1_010, source: 'retry-after' }]);
  });

  test('with RateLimit-Reset only: waits until the reset', async (context) => {
    const { server, client, rateLimited } = await setup(context, (_req, res, index) =>
      index === 0
        ? sendJson(res, 429, TOO_MANY, { 'ratelimit-limit': '50', 'ratelimit-remaining': '0', 'ratelimit-reset': '1' })
        : sendJson(res, 200, [SITE]),
    );
    await client.listSites();
    expect(gapMs(server)).toBeGreaterThanOrEqual(1_000);
    expect(rateLimited[0]).toMatchObject({ source: 'ratelimit-reset', waitMs: 1_010 });
  });

  test('Retry-After takes precedence over RateLimit-Reset', async (context) => {
    const { client, rateLimited } = await setup(context, (_req, res, index) =>
      index === 0 ? sendJson(res, 429, TOO_MANY, { 'retry-after': '0', 'ratelimit-reset': '1' }) : sendJson(res, 200, [SITE]),
    );
    await client.listSites();
    expect(rateLimited[0]).toMatchObject({ source: 'retry-after', waitMs: 10 });
  });

  test('bare (a gateway throttle with no headers): waits a full window', async (context) => {
    const { server, client, rateLimited } = await setup(context, 
      (_req, res, index) => (index === 0 ? sendJson(res, 429, TOO_MANY) : sendJson(res, 200, [SITE])),
      { policy: '3;w=1' },
    );
    await client.listSites();
    expect(gapMs(server)).toBeGreaterThanOrEqual(1_000);
    expect(rateLimited[0]).toMatchObject({ source: 'window', waitMs: 1_010 });
  });

  test('a lockout holds every call on the key, not just the one that met it', async (context) => {
    const { server, client } = await setup(context, (_req, res, index) =>
      index === 0 ? sendJson(res, 429, TOO_MANY, { 'retry-after': '1' }) : sendJson(res, 200, [SITE]),
    );
    const first = client.listSites();
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([first, client.listSites({ priority: 'backfill' })]);
    expect(server.requests).toHaveLength(3);
    for (const later of server.requests.slice(1)) expect(later.at - server.requests[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  test('429s beyond the retry budget end as a retryable AMBER_RATE_LIMITED', async (context) => {
    const { server, client } = await setup(context, (_req, res) => sendJson(res, 429, TOO_MANY, { 'retry-after': '0' }), { maxAttempts: 3 });
    await expect(client.listSites()).rejects.toMatchObject({ code: 'AMBER_RATE_LIMITED', retryable: true });
    expect(server.requests).toHaveLength(3);
  });
});

/**
 * A server that enforces a sliding-window budget the way Amber's gateway might: it declares `limit;w=1`,
 * counts every request by arrival, and answers 429 to any request over the budget.
 */
function budgetServer(limit: number, options: { lockedUntilMs?: number } = {}) {
  const arrivals: number[] = [];
  const started = performance.now();
  let overBudget = 0;
  const handler: LoopbackHandler = (_req, res) => {
    const now = performance.now();
    arrivals.push(now);
    const inWindow = arrivals.filter((at) => at > now - 1_000).length;
    const headers = { 'ratelimit-policy': `${limit};w=1`, 'ratelimit-limit': String(limit) };
    if (options.lockedUntilMs !== undefined && now - started < options.lockedUntilMs) {
      // Another process on the same key used the whole budget: zero left until the lockout ends.
      const reset = String(Math.ceil((options.lockedUntilMs - (now - started)) / 1000));
      sendJson(res, 429, TOO_MANY, { ...headers, 'ratelimit-remaining': '0', 'ratelimit-reset': reset });
      return;
    }
    if (inWindow > limit) {
      overBudget += 1;
      sendJson(res, 429, TOO_MANY, { ...headers, 'ratelimit-remaining': '0', 'ratelimit-reset': '1' });
      return;
    }
    sendJson(res, 200, [SITE], { ...headers, 'ratelimit-remaining': String(limit - inWindow), 'ratelimit-reset': '1' });
  };
  return { handler, arrivals, overBudget: () => overBudget };
}

async function runWorkers(client: AmberClient, workers: number, callsEach: number): Promise<number> {
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < callsEach; i += 1) {
        await client.listSites({ priority: 'backfill' });
        done += 1;
      }
    }),
  );
  return done;
}

describe.concurrent('pacing against a real server', () => {
  test('a 5;w=1 server declared on the first response is never exceeded over ~3 s of calls', async (context) => {
    const budget = budgetServer(5);
    const { client, limiter } = await setup(context, budget.handler);
    expect(await runWorkers(client, 3, 5)).toBe(15);
    expect(limiter.snapshot()).toMatchObject({ limit: 5, windowSeconds: 1 });
    expect(budget.overBudget()).toBe(0);
    expect(maxInAnyWindow(budget.arrivals, 1_000)).toBeLessThanOrEqual(5);
  });

  test('a 429 storm (the key locked by another process) resolves without exceeding the budget', async (context) => {
    const budget = budgetServer(3, { lockedUntilMs: 800 });
    const { client } = await setup(context, budget.handler, { policy: '3;w=1' });
    expect(await runWorkers(client, 6, 1)).toBe(6);
    expect(budget.overBudget()).toBe(0);
    expect(maxInAnyWindow(budget.arrivals, 1_000)).toBeLessThanOrEqual(3);
  });
});
