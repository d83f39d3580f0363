/**
 * The coverage ledger and revision history at the database level: counting rules, the migration that
 * seeds an existing database, atomicity with the chunk, and the kept values of revised rows.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIncompleteDays, recountCoverage } from '../../src/db/coverage-ledger.ts';
import { migrate } from '../../src/db/migrate.ts';
import { upsertPriceIntervals } from '../../src/db/prices.ts';
import { upsertSites } from '../../src/db/sites-store.ts';
import { upsertUsageIntervals } from '../../src/db/usage.ts';
import { silentLogger } from '../../src/logger.ts';
import { startHarness } from '../helpers/collector-harness.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { priceDay, testSite, usageDay } from './fixtures.ts';

// Billed at 30 minutes in the past and at 5 minutes now; one general and one feed-in meter channel.
const SITE = testSite('01LEDGERSITE00000000000000', 5, [
  ['E1', 'general'],
  ['B1', 'feedIn'],
]);

async function coverageRows(db: TestDatabase, dataType: string) {
  const result = await db.pool.query<{ nem_date: string; channel: string; duration: number; expected: number; stored: number }>(
    `SELECT to_char(nem_date, 'YYYY-MM-DD') AS nem_date, channel, duration, expected, stored
     FROM coverage WHERE site_id = $1 AND data_type = $2 ORDER BY nem_date, channel`,
    [SITE.id, dataType],
  );
  return result.rows;
}

describe('coverage ledger', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await upsertSites(db.pool, [SITE]);
  });
  afterAll(async () => db.drop());

  it('expects what the stored durations say, and the site interval length on a day without rows', async () => {
    await upsertPriceIntervals(db.pool, SITE.id, [...priceDay('2024-03-01', 'general', { duration: 30 }), ...priceDay('2024-03-01', 'feedIn', { duration: 30, skip: [48] })]);
    await upsertPriceIntervals(db.pool, SITE.id, [...priceDay('2025-03-01', 'general', { duration: 5, skip: [1, 2] }), ...priceDay('2025-03-01', 'feedIn', { duration: 5 })]);

    const first = await recountCoverage(db.pool, SITE.id, 'price', '2024-03-01', '2024-03-02');
    expect(first).toEqual([
      { date: '2024-03-01', expected: 96, stored: 95, previouslyStored: null },
      { date: '2024-03-02', expected: 576, stored: 0, previouslyStored: null },
    ]);
    await recountCoverage(db.pool, SITE.id, 'price', '2025-03-01', '2025-03-01');
    expect(await coverageRows(db, 'price')).toEqual([
      { nem_date: '2024-03-01', channel: 'feedIn', duration: 30, expected: 48, stored: 47 },
      { nem_date: '2024-03-01', channel: 'general', duration: 30, expected: 48, stored: 48 },
      { nem_date: '2024-03-02', channel: 'feedIn', duration: 5, expected: 288, stored: 0 },
      { nem_date: '2024-03-02', channel: 'general', duration: 5, expected: 288, stored: 0 },
      { nem_date: '2025-03-01', channel: 'feedIn', duration: 5, expected: 288, stored: 288 },
      { nem_date: '2025-03-01', channel: 'general', duration: 5, expected: 288, stored: 286 },
    ]);

    // The missing interval arrives: the recount reports what the ledger held before.
    await upsertPriceIntervals(db.pool, SITE.id, priceDay('2024-03-01', 'feedIn', { duration: 30 }));
    expect(await recountCoverage(db.pool, SITE.id, 'price', '2024-03-01', '2024-03-01')).toEqual([
      { date: '2024-03-01', expected: 96, stored: 96, previouslyStored: 95 },
    ]);
  });

  it('counts usage per meter channel, whatever the channel type', async () => {
    await upsertUsageIntervals(db.pool, SITE.id, [...usageDay('2024-03-01', ['E1', 'general']), ...usageDay('2024-03-01', ['B1', 'feedIn'], { skip: [3] })]);
    expect(await recountCoverage(db.pool, SITE.id, 'usage', '2024-03-01', '2024-03-01')).toEqual([
      { date: '2024-03-01', expected: 96, stored: 95, previouslyStored: null },
    ]);
    expect((await coverageRows(db, 'usage')).map((r) => `${r.channel}:${r.stored}/${r.expected}`)).toEqual(['B1:47/48', 'E1:48/48']);
  });
});

describe('intervals expected on a day never fetched', () => {
  // Two general meters on different tariffs and a feed-in: two price channel types, three usage channels.
  const METERS: Array<[string, string]> = [
    ['E1', 'general'],
    ['E2', 'general'],
    ['B1', 'feedIn'],
  ];
  const FIVE = testSite('01EXPECTFIVE00000000000000', 5, METERS);
  const THIRTY = testSite('01EXPECTTHIRTY000000000000', 30, METERS);
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await upsertSites(db.pool, [FIVE, THIRTY]);
  });
  afterAll(async () => db.drop());

  const expectedOn = async (siteId: string, dataType: 'price' | 'usage') => {
    const [day] = await readIncompleteDays(db.pool, { siteId, dataType, from: '2025-03-01', through: '2025-03-01' });
    return day && { fetched: day.fetched, expected: day.expected };
  };

  it('counts channel types for prices and meter channels for usage, at the site interval length', async () => {
    expect(await expectedOn(FIVE.id, 'price')).toEqual({ fetched: false, expected: 2 * 288 });
    expect(await expectedOn(FIVE.id, 'usage')).toEqual({ fetched: false, expected: 3 * 288 });
    expect(await expectedOn(THIRTY.id, 'usage')).toEqual({ fetched: false, expected: 3 * 48 });
  });

  it('expects what a recount of the empty day expects', async () => {
    for (const dataType of ['price', 'usage'] as const) {
      const [counted] = await recountCoverage(db.pool, FIVE.id, dataType, '2025-03-02', '2025-03-02');
      const [unfetched] = await readIncompleteDays(db.pool, { siteId: FIVE.id, dataType, from: '2025-03-03', through: '2025-03-03' });
      expect(unfetched!.expected).toBe(counted!.expected);
    }
  });
});

describe('migration 000002 on a database collected before it', () => {
  const scratch: string[] = [];
  afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('seeds the ledger for every day the watermarks claim', async () => {
    const db = await createTestDatabase({ migrated: false });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'amber-migrations-'));
      scratch.push(dir);
      const migrations = fileURLToPath(new URL('../../sql/migrations/', import.meta.url));
      copyFileSync(join(migrations, '000001_initial.sql'), join(dir, '000001_initial.sql'));
      await migrate(db.pool, silentLogger(), { directory: dir });

      await upsertSites(db.pool, [SITE]);
      await upsertPriceIntervals(db.pool, SITE.id, [...priceDay('2025-03-01', 'general', { duration: 5 }), ...priceDay('2025-03-02', 'general', { duration: 5, skip: [7] })]);
      await db.pool.query(`INSERT INTO collection_state (site_id, data_type, backfill_from, collected_through) VALUES ($1, 'price', '2025-03-01', '2025-03-02')`, [SITE.id]);

      // Later migrations follow it; this test is about 000002.
      expect((await migrate(db.pool, silentLogger())).applied[0]).toBe('000002_data_fidelity.sql');
      expect(await coverageRows(db, 'price')).toEqual([
        { nem_date: '2025-03-01', channel: 'feedIn', duration: 5, expected: 288, stored: 0 },
        { nem_date: '2025-03-01', channel: 'general', duration: 5, expected: 288, stored: 288 },
        { nem_date: '2025-03-02', channel: 'feedIn', duration: 5, expected: 288, stored: 0 },
        { nem_date: '2025-03-02', channel: 'general', duration: 5, expected: 288, stored: 287 },
      ]);
    } finally {
      await db.drop();
    }
  });
});

describe('the ledger moves with the chunk', () => {
  it('rolls back with rows the chunk could not commit', async () => {
    const h = await startHarness({ now: new Date('2025-11-21T03:00:00Z') });
    try {
      const collector = h.newCollector({ historicalStartDate: '2025-11-10' });
      const [site] = await collector.discoverSites(AbortSignal.timeout(10_000));
      const chunk = { startDate: '2025-11-12', endDate: '2025-11-13' };
      await expect(
        collector.collectDays(site!, 'price', chunk, AbortSignal.timeout(10_000), {
          inTransaction: async () => {
            throw new Error('the caller failed inside the transaction');
          },
        }),
      ).rejects.toThrow(/inside the transaction/);
      const counts = await h.pool.query(`SELECT (SELECT count(*) FROM price_data)::int AS rows, (SELECT count(*) FROM coverage)::int AS ledger`);
      expect(counts.rows[0]).toEqual({ rows: 0, ledger: 0 });

      const stored = await collector.collectDays(site!, 'price', chunk, AbortSignal.timeout(10_000));
      expect(stored.inserted).toBeGreaterThan(0);
      const ledger = await h.pool.query<{ stored: number }>(`SELECT sum(stored)::int AS stored FROM coverage WHERE data_type = 'price'`);
      expect(ledger.rows[0]!.stored).toBe(stored.inserted);
      // On-demand days never move the watermark.
      const state = await h.pool.query('SELECT collected_through FROM collection_state');
      expect(state.rows.every((r) => r.collected_through === null)).toBe(true);
    } finally {
      await h.close();
    }
  });
});

describe('revisions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await upsertSites(db.pool, [SITE]);
  });
  afterAll(async () => db.drop());

  it('keeps every superseded usage value, estimated first, one history row per counted revision', async () => {
    const day = '2025-12-04';
    const channel: [string, string] = ['E1', 'general'];
    await upsertUsageIntervals(db.pool, SITE.id, usageDay(day, channel, { kwh: 0.2, quality: 'estimated' }));
    await upsertUsageIntervals(db.pool, SITE.id, usageDay(day, channel, { kwh: 0.2, quality: 'estimated' }));
    expect((await db.pool.query('SELECT count(*)::int AS n FROM usage_revisions')).rows[0].n).toBe(0);

    await upsertUsageIntervals(db.pool, SITE.id, usageDay(day, channel, { kwh: 0.3, quality: 'estimated' }));
    await upsertUsageIntervals(db.pool, SITE.id, usageDay(day, channel, { kwh: 0.25, quality: 'billable' }));

    const current = await db.pool.query<{ revision_count: number; quality: string; kwh: string; moved: boolean }>(
      `SELECT revision_count, quality, kwh::text, updated_at > first_seen_at AS moved FROM usage_data WHERE site_id = $1 ORDER BY nem_time LIMIT 1`,
      [SITE.id],
    );
    expect(current.rows[0]).toEqual({ revision_count: 2, quality: 'billable', kwh: '0.25', moved: true });
    const history = await db.pool.query<{ revision: number; kwh: string; quality: string; ordered: boolean }>(
      `SELECT revision, kwh::text, quality, valid_from <= replaced_at AS ordered FROM usage_revisions
       WHERE site_id = $1 AND nem_time = (SELECT min(nem_time) FROM usage_data) ORDER BY revision`,
      [SITE.id],
    );
    expect(history.rows).toEqual([
      { revision: 0, kwh: '0.2', quality: 'estimated', ordered: true },
      { revision: 1, kwh: '0.3', quality: 'estimated', ordered: true },
    ]);
    const totals = await db.pool.query(
      `SELECT (SELECT sum(revision_count) FROM usage_data)::int AS counted, (SELECT count(*) FROM usage_revisions)::int AS kept`,
    );
    expect(totals.rows[0]).toEqual({ counted: 96, kept: 96 });
  });

  it('keeps a repriced actual price too', async () => {
    await upsertPriceIntervals(db.pool, SITE.id, priceDay('2025-12-04', 'general', { duration: 5, perKwh: 20.5 }).slice(0, 3));
    await upsertPriceIntervals(db.pool, SITE.id, priceDay('2025-12-04', 'general', { duration: 5, perKwh: 31.185000000000002 }).slice(0, 1));
    const kept = await db.pool.query('SELECT revision, per_kwh::text AS per_kwh, interval_type FROM price_revisions');
    expect(kept.rows).toEqual([{ revision: 0, per_kwh: '20.5', interval_type: 'ActualInterval' }]);
    const row = await db.pool.query(`SELECT per_kwh::text AS per_kwh, revision_count FROM price_data WHERE revision_count > 0`);
    expect(row.rows).toEqual([{ per_kwh: '31.185000000000002', revision_count: 1 }]);
  });
});
