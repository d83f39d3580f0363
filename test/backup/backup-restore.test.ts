/**
 * Backup and restore of what the real collector collected from the fake Amber server (prices, usage,
 * forecasts, coverage, rejected intervals, alert state): restored into a fresh database it compares equal
 * table by table, sequences included; a database holding data is refused without --force; a damaged,
 * truncated or tampered file is refused with nothing changed; a backup of an older schema is upgraded.
 */
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Alerter } from '../../src/alerts/alerter.ts';
import { makeBackup } from '../../src/backup/make-backup.ts';
import { restoreBackup } from '../../src/backup/restore-backup.ts';
import { migrate, readSchemaVersion } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { silentLogger } from '../../src/logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { databaseForTest } from '../helpers/database.ts';

const MINUTE_MS = 60_000;
const T0 = new Date('2025-11-21T07:05:00Z');

let h: Harness;
let folder: string;
let backupFile: string;

/** A pool for the backup's snapshot and the restore: cursors and COPY need pg's pipeline mode off. */
function snapshotPool(url: string): pg.Pool {
  return createPool({ url, ssl: false }, silentLogger(), { max: 1, pipeline: false });
}

async function backupOf(url: string, file: string) {
  const pool = snapshotPool(url);
  try {
    return await makeBackup(pool, file);
  } finally {
    await pool.end();
  }
}

/** Into `target`'s database through a pool of its own: COPY needs pg's pipeline mode off too. */
async function restore(target: { url: string }, file: string, force = false) {
  const pool = snapshotPool(target.url);
  try {
    return await restoreBackup(pool, createReadStream(file), { file, force, logger: silentLogger() });
  } finally {
    await pool.end();
  }
}

/** Every constraint and index of the schema, as PostgreSQL describes them. */
async function keysAndIndexes(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ line: string }>(
    `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS line FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
     UNION ALL
     SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace)
     ORDER BY 1`,
  );
  expect(result.rows.length).toBeGreaterThan(20);
  return result.rows.map((row) => row.line);
}

/** Every table of the schema but schema_migrations, each as its rows' text, sorted: equal means identical. */
async function contents(pool: pg.Pool): Promise<Record<string, string[]>> {
  const tables = await pool.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname <> 'schema_migrations' ORDER BY 1`,
  );
  const result: Record<string, string[]> = {};
  for (const { name } of tables.rows) {
    const rows = await pool.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
    result[name] = rows.rows.map((r) => r.row).sort();
  }
  const sequences = await pool.query<{ name: string }>(`SELECT relname AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'S' ORDER BY 1`);
  for (const { name } of sequences.rows) {
    const state = await pool.query<{ row: string }>(`SELECT last_value::text || ' ' || is_called AS row FROM "${name}"`);
    result[`sequence ${name}`] = state.rows.map((r) => r.row);
  }
  return result;
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'amber-backup-'));
  backupFile = join(folder, 'collected.backup');
  // Some elements the fake sends are ones the collector refuses, and a forced spike raises alerts (recorded
  // whether or not their delivery succeeds).
  h = await startHarness({ now: T0 });
  h.fake.inject({ kind: 'inconsistent', endpoint: 'prices', fraction: 0.02, times: 2 });
  h.fake.forceSpike({ start: new Date('2025-11-21T08:00:00Z'), minutes: 30, magnitude: 400, network: 'Ausgrid' });
  const alerter = new Alerter({
    pool: h.pool,
    config: { targets: [{ url: 'http://127.0.0.1:9/nobody-listens', format: 'json' }], priceAbove: 100, priceBelow: null, feedInAbove: null, spikeStatuses: [], lookaheadMinutes: 60, staleMinutes: 30, failedCycles: 3, quietHours: null, maxPerHour: 20 },
    publicUrl: null,
    logger: silentLogger(),
    now: () => h.clock.now,
    delivery: { retryDelaysMs: [20], timeoutMs: 2_000 },
    troubleCheckMs: 20,
  });
  const collector = h.newCollector({ historicalStartDate: '2025-11-18', events: alerter.collectorEvents });
  await collector.discoverSites(AbortSignal.timeout(10_000));
  await collector.backfill(AbortSignal.timeout(60_000));
  for (const minutes of [0, 5, 30, 60]) {
    h.clock.now = new Date(T0.getTime() + minutes * MINUTE_MS);
    await collector.runCycle(AbortSignal.timeout(60_000));
    await collector.settle();
    await alerter.idle();
    await alerter.drain(5_000);
  }
  await alerter.close(1_000);
}, 120_000);

afterAll(async () => {
  await h?.close();
  await rm(folder, { recursive: true, force: true });
});

describe('a backup of collected data', { timeout: 60_000 }, () => {
  it('restores into a fresh database equal table by table, forecasts, coverage, rejected intervals and alert state included', async () => {
    const source = await contents(h.pool);
    for (const table of ['sites', 'price_data', 'usage_data', 'price_forecasts', 'coverage', 'collection_state', 'rejected_intervals', 'alert_events']) {
      expect(source[table]?.length, table).toBeGreaterThan(0);
    }
    const made = await backupOf(h.dbUrl, backupFile);
    expect(made.rows['price_data']).toBe(source['price_data']!.length);
    expect(made.bytes).toBe(readFileSync(backupFile).length);

    const target = await databaseForTest({ migrated: false });
    const restored = await restore(target, backupFile);
    expect(restored.rows).toEqual(made.rows);
    expect(restored.skippedTables).toEqual([]);
    expect(await contents(target.pool)).toEqual(source);
    expect(await readSchemaVersion(target.pool)).toBe(await readSchemaVersion(h.pool));
    // The keys and indexes set aside while the rows loaded are all back, exactly as the migrations made them.
    expect(await keysAndIndexes(target.pool)).toEqual(await keysAndIndexes(h.pool));
    // The identity sequence carries on after the restored ids, so the next alert gets a new one.
    const next = await target.pool.query<{ id: string }>(
      `INSERT INTO alert_events (kind, opened_at) VALUES ('stale', now()) RETURNING id::text`,
    );
    expect(Number(next.rows[0]!.id)).toBeGreaterThan(Math.max(...(await h.pool.query<{ id: string }>('SELECT id::text FROM alert_events')).rows.map((r) => Number(r.id))));
  });

  it('refuses a database that holds data unless --force, which replaces it with the backup', async () => {
    await backupOf(h.dbUrl, backupFile);
    const target = await databaseForTest({ migrated: false });
    await restore(target, backupFile);
    await target.pool.query(`UPDATE price_data SET per_kwh = per_kwh + 1 WHERE ctid IN (SELECT ctid FROM price_data LIMIT 5)`);
    const changed = await contents(target.pool);
    await expect(restore(target, backupFile)).rejects.toMatchObject({ code: 'RESTORE_REFUSED', message: expect.stringMatching(/already holds data .* --force/) });
    expect(await contents(target.pool)).toEqual(changed);
    await restore(target, backupFile, true);
    expect(await contents(target.pool)).toEqual(await contents(h.pool));
  });

  it('refuses a damaged, truncated or tampered file with a clear error and changes nothing', async () => {
    await backupOf(h.dbUrl, backupFile);
    const bytes = readFileSync(backupFile);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)]! ^= 0xff;
    const truncated = bytes.subarray(0, Math.floor(bytes.length * 0.7));
    // Valid gzip, but one price changed inside: only the checksum can tell.
    const text = gunzipSync(bytes).toString('utf8');
    const tampered = gzipSync(Buffer.from(text.replace('"Ausgrid"', '"Ausgrip"')));
    const cases: Array<[string, Buffer, RegExp]> = [
      ['flipped', flipped, /damaged/],
      ['truncated', truncated, /damaged or truncated|truncated/],
      ['tampered', tampered, /checksum does not match/],
      ['not a backup', gzipSync('hello\n'), /damaged|header/],
      ['empty', Buffer.alloc(0), /empty|truncated/],
    ];
    expect(gunzipSync(tampered).toString('utf8')).not.toBe(text);
    for (const [name, content, message] of cases) {
      const file = join(folder, `${name}.backup`);
      writeFileSync(file, content);
      const target = await databaseForTest({ migrated: false });
      await expect(restore(target, file), name).rejects.toMatchObject({ code: 'BACKUP_INVALID', message: expect.stringMatching(message) });
      const rows = await target.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_class WHERE relname = 'price_data'`);
      if (rows.rows[0]!.n === '1') expect((await target.pool.query('SELECT 1 FROM price_data LIMIT 1')).rowCount, name).toBe(0);
    }
  });

  it('upgrades a backup taken at an older schema version with the migrations after it', async () => {
    const old = await databaseForTest({ migrated: false });
    await migrate(old.pool, silentLogger(), { upTo: 4 });
    await old.pool.query(`INSERT INTO sites (id, nmi, network, status, interval_length, channels, raw) VALUES ('S1', '1', 'Ausgrid', 'active', 5, '[{"identifier":"E1","type":"general"}]', '{}')`);
    await old.pool.query(`INSERT INTO alert_events (site_id, kind, opened_at) VALUES ('S1', 'price_above', '2025-11-21T08:00:00Z')`);
    const file = join(folder, 'old.backup');
    const made = await backupOf(old.url, file);
    expect(made.schemaVersion).toBe(4);
    const target = await databaseForTest({ migrated: false });
    const restored = await restore(target, file);
    expect(restored.header.schemaVersion).toBe(4);
    expect(await readSchemaVersion(target.pool)).toBe(restored.schemaVersion);
    expect(restored.schemaVersion).toBeGreaterThan(4);
    expect((await target.pool.query('SELECT id, kind FROM alert_events')).rows).toEqual([{ id: '1', kind: 'price_above' }]);
    // A database already past the backup's version cannot take it.
    const newer = await databaseForTest();
    await expect(restore(newer, file)).rejects.toMatchObject({ code: 'RESTORE_REFUSED', message: expect.stringMatching(/past the backup's/) });
  });
});
