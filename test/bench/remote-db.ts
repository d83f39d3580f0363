/**
 * A distant database: PostgreSQL behind a loopback TCP proxy that delays every chunk by 25 ms each way, as a
 * hosted Postgres across the internet would. There every round trip costs 50 ms, so what matters is how
 * many a chunk needs (target ≤ 4) and how long one 7-day chunk of a 5-minute, 3-channel site takes to store
 * (target ≤ 0.5 s, against the ~6 s between calls that the real budget allows).
 *
 * 1. The real collector backfills eight weeks of such a site through the proxy; each chunk's transaction is
 *    timed and its round trips counted, next to the same backfill on a direct connection.
 * 2. Ways to send the collector's chunk transaction (the stream's coverage lock, the upsert, the coverage
 *    recount, the watermark), to choose between: one after another as pg does by default; withTransaction
 *    on the collector's pipelined pool with each statement awaited (BEGIN still rides with the first);
 *    and statements that need no result from each other issued together, sharing a round trip.
 */
import pg from 'pg';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { advanceWatermark } from '../../src/db/collection-state.ts';
import { lockStreamCoverage, recountCoverage } from '../../src/db/coverage-ledger.ts';
import { createPool, withTransaction, type Queryable } from '../../src/db/pool.ts';
import { upsertPriceIntervals } from '../../src/db/prices.ts';
import { upsertSites } from '../../src/db/sites-store.ts';
import { silentLogger } from '../../src/logger.ts';
import { priceSeries, site } from '../helpers/intervals.ts';
import { BENCH_NOW, benchCollector, benchSite } from './bench-collector.ts';
import { createBenchDatabase, plainTransaction, type BenchDatabase } from './bench-database.ts';
import { startFakeAmberProcess } from './fake-amber-process.ts';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.ts';
import { atMost, figuresOf, median, progress, type Figure } from './figures.ts';
import { RoundTripCounter, SessionRecorder, type Session } from './round-trips.ts';
import type { Benchmark } from './run.ts';

const ONE_WAY_MS = 25;
const CHANNELS = ['general', 'controlledLoad', 'feedIn'] as const;
/** Rows in a full 7-day chunk of a 5-minute, 3-channel site. */
const FULL_CHUNK_ROWS = 7 * 288 * CHANNELS.length;
const STRATEGY_REPETITIONS = 5;

export const remoteDatabaseBenchmark: Benchmark = { name: 'remote-db', run };

async function run(): Promise<Figure[]> {
  const db = await createBenchDatabase('remote');
  const target = new URL(db.url);
  const proxy = await startLatencyProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432), oneWayMs: ONE_WAY_MS });
  try {
    const viaProxy = proxiedUrl(db.url, proxy);
    const roundTrip = await oneRoundTripMs(viaProxy);
    progress('remote database: the collector, direct and through the proxy');
    const direct = await collectorChunks(db, db.url);
    const remote = await collectorChunks(db, viaProxy);
    progress('remote database: ways to send one chunk');
    const strategies = await compareStrategies(db, viaProxy);

    const full = (sessions: ChunkSession[]) => sessions.filter((s) => s.rows === FULL_CHUNK_ROWS);
    return figuresOf(`remote database: ${ONE_WAY_MS} ms each way through a TCP proxy`, [
      { name: 'one round trip through the proxy (SELECT 1)', value: roundTrip, unit: 'ms', baseline: { name: 'added latency', value: 2 * ONE_WAY_MS } },
      {
        name: 'collector: round trips per chunk (most in any chunk)',
        value: Math.max(...remote.map((s) => s.roundTrips)),
        unit: 'round trips',
        target: atMost(4),
        note: `${remote.length} chunks, counted on the connection's socket`,
      },
      {
        name: 'collector: time to store one 7-day chunk (median)',
        value: median(full(remote).map((s) => s.ms)) / 1000,
        unit: 's',
        baseline: { name: 'direct connection', value: median(full(direct).map((s) => s.ms)) / 1000 },
        target: atMost(0.5),
        note: `${FULL_CHUNK_ROWS} rows; checkout to release of the chunk's transaction`,
      },
      {
        name: 'collector: time to store one 7-day chunk (slowest)',
        value: Math.max(...full(remote).map((s) => s.ms)) / 1000,
        unit: 's',
      },
      ...strategies.map((strategy) => ({
        name: `one chunk in ${strategy.roundTrips} round trips: ${strategy.name}`,
        value: strategy.ms / 1000,
        unit: 's',
        note: `median of ${STRATEGY_REPETITIONS}`,
      })),
    ]);
  } finally {
    await proxy.close();
    await db.drop();
  }
}

function proxiedUrl(url: string, proxy: LatencyProxy): string {
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  return proxied.toString();
}

async function oneRoundTripMs(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await client.query('SELECT 1');
      samples.push(performance.now() - started);
    }
    return median(samples);
  } finally {
    await client.end();
  }
}

interface ChunkSession extends Session {
  rows: number;
}

/** Eight weeks of a 5-minute, 3-channel site through the real collector; one session per stored chunk. */
async function collectorChunks(db: BenchDatabase, url: string): Promise<ChunkSession[]> {
  await db.pool.query('TRUNCATE price_data, usage_data, collection_state, sites CASCADE');
  const today = nemToday(BENCH_NOW);
  const from = addDays(today, -55);
  // In a process of its own: generating a 6,048-row response takes tens of milliseconds, which on this
  // process's event loop would be charged to whichever chunk transaction was waiting at the time.
  const fake = await startFakeAmberProcess({
    sites: [benchSite({ id: '01HBENCHREMOTE000000000001', nmi: '4100000011', intervalLength: 5, channels: 'all', activeFrom: addDays(from, -30) })],
    rateLimit: null,
    now: BENCH_NOW.toISOString(),
  });
  const pool = createPool({ url, ssl: false }, silentLogger());
  const counter = new RoundTripCounter();
  counter.attach(pool);
  const sessions = new SessionRecorder(pool, counter);
  const chunks: ChunkSession[] = [];
  const bench = benchCollector({
    fake,
    pool,
    rateLimit: { limit: 100_000, windowSeconds: 1 },
    historicalStartDate: from,
    events: {
      chunkStored: (result) => {
        const session = sessions.lastReleased();
        if (session) chunks.push({ ...session, rows: result.inserted + result.updated + result.unchanged });
      },
    },
  });
  try {
    await bench.backfill();
    return chunks;
  } finally {
    await bench.close();
    await pool.end();
    await fake.close();
  }
}

interface StrategyResult {
  name: string;
  roundTrips: number;
  ms: number;
}

type Statement = (tx: Queryable) => Promise<unknown>;
/** A chunk's statements in groups: a group's statements are issued together, groups one after another. */
type Plan = Statement[][];

/**
 * The collector's chunk transaction, statement for statement (the stream's coverage lock, the upsert, the
 * coverage recount, the watermark), stored four ways.
 */
async function compareStrategies(db: BenchDatabase, url: string): Promise<StrategyResult[]> {
  const strategySite = site({ id: '01HBENCHSTRATEGY0000000001' });
  await upsertSites(db.pool, [strategySite]);
  const chunk = priceSeries({ startDate: '2025-01-01', days: 7, duration: 5, channelTypes: CHANNELS });
  const lock: Statement = (tx) => lockStreamCoverage(tx, strategySite.id, 'price');
  const upsert: Statement = (tx) => upsertPriceIntervals(tx, strategySite.id, chunk);
  const recount: Statement = (tx) => recountCoverage(tx, strategySite.id, 'price', '2025-01-01', '2025-01-07');
  const watermark: Statement = (tx) =>
    advanceWatermark(tx, { siteId: strategySite.id, dataType: 'price', backfillFrom: '2025-01-01', chunkStart: '2025-01-01', through: '2025-01-07' });

  // pg's default: every statement waits for the one before, BEGIN and COMMIT included.
  const sequential = new pg.Pool({ connectionString: url, max: 1 });
  // What the collector's pool is: pipeline mode, so statements issued together share a round trip.
  const pipelined = createPool({ url, ssl: false }, silentLogger(), { max: 1 });
  const counter = new RoundTripCounter();
  counter.attach(sequential);
  counter.attach(pipelined);
  const inTransaction = (plan: Plan) => (pool: pg.Pool) => withTransaction(pool, (tx) => runPlan(tx, plan));
  const ways: Array<{ name: string; pool: pg.Pool; store: (pool: pg.Pool) => Promise<unknown> }> = [
    { name: 'one after another, pg default (no pipelining)', pool: sequential, store: (pool) => oneAfterAnother(pool, [[lock], [upsert], [recount], [watermark]]) },
    { name: 'withTransaction, each awaited', pool: pipelined, store: inTransaction([[lock], [upsert], [recount], [watermark]]) },
    { name: 'withTransaction, lock + upsert + recount together, then watermark (the collector)', pool: pipelined, store: inTransaction([[lock, upsert, recount], [watermark]]) },
    { name: 'withTransaction, all four together', pool: pipelined, store: inTransaction([[lock, upsert, recount, watermark]]) },
  ];
  try {
    const results: StrategyResult[] = [];
    for (const way of ways) {
      const samples: Session[] = [];
      for (let rep = 0; rep < STRATEGY_REPETITIONS; rep++) {
        await db.pool.query('TRUNCATE price_data, coverage');
        const client = await way.pool.connect();
        client.release();
        const before = counter.of(client);
        const started = performance.now();
        await way.store(way.pool);
        samples.push({ roundTrips: counter.of(client) - before, ms: performance.now() - started });
      }
      results.push({ name: way.name, roundTrips: Math.max(...samples.map((s) => s.roundTrips)), ms: median(samples.map((s) => s.ms)) });
    }
    return results;
  } finally {
    await sequential.end();
    await pipelined.end();
  }
}

function oneAfterAnother(pool: pg.Pool, plan: Plan): Promise<void> {
  return plainTransaction(pool, (client) => runPlan(client, plan));
}

async function runPlan(tx: Queryable, plan: Plan): Promise<void> {
  for (const group of plan) await Promise.all(group.map((statement) => statement(tx)));
}
