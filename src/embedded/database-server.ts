/**
 * The one place that turns the database configuration into a server to connect to: DATABASE_URL's as it is,
 * or, without one, the embedded PostgreSQL in DATA_DIR, started (or found running) for as long as the caller
 * needs it. The embedded code is loaded only then: the Docker image does not even carry it.
 */
import { resolve } from 'node:path';
import type pg from 'pg';
import type { DatabaseConfig, DatabaseConnection } from '../config/database.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { dataDirOwner, lockDataDir } from './data-dir-lock.ts';
import { createPool, type PoolOptions } from '../db/pool.ts';

export interface DatabaseServer {
  connection: DatabaseConnection;
  /** Why the server this process owns is not usable now (the embedded one died and is restarting), or null. */
  problem(): string | null;
  /** For the embedded server: stops it if this process is the one that should (see `openDatabaseServer`). */
  close(): Promise<void>;
}

/**
 * `daemon`: the collector owns DATA_DIR (a second daemon there is refused), starts the embedded server or
 * adopts the one a killed collector left running, and stops it on `close`, after everything else.
 * `command` (status, query, backfill): uses the running server, or starts one for itself and stops it
 * again on `close`, unless a daemon has started meanwhile and now relies on it.
 */
export async function openDatabaseServer(
  config: DatabaseConfig,
  options: { logger: Logger; user: 'daemon' | 'command'; readOnlyRole?: boolean },
): Promise<DatabaseServer> {
  if (config.url !== null) return { connection: config, problem: () => null, close: async () => {} };
  const dataDir = resolve(config.dataDir);
  const { locateBinaries, startEmbeddedPostgres } = await import('./embedded-postgres.ts');
  // First, so that an install without it (the Docker image) says so rather than failing to create DATA_DIR.
  await locateBinaries();
  if (options.user === 'daemon') {
    const unlock = await lockDataDir(dataDir);
    try {
      const server = await startEmbeddedPostgres({ dataDir, logger: options.logger, running: 'adopt' });
      return {
        connection: { url: server.url, ssl: false },
        problem: () => server.problem(),
        async close() {
          try {
            await server.stop();
          } finally {
            await unlock();
          }
        },
      };
    } catch (err) {
      await unlock();
      throw err;
    }
  }
  const server = await startEmbeddedPostgres({ dataDir, logger: options.logger, running: 'share' });
  return {
    // A command that only reads logs in as the embedded server's read-only role, not as its superuser.
    connection: { url: options.readOnlyRole ? server.readerUrl : server.url, ssl: false },
    problem: () => server.problem(),
    async close() {
      if ((await dataDirOwner(dataDir)) === null) await server.stop();
    },
  };
}

/** The database of a short-lived command: a small pool, and the server it runs on. */
export interface CommandDatabase {
  pool: pg.Pool;
  /** The embedded PostgreSQL's DATA_DIR, for messages that say where the command looked; unset with DATABASE_URL. */
  dataDir?: string;
  /** Ends the pool, then lets go of the server (see `openDatabaseServer`). */
  close(): Promise<void>;
}

/** `readOnlyRole`: in embedded mode, connect as the read-only role (DATABASE_URL's user is the user's choice). */
export async function openCommandDatabase(config: DatabaseConfig, options: PoolOptions & { applicationName: string; readOnlyRole?: boolean }): Promise<CommandDatabase> {
  const { readOnlyRole = false, ...poolOptions } = options;
  const server = await openDatabaseServer(config, { logger: silentLogger(), user: 'command', readOnlyRole });
  const pool = createPool(server.connection, silentLogger(), poolOptions);
  return {
    pool,
    ...(config.url === null ? { dataDir: config.dataDir } : {}),
    async close() {
      await pool.end();
      await server.close();
    },
  };
}
