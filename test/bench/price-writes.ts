/**
 * What the price-write benchmarks (`upsert.ts`, `write-path.ts`) share: a bench database holding one site,
 * with a plain pg pool beside the collector's, and the baselines they hold `upsertPriceIntervals` against.
 * Every baseline feeds the very same INSERT … ON CONFLICT … WHERE-changed statement (`upsertSql`):
 *
 * - unnest: one array parameter per column, the textbook bulk upsert (this code base's first design);
 * - COPY: `COPY … FROM STDIN` into a temporary table, then one INSERT … SELECT from it (`copy-in.ts`).
 */
import pg from 'pg';
import type { PriceInterval } from '../../src/domain/models.ts';
import { CopyIn, copyText } from '../../src/db/copy-in.ts';
import type { Queryable } from '../../src/db/pool.ts';
import { PRICE_TABLE, type PriceRow } from '../../src/db/prices.ts';
import { upsertSites } from '../../src/db/sites-store.ts';
import { upsertSql, type Column } from '../../src/db/upsert.ts';
import { site } from '../helpers/intervals.ts';
import { createBenchDatabase, plainTransaction, type BenchDatabase } from './bench-database.ts';

/** Every column of `price_data` the upsert writes, key first, in statement parameter order. */
export const COLUMNS: readonly Column<PriceRow>[] = [...PRICE_TABLE.key, ...PRICE_TABLE.values];
const UNNEST_SQL = upsertSql(PRICE_TABLE, `SELECT * FROM unnest(${COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})`);
const COPY_TABLE_SQL = 'CREATE TEMP TABLE price_stage (LIKE price_data INCLUDING DEFAULTS) ON COMMIT DROP';
const COPY_SQL = `COPY price_stage (${COLUMNS.map((c) => c.name).join(', ')}) FROM STDIN`;
const COPY_MERGE_SQL = upsertSql(PRICE_TABLE, `SELECT ${COLUMNS.map((c) => c.name).join(', ')} FROM price_stage`);

export interface PriceWriteBench {
  db: BenchDatabase;
  /**
   * A plain pg pool of one connection, for the baselines: COPY needs a connection outside the collector
   * pool's pipeline mode (pg refuses custom submittables in it).
   */
  plain: pg.Pool;
  /** The one site, already stored, that every row is written for. */
  siteId: string;
  /** Ends the plain pool and drops the database. */
  close(): Promise<void>;
}

/** A fresh bench database (`label` names it) with one site stored, and a plain pool beside its own. */
export async function openPriceWriteBench(label: string): Promise<PriceWriteBench> {
  const db = await createBenchDatabase(label);
  const plain = new pg.Pool({ connectionString: db.url, max: 1 });
  const close = async (): Promise<void> => {
    await plain.end();
    await db.drop();
  };
  try {
    const benchSite = site();
    await upsertSites(db.pool, [benchSite]);
    return { db, plain, siteId: benchSite.id, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** How long `work` takes, in milliseconds. */
export async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** A column's value as PostgreSQL input text (jsonb as JSON text), or null. */
function asText(column: Column<PriceRow>, row: PriceRow): string | null {
  const value = column.value(row);
  if (value === null || value === undefined) return null;
  return column.type === 'jsonb' ? JSON.stringify(value) : String(value);
}

/** Each interval as the text of every column in `COLUMNS`, for the site. */
export function textRows(siteId: string, rows: readonly PriceInterval[]): (string | null)[][] {
  return rows.map((interval) => {
    const row = { ...interval, siteId };
    return COLUMNS.map((column) => asText(column, row));
  });
}

/** The unnest baseline: one statement, one array parameter per column. Runs on whatever `db` is (a pool, or a transaction's client). */
export async function unnestUpsert(db: Queryable, siteId: string, rows: readonly PriceInterval[]): Promise<void> {
  const values = textRows(siteId, rows);
  await db.query(UNNEST_SQL, COLUMNS.map((_, i) => values.map((row) => row[i] ?? null)));
}

/** The COPY baseline: in one plain transaction, COPY into a temporary table, then merge it with one INSERT … SELECT. */
export function copyMergeUpsert(pool: pg.Pool, siteId: string, rows: readonly PriceInterval[]): Promise<void> {
  return plainTransaction(pool, async (client) => {
    await client.query(COPY_TABLE_SQL);
    await client.query(new CopyIn(COPY_SQL, copyText(textRows(siteId, rows))));
    await client.query(COPY_MERGE_SQL);
  });
}
