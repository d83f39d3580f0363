/**
 * A private database per test file (or per test), cloned from the run's migrated template (see
 * global-setup.ts), so test files run in parallel without seeing each other's rows.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, inject, onTestFinished } from 'vitest';
import { openScratchDatabase, type ScratchDatabase } from './database-admin.ts';

export type TestDatabase = ScratchDatabase;

/**
 * Creates a fresh database: a copy of the migrated template, or with `migrated: false` an empty one
 * (for migration tests).
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = inject('databaseUrl');
  const template = inject('templateDatabase');
  const name = `${template.replace(/_tmpl$/, '')}_${randomBytes(4).toString('hex')}`;
  // template0 is never connected to, so cloning it cannot collide with another file doing the same.
  return openScratchDatabase(serverUrl, name, options.migrated === false ? 'template0' : template, 'amber-collector-test');
}

/**
 * A fresh database for the running test, dropped when the test finishes. Call inside a test. The drop is an
 * `onTestFinished` hook, and those run last in, first out: whatever the test starts on the database
 * afterwards (a daemon, a pool) and stops the same way is stopped before the database goes.
 */
export async function databaseForTest(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const db = await createTestDatabase(options);
  onTestFinished(() => db.drop());
  return db;
}

/** The database of `databaseForFile`: usable inside the file's tests and hooks, dropped after its last test. */
export type FileDatabase = Pick<TestDatabase, 'url' | 'name' | 'pool'>;

/**
 * One database shared by the tests of a file. Call at the top level of the file: it registers hooks that
 * create the database (then `seed` it) before the first test, empty the `truncateBeforeEach` tables
 * before every test, and drop it after the last test. The object returned forwards to that database, so
 * it can be assigned once at the top and read inside tests.
 */
export function databaseForFile(options: { seed?: (pool: pg.Pool) => Promise<unknown>; truncateBeforeEach?: readonly string[] } = {}): FileDatabase {
  let db: TestDatabase | undefined;
  const current = (): TestDatabase => {
    if (db === undefined) throw new Error('the file\'s test database exists only from its beforeAll hook on: use it inside tests and hooks');
    return db;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    await options.seed?.(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });
  const tables = options.truncateBeforeEach ?? [];
  if (tables.length > 0) {
    beforeEach(async () => {
      await current().pool.query(`TRUNCATE ${tables.join(', ')}`);
    });
  }
  return {
    get url() {
      return current().url;
    },
    get name() {
      return current().name;
    },
    get pool() {
      return current().pool;
    },
  };
}
