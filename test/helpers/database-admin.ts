/**
 * Creating and dropping test databases. Shared by the globalSetup (which runs outside the test workers)
 * and `database.ts` (inside them), so it imports nothing from vitest.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createPool } from '../../src/db/pool.ts';
import { silentLogger } from '../../src/logger.ts';

/** Every database one test run creates starts with this, so teardown can find leftovers. */
export function runPrefix(pid: number, startedAt: number): string {
  return `amber_${pid}_${startedAt}`;
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * `CREATE DATABASE name TEMPLATE template`, retried briefly on "source database is being accessed by
 * other users" (SQLSTATE 55006): a clone fails while anything else is connected to its template.
 */
async function createDatabase(admin: pg.Client, name: string, template: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err;
      await sleep(50 * attempt);
    }
  }
}

/** Drops a database even if a crashed test left connections open to it. */
export async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/** Runs `fn` on a short-lived connection to the server's maintenance database. */
export async function withAdmin<T>(url: string, fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** A database made for one test file, test or benchmark section, with a pool on it. */
export interface ScratchDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** Clones `template` as database `name` on the server at `serverUrl` and opens a small pool on it. */
export async function openScratchDatabase(serverUrl: string, name: string, template: string, applicationName: string): Promise<ScratchDatabase> {
  await withAdmin(serverUrl, (admin) => createDatabase(admin, name, template));
  const url = databaseUrl(serverUrl, name);
  const pool = createPool({ url, ssl: false }, silentLogger(), { max: 4, applicationName });
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      await withAdmin(serverUrl, (admin) => dropDatabase(admin, name));
    },
  };
}
