/**
 * vitest globalSetup: one PostgreSQL server for the whole run, and one migrated template database that
 * every test file clones (`CREATE DATABASE … TEMPLATE`: a copy, far faster than migrating every file).
 *
 * TEST_DATABASE_URL names an existing server (CI, a local install); without it a disposable
 * postgres:17-alpine container is started with testcontainers and stopped at the end.
 */
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { silentLogger } from '../../src/logger.ts';
import { databaseUrl, dropDatabase, quoteIdent, runPrefix, withAdmin } from './database-admin.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL with rights to create databases on the test server. */
    databaseUrl: string;
    /** The migrated template database of this run. */
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startServer();
  const serverUrl = server.url;
  const template = `${runPrefix(process.pid, Date.now())}_tmpl`;

  try {
    await withAdmin(serverUrl, (admin) => admin.query(`CREATE DATABASE ${quoteIdent(template)}`));
    const pool = createPool({ url: databaseUrl(serverUrl, template), ssl: false }, silentLogger(), { max: 1 });
    try {
      await migrate(pool, silentLogger());
    } finally {
      await pool.end();
    }
    // No connections to the template from now on (not even autovacuum's): a clone fails while any exist.
    await withAdmin(serverUrl, (admin) => admin.query(`ALTER DATABASE ${quoteIdent(template)} WITH ALLOW_CONNECTIONS false`));
  } catch (err) {
    await withAdmin(serverUrl, (admin) => dropDatabase(admin, template)).catch(() => {});
    await server.stop();
    throw err;
  }

  project.provide('databaseUrl', serverUrl);
  project.provide('templateDatabase', template);

  return async function teardown() {
    await withAdmin(serverUrl, async (admin) => {
      // Per-file databases share the run prefix; any a crashed or aborted file left behind go too.
      const leftovers = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
        [template.replace(/_tmpl$/, '_')],
      );
      for (const { datname } of leftovers.rows) await dropDatabase(admin, datname);
    });
    await server.stop();
  };
}

/** TEST_DATABASE_URL's server, or a disposable container that `stop` removes. */
async function startServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const existing = process.env.TEST_DATABASE_URL;
  if (existing) return { url: existing, stop: async () => {} };
  const container = await new PostgreSqlContainer('postgres:17-alpine').start();
  return {
    url: container.getConnectionUri(),
    async stop() {
      await container.stop();
    },
  };
}
