/**
 * 429 handling and pacing against real loopback servers, in real time with one-second windows. Times are
 * only checked as lower bounds (a retry can never arrive *before* the lockout ends), never as upper bounds.
 */
import { describe, expect, test, type TestContext } from 'vitest';
import type { RateLimitedEvent } from '../../src/amber/call-target.ts';
import { createAmberClient, type AmberClient } from '../../src/amber/client.ts';
import { createRateLimiter, parseRateLimitPolicy } from '../../src/amber/rate-limiter.ts';
import type { RateLimitPolicy } from '../../src/domain/rate-budget.ts';
import { DEFAULT_RATE_LIMIT } from '../../src/config/variables.ts';
import { silentLogger } from '../../src/logger.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { SITE } from './elements.ts';
import { sendJson, startLoopback, type LoopbackHandler } from './loopback.ts';
import { maxInAnyWindow } from './pacing-stats.ts';
import { VirtualClock } from './virtual-clock.ts';

/** Tests here run concurrently, so each cleans up through its own context. */
async function setup(context: TestContext, handler: LoopbackHandler, options: { policy?: RateLimitPolicy; maxAttempts?: number } = {}) {
  const server = await startLoopback(handler);
  const rateLimited: RateLimitedEvent[] = [];
  // With one-second windows, a loaded test machine can delay a request by more than the default 250 ms
  // margin (sized for Amber's 300 s window); a wider margin keeps the pacing assertions about pacing.
  const limiter = createRateLimiter({ marginMs: 500, policy: options.policy ?? DEFAULT_RATE_LIMIT });
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
      { policy: { limit: 3, windowSeconds: 1 } },
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
    const { client } = await setup(context, budget.handler, { policy: { limit: 3, windowSeconds: 1 } });
    expect(await runWorkers(client, 6, 1)).toBe(6);
    expect(budget.overBudget()).toBe(0);
    expect(maxInAnyWindow(budget.arrivals, 1_000)).toBeLessThanOrEqual(3);
  });
});

/**
 * Lockouts of many minutes, so in virtual time: the limiter and client share a `VirtualClock`, which jumps
 * over each pause as soon as nothing else is pending. The loopback server stamps requests with that clock.
 */
async function virtualSetup(
  context: TestContext,
  respond: (res: Parameters<LoopbackHandler>[1], nowMs: number, index: number) => void,
  policy = '50;w=300',
) {
  const clock = new VirtualClock();
  const times: number[] = [];
  const server = await startLoopback((_req, res, index) => {
    times.push(clock.now());
    respond(res, clock.now(), index);
  });
  const log = captureLogger();
  const rateLimited: RateLimitedEvent[] = [];
  const client = createAmberClient({
    baseUrl: server.baseUrl,
    apiKey: 'psk_test',
    limiter: createRateLimiter({ policy: parseRateLimitPolicy(policy)!, clock }),
    logger: log.logger,
    requestTimeoutMs: 2_000,
    retry: { maxAttempts: 5, baseMs: 20, capMs: 20 },
    random: () => 0.5,
    onRateLimited: (event) => rateLimited.push(event),
  });
  context.onTestFinished(async () => {
    await client.close();
    await server.close();
  });
  return { client, times, rateLimited, lines: log.lines };
}

/** Answers 429 (remaining 0, the seconds left as RateLimit-Reset) until `lockedUntilMs`, then 200. */
function lockedUntil(lockedUntilMs: number, extra: Record<string, string> = {}) {
  return (res: Parameters<LoopbackHandler>[1], nowMs: number): void => {
    if (nowMs >= lockedUntilMs) return sendJson(res, 200, [SITE]);
    const reset = String(Math.ceil((lockedUntilMs - nowMs) / 1000));
    sendJson(res, 429, TOO_MANY, { 'ratelimit-policy': '50;w=300', 'ratelimit-remaining': '0', 'ratelimit-reset': reset, ...extra });
  };
}

const CLAMP_WARNING = 'Amber asked for an implausibly long 429 pause; capping it';

describe.concurrent('429 pauses longer than the window (virtual time)', () => {
  test.for([2, 5])('RateLimit-Reset of %i× the 300 s window: one pause that long, no early retry', async (factor, context) => {
    const lockMs = factor * 300_000;
    const { client, times, rateLimited, lines } = await virtualSetup(context, lockedUntil(lockMs));
    expect((await client.listSites()).items).toHaveLength(1);
    expect(times).toEqual([0, lockMs + 10]);
    expect(rateLimited).toEqual([{ endpoint: 'sites', attempt: 1, waitMs: lockMs + 10, source: 'ratelimit-reset' }]);
    expect(lines.filter((line) => line['message'] === CLAMP_WARNING)).toEqual([]);
  });

  test('Retry-After beyond the window still takes precedence over RateLimit-Reset', async (context) => {
    const { client, times, rateLimited } = await virtualSetup(context, (res, _now, index) =>
      index === 0
        ? sendJson(res, 429, TOO_MANY, { 'retry-after': '900', 'ratelimit-remaining': '0', 'ratelimit-reset': '60' })
        : sendJson(res, 200, [SITE]),
    );
    await client.listSites();
    expect(times).toEqual([0, 900_010]);
    expect(rateLimited[0]).toMatchObject({ source: 'retry-after', waitMs: 900_010 });
  });

  test.for([
    ['RateLimit-Reset of 10 days', { 'ratelimit-reset': '864000' }, 'ratelimit-reset'],
    ['epoch RateLimit-Reset 10 days ahead', { 'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 864_000) }, 'ratelimit-reset'],
    ['Retry-After of 10 days', { 'retry-after': '864000' }, 'retry-after'],
  ] as const)('a garbage %s is capped at one hour, with a warning', async ([, headers, source], context) => {
    const { client, times, rateLimited, lines } = await virtualSetup(context, (res, _now, index) =>
      index === 0 ? sendJson(res, 429, TOO_MANY, headers) : sendJson(res, 200, [SITE]),
    );
    await client.listSites();
    expect(times).toEqual([0, 3_600_010]);
    expect(rateLimited).toEqual([{ endpoint: 'sites', attempt: 1, waitMs: 3_600_010, source }]);
    const warning = lines.find((line) => line['message'] === CLAMP_WARNING);
    expect(warning).toMatchObject({ level: 40, source, maxMs: 3_600_000 });
    expect(warning!['requestedMs']).toBeGreaterThan(863_000_000);
  });

  test.for([
    ['50;w=300', 120],
    ['50;w=7200', 7_000],
  ] as const)('with policy %s a reset of %i s, inside the window, behaves as before', async ([policy, reset], context) => {
    const { client, times, rateLimited, lines } = await virtualSetup(
      context,
      (res, _now, index) =>
        index === 0
          ? sendJson(res, 429, TOO_MANY, { 'ratelimit-policy': policy, 'ratelimit-remaining': '0', 'ratelimit-reset': String(reset) })
          : sendJson(res, 200, [SITE]),
      policy,
    );
    await client.listSites();
    // The pause ends at reset + jitter; the placeholders for the server's spent quota leave at reset + the
    // 250 ms margin and hold the call that little longer.
    expect(rateLimited[0]).toMatchObject({ source: 'ratelimit-reset', waitMs: reset * 1000 + 10 });
    expect(times).toEqual([0, reset * 1000 + 250]);
    expect(lines.filter((line) => line['message'] === CLAMP_WARNING)).toEqual([]);
  });
});
