/**
 * vitest globalSetup: one PostgreSQL server for the whole run, and one migrated template database that
 * every test file clones (`CREATE DATABASE … TEMPLATE`: a copy, far faster than migrating every file).
 *
 * The server, first that applies: TEST_DATABASE_URL (an existing server: a local install, a CI service); a
 * disposable postgres:17-alpine container when a Docker engine answers; else the embedded PostgreSQL the
 * collector itself uses without DATABASE_URL, in a temporary folder. Nothing to install either way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/embedded/embedded-postgres.ts';
import { runForcedExitStops } from '../../src/embedded/forced-exit.ts';
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

/** The test server and how to stop (and remove) it. */
async function startServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const existing = process.env.TEST_DATABASE_URL;
  if (existing) return { url: existing, stop: async () => {} };
  return (await startContainer()) ?? startEmbedded();
}

/**
 * A postgres:17-alpine container, or null when no Docker engine answers, or when it cannot run the image (an
 * engine without access to a registry, say): the embedded server needs neither.
 */
async function startContainer(): Promise<{ url: string; stop(): Promise<void> } | null> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return null;
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  let container: Awaited<ReturnType<InstanceType<typeof PostgreSqlContainer>['start']>>;
  try {
    container = await new PostgreSqlContainer('postgres:17-alpine').start();
  } catch (err) {
    process.stderr.write(`A Docker engine answers but could not start postgres:17-alpine (${(err as Error).message.split('\n')[0]}).\n`);
    return null;
  }
  return {
    url: container.getConnectionUri(),
    async stop() {
      await container.stop();
    },
  };
}

async function startEmbedded(): Promise<{ url: string; stop(): Promise<void> }> {
  process.stderr.write('No TEST_DATABASE_URL and no usable Docker engine: the tests use an embedded PostgreSQL 17.\n');
  const dataDir = await mkdtemp(join(tmpdir(), 'amber-test-db-'));
  const server = await startEmbeddedPostgres({ dataDir, logger: silentLogger(), running: 'adopt', durable: false });
  // As in cli.ts: a test run that is forced out (a second Ctrl-C) still stops the server.
  process.once('exit', runForcedExitStops);
  return {
    // The maintenance database: the run's template and per-file databases are created from it.
    url: databaseUrl(server.url, 'postgres'),
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
