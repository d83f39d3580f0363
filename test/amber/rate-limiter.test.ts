import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createRateLimiter, parseRateLimitPolicy, realClock, type RateLimiter } from '../../src/amber/rate-limiter.ts';
import { fullBudgetDurationMs } from '../../src/domain/rate-budget.ts';
import { isCollectorError } from '../../src/errors.ts';
import { maxInAnyWindow } from './pacing-stats.ts';
import { VirtualClock } from './virtual-clock.ts';
import { amberFixturePath } from '../helpers/amber-fixtures.ts';
import { DEFAULT_RATE_LIMIT } from '../../src/config/variables.ts';

const PAYLOADS = amberFixturePath('payloads');

/** Acquires `calls` slots one after another (as a backfill loop does) and returns the grant times. */
async function runSequential(limiter: RateLimiter, calls: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i += 1) {
    await limiter.acquire({ priority: 'backfill' });
    times.push(limiter.clock.now());
  }
  return times;
}

describe('parseRateLimitPolicy', () => {
  test.each([
    ['50;w=300', { limit: 50, windowSeconds: 300 }],
    ['10;w=2', { limit: 10, windowSeconds: 2 }],
    [' 50 ; w=300 ', { limit: 50, windowSeconds: 300 }],
    ['"default";q=50;w=300', { limit: 50, windowSeconds: 300 }],
    ['default;q=50;w=300;pk=:abc=:', { limit: 50, windowSeconds: 300 }],
    ['50;w=300, 1000;w=86400', { limit: 50, windowSeconds: 300 }],
    ['junk, 5;w=1', { limit: 5, windowSeconds: 1 }],
  ])('%s', (value, expected) => {
    expect(parseRateLimitPolicy(value)).toEqual(expected);
  });

  test.each(['', '50', 'w=300', '0;w=300', '50;w=0', '"x";w=300', 'fifty;w=300'])('%j is ignored', (value) => {
    expect(parseRateLimitPolicy(value)).toBeNull();
  });

  test('the ETA of an idle limiter is a pure function of the policy', () => {
    for (const calls of [0, 1, 50, 51, 100, 101, 5_000]) {
      const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock: new VirtualClock() });
      expect(fullBudgetDurationMs(DEFAULT_RATE_LIMIT, calls)).toBe(limiter.estimateDurationMs(calls));
    }
  });
});

describe('pacing in virtual time', () => {
  test('5,000 calls never exceed 50 in any 300 s window and finish close to the floor', async () => {
    const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock: new VirtualClock() });
    const times = await runSequential(limiter, 5_000);
    expect(maxInAnyWindow(times, 300_000)).toBe(50);
    const floorMs = (Math.ceil(5_000 / 50) - 1) * 300_000;
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(floorMs);
    expect(times.at(-1)! - times[0]!).toBeLessThanOrEqual(floorMs * 1.1);
  });

  test('concurrent callers share one budget', async () => {
    const limiter = createRateLimiter({ policy: { limit: 50, windowSeconds: 300 }, clock: new VirtualClock() });
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let i = 0; i < 100; i += 1) {
          await limiter.acquire({ priority: i % 2 === 0 ? 'fresh' : 'backfill' });
          times.push(limiter.clock.now());
        }
      }),
    );
    expect(times).toHaveLength(2_000);
    expect(maxInAnyWindow(times, 300_000)).toBe(50);
  });

  test('a policy the server declares is adopted: 10;w=2 is paced at 10 per 2 s', async () => {
    const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock: new VirtualClock() });
    limiter.observe({ 'ratelimit-policy': '10;w=2', 'ratelimit-limit': '10' });
    expect(limiter.snapshot()).toMatchObject({ limit: 10, windowSeconds: 2 });
    const times = await runSequential(limiter, 1_000);
    expect(maxInAnyWindow(times, 2_000)).toBe(10);
    const floorMs = (Math.ceil(1_000 / 10) - 1) * 2_000;
    expect(times.at(-1)! - times[0]!).toBeLessThanOrEqual(floorMs * 1.13); // 250 ms margin on a 2 s window
  });

  test('the newer draft form of RateLimit-Policy is adopted too, and RateLimit-Limit alone keeps the window', () => {
    const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock: new VirtualClock() });
    limiter.observe({ 'ratelimit-policy': '"default";q=20;w=60' });
    expect(limiter.snapshot()).toMatchObject({ limit: 20, windowSeconds: 60 });
    limiter.observe({ 'ratelimit-limit': '30' });
    expect(limiter.snapshot()).toMatchObject({ limit: 30, windowSeconds: 60 });
    limiter.observe({ 'ratelimit-policy': 'nonsense', 'ratelimit-limit': 'many' });
    expect(limiter.snapshot()).toMatchObject({ limit: 30, windowSeconds: 60 });
  });

  test('the margin is configurable, and zero margin reaches the exact floor', async () => {
    const limiter = createRateLimiter({ policy: { limit: 5, windowSeconds: 10 }, marginMs: 0, clock: new VirtualClock() });
    const times = await runSequential(limiter, 25);
    expect(times.at(-1)).toBe(4 * 10_000);
    expect(maxInAnyWindow(times, 10_000)).toBe(5);
  });
});

describe('reconciling with the server', () => {
  test('a lower RateLimit-Remaining is trusted until its reset (another process uses the key)', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock });
    await limiter.acquire();
    limiter.observe({ 'ratelimit-limit': '50', 'ratelimit-remaining': '0', 'ratelimit-reset': '120', 'ratelimit-policy': '50;w=300' });
    expect(limiter.snapshot()).toMatchObject({ remaining: 0, inWindow: 50 });
    await limiter.acquire();
    expect(clock.now()).toBe(120_000 + 250);
  });

  test('a higher RateLimit-Remaining changes nothing: our own log is stricter', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: { limit: 3, windowSeconds: 10 }, clock });
    await runSequential(limiter, 3);
    limiter.observe({ 'ratelimit-remaining': '3', 'ratelimit-reset': '0' });
    expect(limiter.snapshot()).toMatchObject({ remaining: 3, inWindow: 3 });
    await limiter.acquire();
    expect(clock.now()).toBe(10_250);
  });

  test('the shared fixture headers (50;w=300, 42 left, reset 180) leave 42 sends for now', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock });
    const headers = JSON.parse(readFileSync(`${PAYLOADS}/amber-express-ratelimit-headers-fixture.json`, 'utf8')) as Record<string, string>;
    limiter.observe(headers);
    expect(limiter.snapshot()).toMatchObject({ limit: 50, windowSeconds: 300, remaining: 42, inWindow: 8 });
    const times = await runSequential(limiter, 43);
    expect(times[41]).toBe(0);
    expect(times[42]).toBe(180_250);
  });

  test('a gateway 429 without RateLimit headers (issue 280) leaves the limiter as it was', () => {
    const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock: new VirtualClock() });
    const { headers } = JSON.parse(readFileSync(`${PAYLOADS}/issue280-429-throttled-response-headers.json`, 'utf8')) as {
      headers: Record<string, string>;
    };
    const lowerCased = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
    const before = limiter.snapshot();
    limiter.observe(lowerCased);
    expect(limiter.snapshot()).toEqual(before);
    expect(limiter.resetDelayMs(lowerCased)).toBeNull();
  });

  test('an epoch-style RateLimit-Reset is converted; a reset beyond the window is reported as is (the client bounds it)', () => {
    const wallNow = Date.parse('2026-03-10T06:45:00Z');
    const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock: new VirtualClock(), wallClock: () => wallNow });
    expect(limiter.resetDelayMs({ 'ratelimit-reset': String(wallNow / 1000 + 90) })).toBe(90_000);
    expect(limiter.resetDelayMs({ 'ratelimit-reset': String(wallNow / 1000 - 90) })).toBe(0);
    expect(limiter.resetDelayMs({ 'ratelimit-reset': String(wallNow / 1000 + 1_500) })).toBe(1_500_000);
    expect(limiter.resetDelayMs({ 'ratelimit-reset': '120' })).toBe(120_000);
    expect(limiter.resetDelayMs({ 'ratelimit-reset': '600' })).toBe(600_000);
    expect(limiter.resetDelayMs({ 'ratelimit-reset': '100000' })).toBe(100_000_000);
    expect(limiter.resetDelayMs({ 'ratelimit-reset': '-5' })).toBeNull();
  });

  test('a success whose RateLimit-Reset lies beyond the window holds its placeholders for one window only', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: { limit: 5, windowSeconds: 60 }, clock });
    limiter.observe({ 'ratelimit-remaining': '0', 'ratelimit-reset': '600' });
    expect(limiter.snapshot()).toMatchObject({ remaining: 0, inWindow: 5 });
    await limiter.acquire();
    expect(clock.now()).toBe(60_250);
  });

  test('the draft >= 07 RateLimit field (r, t) is understood', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: { limit: 5, windowSeconds: 60 }, clock });
    limiter.observe({ ratelimit: '"default";r=0;t=30' });
    expect(limiter.snapshot()).toMatchObject({ remaining: 0, inWindow: 5 });
    await limiter.acquire();
    expect(clock.now()).toBe(30_250);
  });
});

describe('waiting', () => {
  test('fresh waiters overtake queued backfill; FIFO within a priority', async () => {
    const limiter = createRateLimiter({ policy: { limit: 1, windowSeconds: 1 }, clock: new VirtualClock() });
    await limiter.acquire();
    const order: string[] = [];
    const waiters = [
      ['backfill-1', 'backfill'],
      ['backfill-2', 'backfill'],
      ['fresh-1', 'fresh'],
      ['backfill-3', 'backfill'],
      ['fresh-2', 'fresh'],
    ].map(([name, priority]) => limiter.acquire({ priority: priority as 'fresh' | 'backfill' }).then(() => order.push(name!)));
    expect(limiter.snapshot().queued).toBe(5);
    await Promise.all(waiters);
    expect(order).toEqual(['fresh-1', 'fresh-2', 'backfill-1', 'backfill-2', 'backfill-3']);
  });

  test('an aborted waiter leaves the queue and rejects with ABORTED; the others keep their turn', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: { limit: 1, windowSeconds: 10 }, clock });
    await limiter.acquire();
    const controller = new AbortController();
    const aborted = limiter.acquire({ signal: controller.signal });
    const next = limiter.acquire();
    controller.abort(new Error('shutdown'));
    await expect(aborted).rejects.toSatisfy((err) => isCollectorError(err, 'ABORTED'));
    expect(limiter.snapshot().queued).toBe(1);
    await next;
    expect(clock.now()).toBe(10_250);
    await expect(limiter.acquire({ signal: AbortSignal.abort() })).rejects.toSatisfy((err) => isCollectorError(err, 'ABORTED'));
  });

  test('with the real clock, abort releases a wait of a whole window within a second, and leaves no timer behind', async () => {
    const limiter = createRateLimiter({ policy: { limit: 1, windowSeconds: 300 }, clock: realClock });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire({ signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const outcome = await Promise.race([
      waiting.then(() => 'granted', (err: unknown) => (isCollectorError(err, 'ABORTED') ? 'aborted' : 'other error')),
      new Promise((resolve) => setTimeout(resolve, 1_000, 'still waiting after 1 s')),
    ]);
    expect(outcome).toBe('aborted');
    expect(limiter.snapshot().queued).toBe(0);
  });

  test('pauseUntil holds every waiter until the lockout ends, and never shortens it', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock });
    limiter.pauseUntil(60_000);
    limiter.pauseUntil(30_000);
    expect(limiter.snapshot().pausedUntil).toBe(60_000);
    const times = await Promise.all([limiter.acquire({ priority: 'backfill' }), limiter.acquire()].map((p) => p.then(() => clock.now())));
    expect(times).toEqual([60_000, 60_000]);
    expect(limiter.snapshot().pausedUntil).toBeNull();
  });

  test('a looser policy declared while waiting wakes the waiter early', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: { limit: 1, windowSeconds: 300 }, clock });
    await limiter.acquire();
    const waiting = limiter.acquire();
    await clock.sleep(1_000);
    limiter.observe({ 'ratelimit-policy': '10;w=300' });
    await waiting;
    expect(clock.now()).toBe(1_000);
  });
});

describe('snapshot and estimates', () => {
  test('snapshot reports limit, window, server remaining, sends in window, pause and queue', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: { limit: 5, windowSeconds: 60 }, clock });
    expect(limiter.snapshot()).toEqual({ limit: 5, windowSeconds: 60, remaining: null, inWindow: 0, pausedUntil: null, queued: 0 });
    await runSequential(limiter, 2);
    limiter.observe({ 'ratelimit-remaining': '3' });
    limiter.pauseUntil(5_000);
    expect(limiter.snapshot()).toEqual({ limit: 5, windowSeconds: 60, remaining: 3, inWindow: 2, pausedUntil: 5_000, queued: 0 });
  });

  test('estimateDurationMs predicts what pacing actually takes', async () => {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ policy: { limit: 50, windowSeconds: 300 }, clock });
    expect(limiter.estimateDurationMs(0)).toBe(0);
    expect(limiter.estimateDurationMs(50)).toBe(0);
    expect(limiter.estimateDurationMs(51)).toBe(300_250);
    await runSequential(limiter, 30);
    const estimate = limiter.estimateDurationMs(100);
    const start = clock.now();
    await runSequential(limiter, 100);
    expect(clock.now() - start).toBe(estimate);
    expect(estimate).toBe(2 * 300_250);
  });
});
