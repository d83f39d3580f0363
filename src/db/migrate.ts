/**
 * Forward-only schema migrations: `sql/migrations/NNNNNN_slug.sql`, numbered from 000001 without gaps,
 * each applied once and recorded in `schema_migrations` with a checksum of its text.
 *
 * All pending migrations run in one transaction under a transaction-scoped advisory lock, so two
 * collectors starting together (a deploy overlap) both succeed: the second waits, then finds nothing
 * left to do. A migration therefore must not use statements that refuse to run inside a transaction
 * (CREATE INDEX CONCURRENTLY and the like).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { CollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { isConnectionFailure, withTransaction, type Queryable } from './pool.ts';

/** Two levels up from both `src/db/` (tests, `node src/...`) and `dist/db/` (the built package). */
const DEFAULT_DIRECTORY = fileURLToPath(new URL('../../sql/migrations/', import.meta.url));
const FILE_NAME = /^(\d{6})_[a-z0-9_]+\.sql$/;
/** Arbitrary, distinct from every other advisory lock the collector takes. */
const MIGRATION_LOCK_KEY = '7152468270163051777';

interface Migration {
  version: number;
  name: string;
  sql: string;
  /** sha256 of the text with line endings normalised, so a CRLF checkout does not look like an edit. */
  checksum: string;
}

/** The highest applied migration version; throws (SQLSTATE 42P01) when no migration ever ran. */
export async function readSchemaVersion(db: Queryable): Promise<number> {
  const result = await db.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  return result.rows[0]?.version ?? 0;
}

/**
 * Applies the pending migrations. `upTo` stops at that version (a restore loads a backup into the schema it
 * was taken from, then lets the later migrations upgrade its data as they would have upgraded the original).
 */
export async function migrate(
  pool: pg.Pool,
  logger: Logger,
  options: { directory?: string; upTo?: number } = {},
): Promise<{ applied: string[] }> {
  const known = await readMigrations(options.directory ?? DEFAULT_DIRECTORY);
  const migrations = options.upTo === undefined ? known : known.filter((migration) => migration.version <= options.upTo!);
  const applied = await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    // A migration may legitimately take longer than the pool's statement timeout (an index on a big table).
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const recorded = await client.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    const pending = pendingMigrations(migrations, recorded.rows);
    for (const migration of pending) {
      logger.info({ migration: migration.name }, 'applying database migration');
      try {
        await client.query(migration.sql);
      } catch (err) {
        // A lost connection is left to withTransaction (DB_UNAVAILABLE: a restart retries). Anything else is
        // the migration's SQL meeting this database (a bug, data a new constraint rejects, a missing
        // privilege) and fails the same way on every restart until a person acts.
        if (isConnectionFailure(err)) throw err;
        const sqlState = (err as { code?: unknown }).code;
        throw new CollectorError('DB_MIGRATION_FAILED', `migration ${migration.name} failed: ${(err as Error).message}`, {
          details: { migration: migration.name, ...(typeof sqlState === 'string' ? { sqlState } : {}) },
          cause: err,
        });
      }
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
    }
    return pending.map((m) => m.name);
  });
  logger.info(
    { applied, version: migrations.at(-1)?.version ?? 0 },
    applied.length > 0 ? 'database schema migrated' : 'database schema is up to date',
  );
  return { applied };
}

/** The newest migration version this code knows, and every migration's file name, in order. */
export async function knownMigrations(directory: string = DEFAULT_DIRECTORY): Promise<{ newest: number; names: string[] }> {
  const migrations = await readMigrations(directory);
  return { newest: migrations.at(-1)?.version ?? 0, names: migrations.map((migration) => migration.name) };
}

/**
 * The migration files in `directory`, ordered by version. A packaging mistake (a misnamed `.sql` file, a
 * duplicate number, a gap) throws DB_MIGRATION_INVALID: silently skipping a migration would leave a schema
 * nobody tested.
 */
async function readMigrations(directory: string): Promise<Migration[]> {
  const files = await sqlFilesIn(directory);
  const migrations: Migration[] = [];
  for (const file of files) {
    const version = FILE_NAME.exec(file)?.[1];
    if (version === undefined) {
      throw invalid(directory, file, `migration file ${file} is misnamed: expected NNNNNN_slug.sql (six digits, lowercase slug)`);
    }
    const sql = (await readFile(join(directory, file), 'utf8')).replace(/\r\n/g, '\n');
    migrations.push({ version: Number(version), name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      const previous = migrations[index - 1];
      throw invalid(
        directory,
        migration.name,
        previous?.version === migration.version
          ? `migrations ${previous.name} and ${migration.name} share version ${migration.version}`
          : `migration version ${index + 1} is missing (found ${migration.name} next)`,
      );
    }
  });
  return migrations;
}

/**
 * The `.sql` files in `directory`, sorted. None at all is a packaging mistake as well (the image or checkout
 * lacks `sql/migrations`), not an empty schema to run with.
 */
async function sqlFilesIn(directory: string): Promise<string[]> {
  const entries = await readdir(directory).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  });
  const files = entries.filter((file) => file.endsWith('.sql')).sort();
  if (files.length === 0) {
    throw new CollectorError('DB_MIGRATION_INVALID', `no migrations in ${directory}: the sql/migrations folder is missing or empty (it ships beside dist/)`, {
      details: { directory },
    });
  }
  return files;
}

function invalid(directory: string, file: string, message: string): CollectorError {
  return new CollectorError('DB_MIGRATION_INVALID', `${message} (in ${directory})`, { details: { directory, file } });
}

function pendingMigrations(known: readonly Migration[], recorded: ReadonlyArray<{ version: number; name: string; checksum: string }>): Migration[] {
  const newest = known.at(-1)?.version ?? 0;
  const unknown = recorded.filter((row) => row.version > newest);
  if (unknown.length > 0) {
    throw new CollectorError(
      'DB_SCHEMA_TOO_NEW',
      `the database schema is at version ${unknown.at(-1)?.version} (${unknown.at(-1)?.name}) but this collector knows ` +
        `migrations only up to version ${newest}: a newer amber-collector has used this database. Upgrade the collector.`,
      { details: { databaseVersion: unknown.at(-1)?.version, codeVersion: newest } },
    );
  }
  const byVersion = new Map(recorded.map((row) => [row.version, row]));
  for (const migration of known) {
    const row = byVersion.get(migration.version);
    if (row !== undefined && row.checksum !== migration.checksum) {
      throw new CollectorError(
        'DB_MIGRATION_CHANGED',
        `migration ${migration.name} was edited after it was applied to this database (recorded as ${row.name}). ` +
          'Applied migrations must never change: restore the original file and add a new migration instead.',
        { details: { version: migration.version, recordedChecksum: row.checksum, fileChecksum: migration.checksum } },
      );
    }
  }
  return known.filter((migration) => !byVersion.has(migration.version));
}
