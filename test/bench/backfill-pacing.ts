/**
 * Backfill pacing in real time: the real collector, real HTTP to the fake Amber server, a real database, and
 * Amber's budget with its window scaled down 30× (50 calls per 10 s instead of per 300 s) so two years of
 * backfill fit in a minute or so. The sites are 30-minute, general-only (336 rows per call), light enough
 * that the database cannot be the bound: what remains is the budget, and how well the limiter spends it.
 *
 * The limiter keeps its real 250 ms margin beyond the window. It absorbs the time between the limiter's
 * grant and the server's count of a request (connection set-up, a busy event loop, the machine's load),
 * which does not shrink with the window: measured here up to ~150 ms on a loaded 2-core machine. That is
 * why the window is scaled and the limit is not: at 10 calls per 2 s the same margin would be 12.5% of the
 * window and measure the scaling, and a margin scaled down with it would not cover that jitter (429s).
 *
 * The floor for N calls is (⌈N / limit⌉ − 1) × window: the first `limit` calls go at once, and every later
 * group of `limit` must wait a full window after the group before it.
 */
import { DEFAULT_MARGIN_MS } from '../../src/domain/rate-budget.ts';
import { addDays, daysBetween, lastUsageDay, nemToday } from '../../src/domain/nem-time.ts';
import type { FakeSiteSpec } from '../fake-amber/server.ts';
import { createBenchDatabase } from './bench-database.ts';
import { BENCH_NOW, benchCollector, benchSite } from './bench-collector.ts';
import { startFakeAmberProcess } from './fake-amber-process.ts';
import { atMost, figuresOf, progress, type Figure, type FigureSpec } from './figures.ts';
import type { Benchmark } from './run.ts';

const POLICY = { limit: 50, windowSeconds: 10 };
const YEARS = 2;

export const backfillPacingBenchmark: Benchmark = { name: 'backfill-pacing', run };

async function run(): Promise<Figure[]> {
  const today = nemToday(BENCH_NOW);
  const from = addDays(today, -365 * YEARS);
  const site = (n: number) =>
    benchSite({ id: `01HBENCHPACE0000000000000${n}`, nmi: `410000000${n}`, intervalLength: 30, channels: 'general', activeFrom: addDays(from, -30) });
  const one = await backfill([site(1)], from);
  const two = await backfill([site(1), site(2)], from);
  const policy = `${POLICY.limit};w=${POLICY.windowSeconds}`;
  return figuresOf(`backfill pacing: real HTTP + collector + database, ${policy} (margin ${DEFAULT_MARGIN_MS} ms)`, [
    ...figuresFor('1 site × 2 years', one),
    ...figuresFor('2 sites × 2 years, one budget', two),
  ]);
}

interface BackfillRun {
  wallMs: number;
  calls: number;
  minimumCalls: number;
  refused: number;
}

async function backfill(sites: FakeSiteSpec[], from: string): Promise<BackfillRun> {
  // In a process of its own, like the real API: its arrival times must not wait for the collector's work.
  const fake = await startFakeAmberProcess({ sites, rateLimit: POLICY, now: BENCH_NOW.toISOString() });
  const db = await createBenchDatabase('pacing');
  const bench = benchCollector({ fake, pool: db.pool, rateLimit: POLICY, historicalStartDate: from });
  try {
    const minimumCalls = 1 + sites.length * (weeksThrough(from, nemToday(BENCH_NOW)) + weeksThrough(from, lastUsageDay(BENCH_NOW)));
    progress(`backfill of ${sites.length} site(s): about ${Math.round(floorMs(minimumCalls) / 1000)} s`);
    const started = performance.now();
    await bench.backfill();
    const wallMs = performance.now() - started;
    const statuses = await fake.statuses();
    return { wallMs, calls: statuses.length, minimumCalls, refused: statuses.filter((status) => status === 429).length };
  } finally {
    await bench.close();
    await fake.close();
    await db.drop();
  }
}

function figuresFor(label: string, run: BackfillRun): FigureSpec[] {
  return [
    {
      name: `${label}: wall time vs floor`,
      value: run.wallMs / 1000,
      unit: 's',
      baseline: { name: 'floor', value: floorMs(run.calls) / 1000 },
      target: atMost(1.1, 'ratio'),
      note: 'from the first call (/sites) to the last chunk committed',
    },
    { name: `${label}: calls vs minimum for the range`, value: run.calls, unit: 'calls', baseline: { name: 'minimum', value: run.minimumCalls } },
    { name: `${label}: refused (429)`, value: run.refused, unit: 'calls', target: atMost(0) },
  ];
}

/** The fewest 7-day calls that cover `from`..`to` inclusive. */
function weeksThrough(from: string, to: string): number {
  return Math.ceil((daysBetween(from, to) + 1) / 7);
}

function floorMs(calls: number): number {
  return (Math.ceil(calls / POLICY.limit) - 1) * POLICY.windowSeconds * 1000;
}
