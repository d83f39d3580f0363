/**
 * A private, migrated database per benchmark section, on the server named by BENCH_DATABASE_URL, else
 * TEST_DATABASE_URL, else the local PostgreSQL. Dropped afterwards, so runs never see each other's rows.
 */
import type pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { silentLogger } from '../../src/logger.ts';
import { openScratchDatabase, type ScratchDatabase } from '../helpers/database-admin.ts';

export function benchServerUrl(): string {
  return process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

export type BenchDatabase = ScratchDatabase;

let created = 0;

export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const serverUrl = benchServerUrl();
  created += 1;
  const name = `amber_bench_${label}_${process.pid}_${created}`;
  const db = await openScratchDatabase(serverUrl, name, 'template0', `amber-bench-${label}`);
  await migrate(db.pool, silentLogger());
  return db;
}

/** `SELECT version()` in short, e.g. `PostgreSQL 15.20`. */
export async function serverVersion(pool: pg.Pool): Promise<string> {
  const result = await pool.query<{ version: string }>('SELECT version()');
  return /^PostgreSQL \S+/.exec(result.rows[0]?.version ?? '')?.[0] ?? 'unknown';
}

/**
 * `work` in one transaction on one client of a plain pg pool, the way pg does it by default: BEGIN, each
 * statement and COMMIT every one its own round trip (the collector's pool pipelines instead). Rolls back
 * if `work` throws.
 */
export async function plainTransaction(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
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
