import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { CollectorError, exitCodeFor } from '../../src/errors.ts';
import { silentLogger } from '../../src/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const MIGRATIONS = fileURLToPath(new URL('../../sql/migrations/', import.meta.url));
/** The packaged migrations: 000001_initial.sql and whatever later ones the project has added. */
const PACKAGED = readdirSync(MIGRATIONS).filter((file) => file.endsWith('.sql')).sort();
const INITIAL = '000001_initial.sql';
const log = silentLogger();

/** The file name of the migration `offset` versions after the last packaged one. */
function next(slug: string, offset = 1): string {
  return `${String(PACKAGED.length + offset).padStart(6, '0')}_${slug}.sql`;
}

/** A scratch migrations folder: the packaged migrations plus `extra` files. */
function migrationsDir(extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'amber-migrations-'));
  for (const file of PACKAGED) copyFileSync(join(MIGRATIONS, file), join(dir, file));
  for (const [name, sql] of Object.entries(extra)) writeFileSync(join(dir, name), sql);
  scratch.push(dir);
  return dir;
}

const scratch: string[] = [];
let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase({ migrated: false });
});
afterEach(async () => {
  await db.drop();
});
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function tables(): Promise<string[]> {
  const result = await db.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  );
  return result.rows.map((r) => r.table_name);
}

async function recorded(): Promise<Array<{ version: number; name: string }>> {
  const result = await db.pool.query('SELECT version, name FROM schema_migrations ORDER BY version');
  return result.rows;
}

describe('migrate', () => {
  it('creates the schema on an empty database from the packaged sql/migrations folder', async () => {
    const result = await migrate(db.pool, log);

    expect(PACKAGED[0]).toBe(INITIAL);
    expect(result.applied).toEqual(PACKAGED);
    expect(await tables()).toEqual(expect.arrayContaining(['collection_state', 'price_data', 'schema_migrations', 'sites', 'usage_data']));
    const rows = await db.pool.query('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version');
    expect(rows.rows[0]).toEqual({ version: 1, name: INITIAL, checksum: expect.stringMatching(/^[0-9a-f]{64}$/), applied_at: expect.any(Date) });
    expect(rows.rows.map((r) => r.name)).toEqual(PACKAGED);
  });

  it('does nothing when run again', async () => {
    await migrate(db.pool, log);
    const before = await db.pool.query('SELECT * FROM schema_migrations');

    const again = await migrate(db.pool, log);

    expect(again.applied).toEqual([]);
    expect((await db.pool.query('SELECT * FROM schema_migrations')).rows).toEqual(before.rows);
  });

  it('applies only the migrations added since the last run', async () => {
    await migrate(db.pool, log, { directory: migrationsDir() });
    const result = await migrate(db.pool, log, { directory: migrationsDir({ [next('add_notes')]: 'CREATE TABLE notes (id int);' }) });

    expect(result.applied).toEqual([next('add_notes')]);
    expect((await recorded()).map((r) => r.name)).toEqual([...PACKAGED, next('add_notes')]);
  });

  it('lets two runners migrate at once: both succeed and each migration runs once', async () => {
    // The slow second migration keeps the first runner inside its transaction while the second arrives.
    const dir = migrationsDir({ [next('slow')]: 'CREATE TABLE slow (id int);\nSELECT pg_sleep(0.3);' });
    const other = createPool({ url: db.url, ssl: false }, log, { max: 1 });
    try {
      const results = await Promise.all([migrate(db.pool, log, { directory: dir }), migrate(other, log, { directory: dir })]);

      const all = [...PACKAGED, next('slow')];
      expect(results.map((r) => r.applied).sort((a, b) => a.length - b.length)).toEqual([[], all]);
      expect(await recorded()).toEqual(all.map((name, i) => ({ version: i + 1, name })));
    } finally {
      await other.end();
    }
  });

  it('refuses to run when an applied migration was edited', async () => {
    const dir = migrationsDir();
    await migrate(db.pool, log, { directory: dir });
    writeFileSync(join(dir, INITIAL), '-- edited\nCREATE TABLE other (id int);');

    const error = await migrate(db.pool, log, { directory: dir }).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(CollectorError);
    expect(error).toMatchObject({ code: 'DB_MIGRATION_CHANGED', details: { version: 1 } });
    expect((error as Error).message).toContain(INITIAL);
  });

  it('treats a CRLF checkout of the same migration as unchanged', async () => {
    const dir = migrationsDir();
    await migrate(db.pool, log, { directory: dir });
    writeFileSync(join(dir, INITIAL), readFileSync(join(dir, INITIAL), 'utf8').replace(/\n/g, '\r\n'));

    expect((await migrate(db.pool, log, { directory: dir })).applied).toEqual([]);
  });

  it('refuses a database migrated by a newer collector, telling the user to upgrade', async () => {
    await migrate(db.pool, log, { directory: migrationsDir({ [next('future')]: 'CREATE TABLE future (id int);' }) });

    const error = await migrate(db.pool, log).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(CollectorError);
    expect(error).toMatchObject({ code: 'DB_SCHEMA_TOO_NEW', details: { databaseVersion: PACKAGED.length + 1, codeVersion: PACKAGED.length } });
    expect((error as Error).message).toMatch(/upgrade/i);
  });

  it('rolls back every pending migration when one fails, naming the file (DB_MIGRATION_FAILED, exit 1)', async () => {
    const dir = migrationsDir({ [next('broken')]: 'CREATE TABLE broken (id int;' });

    const error = await migrate(db.pool, log, { directory: dir }).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(CollectorError);
    expect(error).toMatchObject({ code: 'DB_MIGRATION_FAILED', details: { migration: next('broken'), sqlState: '42601' } });
    expect((error as Error).message).toContain(next('broken'));
    expect(exitCodeFor(error)).toBe(1);
    expect(await tables()).toEqual([]);
  });

  it('reports a connection lost while a migration runs as DB_UNAVAILABLE (a restart retries), not as a broken migration', async () => {
    const dir = migrationsDir({ [next('cut')]: `SELECT pg_terminate_backend(pg_backend_pid());` });

    const error = await migrate(db.pool, log, { directory: dir }).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(CollectorError);
    expect(error).toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true, details: { causeCode: '57P01' } });
    expect(exitCodeFor(error)).toBe(75);
    expect(await tables()).toEqual([]);
  });

  it.each([
    ['a gap in the numbering', { [next('skip', 2)]: 'SELECT 1;' }, next('skip', 2), new RegExp(`version ${PACKAGED.length + 1} is missing`)],
    ['a duplicate number', { '000001_again.sql': 'SELECT 1;' }, INITIAL, /000001_again\.sql and 000001_initial\.sql share version 1/],
    ['a misnamed file', { '2_Bad-Name.sql': 'SELECT 1;' }, '2_Bad-Name.sql', /2_Bad-Name\.sql is misnamed/],
  ])('rejects %s before touching the database (DB_MIGRATION_INVALID, exit 1)', async (_case, extra, file, message) => {
    const dir = migrationsDir(extra);

    const error = await migrate(db.pool, log, { directory: dir }).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(CollectorError);
    expect(error).toMatchObject({ code: 'DB_MIGRATION_INVALID', details: { directory: dir, file } });
    expect((error as Error).message).toMatch(message);
    expect(exitCodeFor(error)).toBe(1);
    expect(await tables()).toEqual([]);
  });

  it.for([
    ['missing', () => join(tmpdir(), `amber-no-migrations-${process.pid}`)],
    ['empty', () => {
      const dir = mkdtempSync(join(tmpdir(), 'amber-migrations-'));
      scratch.push(dir);
      return dir;
    }],
  ] as const)('rejects a %s migrations folder before touching the database (DB_MIGRATION_INVALID, exit 1)', async ([, directory]) => {
    const dir = directory();
    const error = await migrate(db.pool, log, { directory: dir }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'DB_MIGRATION_INVALID', details: { directory: dir } });
    expect((error as Error).message).toMatch(/no migrations in/);
    expect(exitCodeFor(error)).toBe(1);
    expect(await tables()).toEqual([]);
  });

  it('ignores files that are not .sql', async () => {
    const result = await migrate(db.pool, log, { directory: migrationsDir({ 'README.md': '# notes' }) });
    expect(result.applied).toEqual(PACKAGED);
  });
});
