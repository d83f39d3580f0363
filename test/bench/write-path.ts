/**
 * Write path: rows per second for one 7-day chunk of 5-minute prices on 3 channels (6,048 rows, what the
 * collector stores per API call), four ways, all into the same table with the same INSERT … ON CONFLICT …
 * WHERE-changed semantics (`upsertSql`), each in one transaction:
 *
 * - ours: `upsertPriceIntervals` inside `withTransaction`, exactly as the collector stores a chunk;
 * - unnest: one array parameter per column, the textbook bulk upsert (and this code base's first design);
 * - row by row: one `INSERT … VALUES (…) ON CONFLICT` per row, how most collectors write (the kind
 *   variant: one transaction, not one per row);
 * - COPY: `COPY … FROM STDIN` into a temporary table, then one INSERT … SELECT from it: the practical ceiling.
 *
 * Then the steady state of trailing re-fetches: re-upserting identical rows must write nothing: no row
 * updated (`n_tup_upd`), no `updated_at` or `revision_count` change, no row locked (a lock sets xmax,
 * dirties the page and is WAL-logged), and no WAL from the statement (EXPLAIN (ANALYZE, WAL)).
 */
import type pg from 'pg';
import type { PriceInterval } from '../../src/domain/models.ts';
import { createPool, withTransaction, type Queryable } from '../../src/db/pool.ts';
import { PRICE_TABLE, upsertPriceIntervals } from '../../src/db/prices.ts';
import { upsertSql } from '../../src/db/upsert.ts';
import { silentLogger } from '../../src/logger.ts';
import { priceSeries } from '../helpers/intervals.ts';
import { plainTransaction } from './bench-database.ts';
import { atLeast, atMost, figuresOf, median, progress, type Figure } from './figures.ts';
import { COLUMNS, copyMergeUpsert, openPriceWriteBench, textRows, timed, unnestUpsert } from './price-writes.ts';
import type { Benchmark } from './run.ts';

const SECTION = 'write path: 7-day chunk, 5-min prices × 3 channels';
const CHANNELS = ['general', 'controlledLoad', 'feedIn'] as const;

type Loader = 'ours' | 'unnest' | 'rowByRow' | 'copy';
/** Interleaved, so drift on a busy machine hits every loader alike; row by row is slow, so it runs less. */
const REPETITIONS: Record<Loader, number> = { ours: 7, unnest: 7, rowByRow: 3, copy: 7 };

const ROW_SQL = upsertSql(PRICE_TABLE, `VALUES (${COLUMNS.map((c, i) => `$${i + 1}::${c.type}`).join(', ')})`);

export const writePathBenchmark: Benchmark = { name: 'write-path', run };

async function run(): Promise<Figure[]> {
  const { db, plain, siteId, close } = await openPriceWriteBench('write');
  try {
    const chunk = priceSeries({ startDate: '2025-01-01', days: 7, duration: 5, channelTypes: CHANNELS });
    const loaders: Record<Loader, () => Promise<void>> = {
      ours: () => withTransaction(db.pool, (tx) => upsertPriceIntervals(tx, siteId, chunk)).then(() => undefined),
      unnest: () => withTransaction(db.pool, (tx) => unnestUpsert(tx, siteId, chunk)),
      rowByRow: () => rowByRow(plain, siteId, chunk),
      copy: () => copyMergeUpsert(plain, siteId, chunk),
    };

    const fresh: Record<Loader, number[]> = { ours: [], unnest: [], rowByRow: [], copy: [] };
    // Row by row takes seconds per chunk; its re-upsert figure would say nothing new.
    const again: Record<Loader, number[]> = { ours: [], unnest: [], rowByRow: [], copy: [] };
    for (let rep = 0; rep < Math.max(...Object.values(REPETITIONS)); rep++) {
      for (const loader of Object.keys(loaders) as Loader[]) {
        if (rep >= REPETITIONS[loader]) continue;
        await db.pool.query('TRUNCATE price_data');
        fresh[loader].push(await timed(loaders[loader]));
        if (loader !== 'rowByRow') again[loader].push(await timed(loaders[loader]));
      }
      progress(`write path: repetition ${rep + 1}`);
    }
    const rate = (samples: number[]) => chunk.length / (median(samples) / 1000);

    const writes = await identicalReupsertWrites(db.url, siteId, chunk);
    return figuresOf(SECTION, [
      {
        name: 'ours, fresh insert vs COPY + merge',
        value: rate(fresh.ours),
        unit: 'rows/s',
        baseline: { name: 'COPY', value: rate(fresh.copy) },
        target: atLeast(0.5, 'ratio'),
      },
      {
        name: 'ours, fresh insert vs row by row',
        value: rate(fresh.ours),
        unit: 'rows/s',
        baseline: { name: 'row by row', value: rate(fresh.rowByRow) },
        target: atLeast(5, 'ratio'),
      },
      {
        name: 'ours, fresh insert vs one unnest array per column',
        value: rate(fresh.ours),
        unit: 'rows/s',
        baseline: { name: 'unnest', value: rate(fresh.unnest) },
        note: 'the textbook bulk upsert, and this code base\'s first design',
      },
      {
        name: 'ours, identical re-upsert vs COPY + merge',
        value: rate(again.ours),
        unit: 'rows/s',
        baseline: { name: 'COPY', value: rate(again.copy) },
      },
      {
        name: 'ours, one chunk fresh',
        value: median(fresh.ours),
        unit: 'ms',
        note: `median of ${REPETITIONS.ours}; ${chunk.length} rows in one statement`,
      },
      { name: 'identical re-upsert: rows updated (n_tup_upd)', value: writes.tuplesUpdated, unit: 'rows', target: atMost(0) },
      { name: 'identical re-upsert: updated_at / revision_count changed', value: writes.rowsTouched, unit: 'rows', target: atMost(0) },
      { name: 'identical re-upsert: rows locked (xmax set)', value: writes.rowsLocked, unit: 'rows', target: atMost(0) },
      {
        name: 'identical re-upsert: WAL written by the statement',
        value: writes.walBytes,
        unit: 'bytes',
        baseline: { name: 'fresh insert', value: writes.freshWalBytes },
        target: atMost(0),
      },
    ]);
  } finally {
    await close();
  }
}

function rowByRow(pool: pg.Pool, siteId: string, rows: readonly PriceInterval[]): Promise<void> {
  return plainTransaction(pool, async (client) => {
    for (const values of textRows(siteId, rows)) await client.query(ROW_SQL, values);
  });
}

interface ReupsertWrites {
  tuplesUpdated: number;
  rowsTouched: number;
  rowsLocked: number;
  walBytes: number;
  freshWalBytes: number;
}

/**
 * Stores the chunk fresh, then again unchanged, and looks for any trace the second store left. One
 * connection does it all, so forcing its statistics out at each commit makes `n_tup_upd` exact.
 */
async function identicalReupsertWrites(url: string, siteId: string, rows: readonly PriceInterval[]): Promise<ReupsertWrites> {
  const pool = createPool({ url, ssl: false }, silentLogger(), { max: 1 });
  try {
    await pool.query('TRUNCATE price_data');
    const store = () =>
      withTransaction(pool, async (tx) => {
        await upsertPriceIntervals(tx, siteId, rows);
        await tx.query('SELECT pg_stat_force_next_flush()');
      });
    await store();
    const before = await tableState(pool);
    await store();
    const after = await tableState(pool);
    const walBytes = await walOfUpsert(pool, siteId, rows);
    await pool.query('TRUNCATE price_data');
    const freshWalBytes = await walOfUpsert(pool, siteId, rows);
    return {
      tuplesUpdated: after.tuplesUpdated - before.tuplesUpdated,
      rowsTouched: after.touched,
      rowsLocked: after.locked,
      walBytes,
      freshWalBytes,
    };
  } finally {
    await pool.end();
  }
}

/**
 * The WAL the upsert statement itself writes, from EXPLAIN (ANALYZE, WAL): exact, unlike the server's
 * WAL position, which other sessions on a shared server move too. The statement is the one
 * `upsertPriceIntervals` sends, captured by handing it a Queryable that runs it under EXPLAIN.
 */
async function walOfUpsert(pool: pg.Pool, siteId: string, rows: readonly PriceInterval[]): Promise<number> {
  let walBytes = NaN;
  const explaining = {
    query: async (text: string, values?: unknown[]) => {
      const result = await pool.query<{ 'QUERY PLAN': Array<{ Plan: { 'WAL Bytes'?: number } }> }>(
        `EXPLAIN (ANALYZE, WAL, FORMAT JSON) ${text}`,
        values,
      );
      walBytes = result.rows[0]?.['QUERY PLAN'][0]?.Plan['WAL Bytes'] ?? NaN;
      return { rows: [] };
    },
  } as unknown as Queryable;
  await upsertPriceIntervals(explaining, siteId, rows);
  return walBytes;
}

/** The table's cumulative update count and how many rows carry a mark of being touched or locked. */
async function tableState(pool: pg.Pool): Promise<{ tuplesUpdated: number; touched: number; locked: number }> {
  const stats = await pool.query<{ n_tup_upd: string }>(`SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'price_data'`);
  const marks = await pool.query<{ touched: number; locked: number }>(
    `SELECT count(*) FILTER (WHERE updated_at <> first_seen_at OR revision_count <> 0)::int AS touched,
            count(*) FILTER (WHERE xmax <> '0')::int AS locked
     FROM price_data`,
  );
  return { tuplesUpdated: Number(stats.rows[0]?.n_tup_upd ?? NaN), touched: marks.rows[0]?.touched ?? NaN, locked: marks.rows[0]?.locked ?? NaN };
}
