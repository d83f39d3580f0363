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
import pg from 'pg';
import type { PriceInterval } from '../../src/amber/models.ts';
import { createPool, withTransaction, type Queryable } from '../../src/db/pool.ts';
import { PRICE_TABLE, upsertPriceIntervals, type PriceRow } from '../../src/db/prices.ts';
import { upsertSites } from '../../src/db/sites.ts';
import { upsertSql, type Column } from '../../src/db/upsert.ts';
import { silentLogger } from '../../src/logger.ts';
import { priceSeries, site } from '../helpers/intervals.ts';
import { createBenchDatabase } from './bench-database.ts';
import { CopyIn, copyText } from './copy-in.ts';
import { atLeast, atMost, figuresOf, median, progress, type Figure } from './figures.ts';
import type { Benchmark } from './run.ts';

const SECTION = 'write path: 7-day chunk, 5-min prices × 3 channels';
const CHANNELS = ['general', 'controlledLoad', 'feedIn'] as const;

type Loader = 'ours' | 'unnest' | 'rowByRow' | 'copy';
/** Interleaved, so drift on a busy machine hits every loader alike; row by row is slow, so it runs less. */
const REPETITIONS: Record<Loader, number> = { ours: 7, unnest: 7, rowByRow: 3, copy: 7 };

const COLUMNS: readonly Column<PriceRow>[] = [...PRICE_TABLE.key, ...PRICE_TABLE.values];
const UNNEST_SQL = upsertSql(PRICE_TABLE, `SELECT * FROM unnest(${COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})`);
const ROW_SQL = upsertSql(PRICE_TABLE, `VALUES (${COLUMNS.map((c, i) => `$${i + 1}::${c.type}`).join(', ')})`);
const COPY_TABLE_SQL = 'CREATE TEMP TABLE price_stage (LIKE price_data INCLUDING DEFAULTS) ON COMMIT DROP';
const COPY_SQL = `COPY price_stage (${COLUMNS.map((c) => c.name).join(', ')}) FROM STDIN`;
const COPY_MERGE_SQL = upsertSql(PRICE_TABLE, `SELECT ${COLUMNS.map((c) => c.name).join(', ')} FROM price_stage`);

export const writePathBenchmark: Benchmark = { name: 'write-path', run };

async function run(): Promise<Figure[]> {
  const db = await createBenchDatabase('write');
  // COPY needs a connection outside pipeline mode (pg refuses custom submittables in it), so the
  // baselines get a plain pg pool of their own.
  const plain = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    const benchSite = site();
    await upsertSites(db.pool, [benchSite]);
    const chunk = priceSeries({ startDate: '2025-01-01', days: 7, duration: 5, channelTypes: CHANNELS });
    const loaders: Record<Loader, () => Promise<void>> = {
      ours: () => withTransaction(db.pool, (tx) => upsertPriceIntervals(tx, benchSite.id, chunk)).then(() => undefined),
      unnest: () => withTransaction(db.pool, (tx) => unnest(tx, benchSite.id, chunk)),
      rowByRow: () => rowByRow(plain, benchSite.id, chunk),
      copy: () => copyMerge(plain, benchSite.id, chunk),
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

    const writes = await identicalReupsertWrites(db.url, benchSite.id, chunk);
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
    await plain.end();
    await db.drop();
  }
}

export async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** A column's value as PostgreSQL input text (jsonb as JSON text), or null. */
export function asText(column: Column<PriceRow>, row: PriceRow): string | null {
  const value = column.value(row);
  if (value === null || value === undefined) return null;
  return column.type === 'jsonb' ? JSON.stringify(value) : String(value);
}

function textRows(siteId: string, rows: readonly PriceInterval[]): (string | null)[][] {
  return rows.map((interval) => {
    const row = { ...interval, siteId };
    return COLUMNS.map((column) => asText(column, row));
  });
}

async function inTransaction(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

async function unnest(tx: Queryable, siteId: string, rows: readonly PriceInterval[]): Promise<void> {
  const values = textRows(siteId, rows);
  await tx.query(UNNEST_SQL, COLUMNS.map((_, i) => values.map((row) => row[i] ?? null)));
}

function rowByRow(pool: pg.Pool, siteId: string, rows: readonly PriceInterval[]): Promise<void> {
  return inTransaction(pool, async (client) => {
    for (const values of textRows(siteId, rows)) await client.query(ROW_SQL, values);
  });
}

function copyMerge(pool: pg.Pool, siteId: string, rows: readonly PriceInterval[]): Promise<void> {
  return inTransaction(pool, async (client) => {
    await client.query(COPY_TABLE_SQL);
    await client.query(new CopyIn(COPY_SQL, copyText(textRows(siteId, rows))));
    await client.query(COPY_MERGE_SQL);
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
