/**
 * A private database per test file, cloned from the run's migrated template (see global-setup.ts), so
 * test files run in parallel without seeing each other's rows.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inject } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { silentLogger } from '../../src/logger.ts';
import { createDatabase, databaseUrl, dropDatabase, withAdmin } from './database-admin.ts';

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database: a copy of the migrated template, or with `migrated: false` an empty one
 * (for migration tests).
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = inject('databaseUrl');
  const template = inject('templateDatabase');
  const name = `${template.replace(/_tmpl$/, '')}_${randomBytes(4).toString('hex')}`;
  // template0 is never connected to, so cloning it cannot collide with another file doing the same.
  await withAdmin(serverUrl, (admin) => createDatabase(admin, name, options.migrated === false ? 'template0' : template));
  const url = databaseUrl(serverUrl, name);
  const pool = createPool({ url, ssl: false }, silentLogger(), { max: 4, applicationName: 'amber-collector-test' });
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end();
      await withAdmin(serverUrl, (admin) => dropDatabase(admin, name));
    },
  };
}
