/**
 * Pacing figures for the Amber rate limiter, in virtual time (an injected clock), against a simulated
 * server that enforces a sliding window by arrival time and answers with `RateLimit-*` headers like the
 * fake server does: the real budget, which a real-time run could not afford to wait out.
 */
import { createRateLimiter, type RateLimiter } from '../../src/amber/rate-limiter.ts';
import { addDays, daysBetween, lastUsageDay, nemToday, splitIntoChunks } from '../../src/domain/nem-time.ts';
import { maxInAnyWindow } from '../amber/pacing-stats.ts';
import { VirtualClock } from '../amber/virtual-clock.ts';
import { atMost, figuresOf, type Figure } from './figures.ts';
import type { Benchmark } from './run.ts';
import { DEFAULT_RATE_LIMIT } from '../../src/config/variables.ts';

const LIMIT = 50;
const WINDOW_MS = 300_000;
/** Round trip of one call, split evenly between request and response. */
const LATENCY_MS = 80;

/** Amber's budget as the server sees it: a sliding window over arrival times. */
class SimulatedServer {
  readonly arrivals: number[] = [];
  refused = 0;
  private admitted: number[] = [];
  private readonly clock: VirtualClock;

  constructor(clock: VirtualClock) {
    this.clock = clock;
  }

  handle(): { status: number; headers: Record<string, string> } {
    const now = this.clock.now();
    this.arrivals.push(now);
    this.admitted = this.admitted.filter((at) => at > now - WINDOW_MS);
    const allowed = this.admitted.length < LIMIT;
    if (allowed) this.admitted.push(now);
    else this.refused += 1;
    const oldest = this.admitted[0];
    const reset = oldest === undefined ? 0 : Math.ceil((oldest + WINDOW_MS - now) / 1000);
    return {
      status: allowed ? 200 : 429,
      headers: {
        'ratelimit-limit': String(LIMIT),
        'ratelimit-remaining': String(LIMIT - this.admitted.length),
        'ratelimit-reset': String(reset),
        'ratelimit-policy': `${LIMIT};w=${WINDOW_MS / 1000}`,
      },
    };
  }
}

/** One call the way the client makes it: a slot, the request, the response's headers fed back; 429s retried. */
async function call(limiter: RateLimiter, clock: VirtualClock, server: SimulatedServer): Promise<void> {
  for (;;) {
    await limiter.acquire({ priority: 'backfill' });
    await clock.sleep(LATENCY_MS / 2);
    const response = server.handle();
    await clock.sleep(LATENCY_MS / 2);
    limiter.observe(response.headers);
    if (response.status === 200) return;
    limiter.pauseUntil(clock.now() + (limiter.resetDelayMs(response.headers) ?? WINDOW_MS));
  }
}

/** `calls` calls by `workers` concurrent loops (sites and data types running side by side). */
async function run(calls: number, workers: number, clock = new VirtualClock(), server = new SimulatedServer(clock)) {
  const limiter = createRateLimiter({ policy: DEFAULT_RATE_LIMIT, clock });
  const start = clock.now();
  const estimateMs = limiter.estimateDurationMs(calls);
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < calls) {
        next += 1;
        await call(limiter, clock, server);
      }
    }),
  );
  return { elapsedMs: clock.now() - start, estimateMs, server };
}

function floorMs(calls: number): number {
  return (Math.ceil(calls / LIMIT) - 1) * WINDOW_MS;
}

export const pacingBenchmark: Benchmark = { name: 'pacing', run: runPacingBench };

async function runPacingBench(): Promise<Figure[]> {
  // A two-year backfill of one site: prices through today, usage through yesterday, in 7-day chunks.
  const now = new Date('2025-11-20T03:10:00Z');
  const today = nemToday(now);
  const from = addDays(today, -730);
  const priceCalls = splitIntoChunks(from, today).length;
  const usageCalls = splitIntoChunks(from, lastUsageDay(now)).length;
  const backfillCalls = 1 + priceCalls + usageCalls;
  // The API allows 7 days per call: one /sites call plus ⌈days / 7⌉ per data type is the least possible.
  const daysThrough = (to: string) => daysBetween(from, to) + 1;
  const minimumCalls = 1 + Math.ceil(daysThrough(today) / 7) + Math.ceil(daysThrough(lastUsageDay(now)) / 7);
  const backfill = await run(backfillCalls, 2);

  // A long run: the most calls the server saw in any window, against the policy.
  const longRunCalls = 10_000;
  const long = await run(longRunCalls, 4);

  // Two collectors on one key (a deploy overlap), each with its own limiter and no shared state: both see
  // the same RateLimit-Remaining and spend it at once, so some calls are refused (and waited out).
  const clock = new VirtualClock();
  const shared = new SimulatedServer(clock);
  await Promise.all([run(500, 2, clock, shared), run(500, 2, clock, shared)]);

  const policy = `${LIMIT};w=${WINDOW_MS / 1000}`;
  return figuresOf(`pacing in virtual time: ${policy}, ${LATENCY_MS} ms per call`, [
    {
      name: `2-year backfill of one site (${backfillCalls} calls), wall time vs floor`,
      value: backfill.elapsedMs / 60_000,
      unit: 'min',
      baseline: { name: 'floor', value: floorMs(backfillCalls) / 60_000 },
      target: atMost(1.1, 'ratio'),
      note: `${from}..${today}`,
    },
    { name: '2-year backfill of one site, calls vs minimum', value: backfillCalls, unit: 'calls', baseline: { name: 'minimum', value: minimumCalls } },
    { name: '2-year backfill of one site, refused by the server', value: backfill.server.refused, unit: 'calls', target: atMost(0) },
    {
      name: `${longRunCalls.toLocaleString('en')} calls, most in any window vs limit`,
      value: maxInAnyWindow(long.server.arrivals, WINDOW_MS),
      unit: 'calls',
      baseline: { name: 'limit', value: LIMIT },
      target: atMost(1, 'ratio'),
    },
    {
      name: `${longRunCalls.toLocaleString('en')} calls, wall time vs floor`,
      value: long.elapsedMs / 3_600_000,
      unit: 'h',
      baseline: { name: 'floor', value: floorMs(longRunCalls) / 3_600_000 },
      target: atMost(1.1, 'ratio'),
    },
    {
      name: `${longRunCalls.toLocaleString('en')} calls, limiter's estimate vs actual`,
      value: long.estimateMs / 3_600_000,
      unit: 'h',
      baseline: { name: 'actual', value: long.elapsedMs / 3_600_000 },
    },
    { name: `${longRunCalls.toLocaleString('en')} calls, refused by the server`, value: long.server.refused, unit: 'calls', target: atMost(0) },
    {
      name: 'two processes on one key (1,000 calls), refused by the server',
      value: shared.refused,
      unit: 'calls',
      note: 'each refusal is waited out; the writer lock keeps this from happening in a deployment',
    },
  ]);
}
