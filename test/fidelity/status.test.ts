/**
 * `amber-collector status` on a database with a known set of gaps: text, JSON and exit codes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseMonitorConfig } from '../../src/config/config.ts';
import { statusCommand, type StatusEnvironment } from '../../src/commands/status.ts';
import { recountCoverage, writeCoverageChecks } from '../../src/db/coverage-ledger.ts';
import { openCommandDatabase } from '../../src/embedded/database-server.ts';
import { upsertPriceIntervals } from '../../src/db/prices.ts';
import { upsertSites } from '../../src/db/sites-store.ts';
import { upsertUsageIntervals } from '../../src/db/usage.ts';
import { CollectorError } from '../../src/errors.ts';
import { memoryOutput } from '../../src/commands/output/output.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { daysFrom, priceDay, testSite, usageDay } from './fixtures.ts';

// 13:00 NEM time on 2025-11-21: prices should be complete through the 20th, usage through the 19th.
const NOW = new Date('2025-11-21T03:00:00Z');
const SITE = testSite('01STATUSSITE00000000000000', 30, [
  ['E1', 'general'],
  ['B1', 'feedIn'],
]);
const NEXT_CHECK = new Date('2025-11-21T09:00:00Z');

let db: TestDatabase;

/**
 * Prices collected through the 18th (the watermark) from the 10th: the 12th lacks 3 general intervals,
 * the 14th and 15th came back empty, the 16th lacks 10 and Amber had nothing more when asked again;
 * the 19th and 20th were never fetched. Usage is collected through the 20th and due through the 19th.
 */
async function loadGaps(): Promise<void> {
  await upsertSites(db.pool, [SITE]);
  for (const day of daysFrom('2025-11-10', '2025-11-18')) {
    if (day === '2025-11-14' || day === '2025-11-15') continue;
    const skip = day === '2025-11-12' ? [5, 6, 7] : day === '2025-11-16' ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [];
    await upsertPriceIntervals(db.pool, SITE.id, [...priceDay(day, 'general', { skip }), ...priceDay(day, 'feedIn')]);
  }
  for (const day of daysFrom('2025-11-10', '2025-11-19')) {
    await upsertUsageIntervals(db.pool, SITE.id, [...usageDay(day, ['E1', 'general']), ...usageDay(day, ['B1', 'feedIn'])]);
  }
  await recountCoverage(db.pool, SITE.id, 'price', '2025-11-10', '2025-11-18');
  await recountCoverage(db.pool, SITE.id, 'usage', '2025-11-10', '2025-11-19');
  await writeCoverageChecks(db.pool, SITE.id, 'price', [
    { date: '2025-11-16', check: { fruitlessChecks: 2, lastCheckedAt: new Date('2025-11-21T02:00:00Z'), nextCheckAt: NEXT_CHECK } },
  ]);
  await db.pool.query(
    `INSERT INTO collection_state (site_id, data_type, backfill_from, collected_through, last_success_at, last_error, last_error_at)
     VALUES ($1, 'price', '2025-11-10', '2025-11-18', $2, 'AMBER_SERVER: Amber answered HTTP 502', $3),
            ($1, 'usage', '2025-11-10', '2025-11-20', $4, NULL, NULL)`,
    [SITE.id, new Date('2025-11-21T02:58:00Z'), new Date('2025-11-20T10:00:00Z'), new Date('2025-11-21T02:30:00Z')],
  );
}

async function status(args: string[], overrides: Partial<StatusEnvironment> = {}) {
  const out = memoryOutput();
  const err = memoryOutput();
  const code = await statusCommand.run(args, {
    out,
    err,
    now: NOW,
    readConfig: () => parseMonitorConfig({ DATABASE_URL: db.url }),
    openDatabase: (config) => openCommandDatabase(config, { max: 2, applicationName: 'amber-collector-test' }),
    ...overrides,
  });
  return { code, out: out.text, err: err.text };
}

/** Each describe block has a database of its own with the gaps above, so their order does not matter. */
function databaseWithGaps(): void {
  beforeAll(async () => {
    db = await createTestDatabase();
    await loadGaps();
  });
  afterAll(async () => db.drop());
}

describe('status on known gaps', () => {
  databaseWithGaps();
  beforeEach(async () => {
    await db.pool.query(`UPDATE collection_state SET last_success_at = $1 WHERE data_type = 'price'`, [new Date('2025-11-21T02:58:00Z')]);
  });

  it('lists incomplete days as compact ranges by kind, with completeness, freshness, errors and remaining calls, and exits 3', async () => {
    const run = await status([]);
    expect(run.code).toBe(3);
    expect(run.err).toBe('');
    expect(run.out).toBe(
      [
        'amber-collector status at 2025-11-21 03:00 UTC',
        '',
        'Site 01STATUSSITE00000000000000 (active, 30-minute intervals)',
        '  price 62.4%          complete over 2025-11-10..2025-11-20',
        '        stored         2025-11-10..2025-11-18',
        '        incomplete     2025-11-12, 2025-11-14..2025-11-15 (being fetched again)',
        '        not collected  2025-11-19..2025-11-20 (the backfill has not reached them)',
        '        unavailable    2025-11-16 (fetched again, Amber had nothing new; next check 2025-11-21 09:00 UTC)',
        '        last success   2025-11-21 02:58 UTC (2 min ago)',
        '        last error     2025-11-20 10:00 UTC, resolved since: AMBER_SERVER: Amber answered HTTP 502',
        '        remaining      1 backfill call, 1 repair call',
        '  usage 100.0%         complete over 2025-11-10..2025-11-19',
        '        stored         2025-11-10..2025-11-19',
        '        last success   2025-11-21 02:30 UTC (30 min ago)',
        '',
        'Remaining: 2 calls (1 backfill, 1 repair, 0 requested), done in about 0 min at 50 calls per 300 s (2025-11-21 03:00 UTC)',
        '',
        'GAPS (exit 3):',
        '  01STATUSSITE00000000000000 price: 6 days missing intervals',
        '',
      ].join('\n'),
    );
  });

  it('says the same in JSON for machines', async () => {
    const run = await status(['--json']);
    expect(run.code).toBe(3);
    const report = JSON.parse(run.out);
    expect(report).toMatchObject({ exitCode: 3, healthy: false, generatedAt: NOW.toISOString(), rateLimit: { limit: 50, windowSeconds: 300 } });
    expect(report.remainingCalls).toEqual({ backfill: 1, repair: 1, requested: 0, total: 2 });
    const [price, usage] = report.streams;
    expect(price).toMatchObject({
      siteId: SITE.id,
      dataType: 'price',
      wanted: { from: '2025-11-10', through: '2025-11-20' },
      stored: { from: '2025-11-10', through: '2025-11-18' },
      collectedThrough: '2025-11-18',
      // 11 days × 2 channels × 48; stored: 5 full days, 93 on the 12th, 86 on the 16th.
      intervals: { expected: 1056, stored: 5 * 96 + 93 + 86 },
      percentComplete: 62.4,
      gaps: { notCollected: ['2025-11-19..2025-11-20'], incomplete: ['2025-11-12', '2025-11-14..2025-11-15'], unavailable: ['2025-11-16'] },
      gapDays: { notCollected: 2, incomplete: 3, unavailable: 1 },
      nextCheckAt: NEXT_CHECK.toISOString(),
      lastError: { at: '2025-11-20T10:00:00.000Z', message: 'AMBER_SERVER: Amber answered HTTP 502', current: false },
      stale: false,
      staleAfterMinutes: 15,
      remainingCalls: { backfill: 1, repair: 1 },
    });
    expect(usage).toMatchObject({ dataType: 'usage', percentComplete: 100, gapDays: { notCollected: 0, incomplete: 0, unavailable: 0 }, staleAfterMinutes: 135 });
    expect(report.problems).toEqual([`${SITE.id} price: 6 days missing intervals`]);
  });

  it('exits 4 when a stream has had no success within its window, whatever the gaps', async () => {
    // 3 × COLLECTION_INTERVAL_MINUTES (5) = 15 minutes for prices.
    await db.pool.query(`UPDATE collection_state SET last_success_at = $1 WHERE data_type = 'price'`, [new Date('2025-11-21T02:44:00Z')]);
    const run = await status([]);
    expect(run.code).toBe(4);
    expect(run.out).toContain('last success   2025-11-21 02:44 UTC (16 min ago), STALE');
    expect(run.out).toContain('STALE (exit 4):\n  01STATUSSITE00000000000000 price: no successful fetch for 16 min (stale after 15 min)');
    const fresher = await status([], { readConfig: () => parseMonitorConfig({ DATABASE_URL: db.url, COLLECTION_INTERVAL_MINUTES: '10' }) });
    expect(fresher.code).toBe(3);
  });

  it('rejects bad arguments with 2, bad configuration with 1 and an unreachable database with 75', async () => {
    const unknown = await status(['--site', 'NOPE']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain(`no site "NOPE" (known sites: ${SITE.id})`);
    expect((await status(['--verbose'])).code).toBe(2);
    const config = await status([], { readConfig: () => parseMonitorConfig({ DATABASE_URL: 'mysql://db' }) });
    expect(config.code).toBe(1);
    expect(config.err).toContain('DATABASE_URL');
    const down = await status([], { readConfig: () => parseMonitorConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }) });
    expect(down.code).toBe(75);
    expect(down.err).toMatch(/cannot reach the database/);
  });

  it('exits 1 with the reason, not 75, when the database needs a person: no embedded PostgreSQL installed, DATA_DIR held', async () => {
    for (const code of ['EMBEDDED_DB_MISSING', 'DATA_DIR_IN_USE', 'DB_AUTH'] as const) {
      const refusal = new CollectorError(code, `the reason for ${code}`);
      const result = await status([], { openDatabase: () => Promise.reject(refusal) });
      expect(result.code, code).toBe(1);
      expect(result.err).toBe(`amber-collector status: the reason for ${code}\n`);
    }
  });
});

describe('status once only unavailable days are left', () => {
  databaseWithGaps();
  beforeAll(async () => {
    // Fill every gap except the 16th, which Amber does not have, and move the watermark to the 20th.
    for (const day of ['2025-11-12', '2025-11-14', '2025-11-15', '2025-11-19', '2025-11-20']) {
      await upsertPriceIntervals(db.pool, SITE.id, [...priceDay(day, 'general'), ...priceDay(day, 'feedIn')]);
    }
    await recountCoverage(db.pool, SITE.id, 'price', '2025-11-10', '2025-11-21');
    await db.pool.query(`UPDATE collection_state SET collected_through = '2025-11-20', last_success_at = $1`, [new Date('2025-11-21T02:58:00Z')]);
  });

  it('still exits 3 by default, and 0 with --ignore-unavailable', async () => {
    const strict = await status([]);
    expect(strict.code).toBe(3);
    expect(strict.out).toContain('unavailable    2025-11-16');
    const lenient = await status(['--ignore-unavailable', '--json']);
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.out)).toMatchObject({ healthy: true, problems: [], remainingCalls: { total: 0 } });
  });
});

describe('status before anything is stored', () => {
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  it('exits 5, not 0 or 4, while the sites are known but no stream has stored anything', async () => {
    await upsertSites(db.pool, [SITE]);
    const run = await status([]);
    expect(run.code).toBe(5);
    expect(run.out).toContain('NOTHING COLLECTED (exit 5):\n  nothing collected yet: the sites are known, no stream has stored anything\n');
    expect(run.out).toMatch(/ {2}run `(npm start|amber-collector run)`.* first: it reads the sites from Amber and collects\n$/);
    expect(JSON.parse((await status(['--json'])).out)).toMatchObject({ exitCode: 5, healthy: false });
  });
});
