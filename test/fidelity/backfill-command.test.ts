/**
 * `amber-collector backfill`: argument checks, `--dry-run` against a real run, and the single-writer
 * lock deciding who calls Amber: the command itself, a running daemon, or the command after the daemon left.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { backfillCommand, type BackfillEnvironment } from '../../src/commands/backfill.ts';
import { parseConfig, parseMonitorConfig } from '../../src/config/config.ts';
import { runDaemon } from '../../src/daemon.ts';
import { openCommandDatabase } from '../../src/embedded/database-server.ts';
import { WriterLock } from '../../src/db/writer-lock.ts';
import { silentLogger } from '../../src/logger.ts';
import { memoryOutput } from '../../src/commands/output/output.ts';
import { startFakeAmber, type FakeAmber } from '../fake-amber/server.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { diffPrices, diffUsage } from '../helpers/ground-truth.ts';

// 13:00 NEM time on 2025-11-21.
const NOW = new Date('2025-11-21T03:00:00Z');
const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE';
const HALF_HOUR_SITE = '01JB2WXYZ3M4N5P6Q7R8S9T0VA';

function environment(fake: FakeAmber, dbUrl: string, now: () => Date, overrides: Partial<BackfillEnvironment> = {}) {
  const out = memoryOutput();
  const err = memoryOutput();
  const env: BackfillEnvironment = {
    out,
    err,
    now,
    signal: new AbortController().signal,
    readMonitorConfig: () => parseMonitorConfig({ DATABASE_URL: dbUrl }),
    readConfig: () =>
      parseConfig({
        AMBER_API_KEY: fake.apiKey,
        AMBER_API_BASE_URL: fake.url,
        DATABASE_URL: dbUrl,
        HISTORICAL_START_DATE: '2025-11-01',
        AMBER_RATE_LIMIT: '1000;w=1',
      }),
    openDatabase: (config) => openCommandDatabase(config, { max: 3, applicationName: 'amber-collector-test' }),
    pollMs: 20,
    ...overrides,
  };
  return { env, out, err };
}

/** The `GET` lines of a dry run, as (endpoint, start, end) keys. */
function plannedCalls(text: string): string[] {
  return [...text.matchAll(/GET \/sites\/\S+\/(prices|usage)\?startDate=(\S+?)&endDate=(\S+?)(&|$)/gm)].map((m) => `${m[1]} ${m[2]}..${m[3]}`).sort();
}

function madeCalls(fake: FakeAmber, siteId: string, from = 0): string[] {
  return fake.requests
    .slice(from)
    .filter((r) => (r.endpoint === 'prices' || r.endpoint === 'usage') && r.siteId === siteId)
    .map((r) => `${r.endpoint} ${r.query['startDate']}..${r.query['endDate']}`)
    .sort();
}

describe('backfill without a running collector', () => {
  // Each test has its own database (request ids start at #1, no request of another test is there).
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ now: NOW });
    await h.newCollector().discoverSites(AbortSignal.timeout(10_000));
  });
  afterEach(async () => h.close());

  const run = async (args: string[], overrides: Partial<BackfillEnvironment> = {}) => {
    const { env, out, err } = environment(h.fake, h.dbUrl, () => h.clock.now, overrides);
    const code = await backfillCommand.run(args, env);
    return { code, out: out.text, err: err.text };
  };

  it.each([
    [['--from', '2025-11-01', '--to', '2025-11-02'], '--site ID is required'],
    [['--site', HALF_HOUR_SITE, '--from', '2025-11-31', '--to', '2025-12-02'], '--from must be a date as YYYY-MM-DD, got "2025-11-31"'],
    [['--site', HALF_HOUR_SITE, '--from', '2025-11-05', '--to', '2025-11-02'], '--from 2025-11-05 is after --to 2025-11-02'],
    [['--site', HALF_HOUR_SITE, '--from', '2025-11-25', '--to', '2025-11-26'], '--from 2025-11-25 is in the future (today is 2025-11-21, NEM time)'],
    [['--site', HALF_HOUR_SITE, '--from', '2025-11-01', '--to', '2025-11-02', '--type', 'renewables'], '--type must be price or usage, got "renewables"'],
    [['--site', 'NOPE', '--from', '2025-11-01', '--to', '2025-11-02'], 'no site "NOPE" (known sites: '],
  ])('refuses %j with exit 2', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it('--dry-run prints exactly the calls a real run then makes, and changes nothing', async () => {
    const args = ['--site', FIVE_MINUTE_SITE, '--from', '2025-11-02', '--to', '2025-11-14'];
    const before = h.fake.requests.length;
    const dry = await run([...args, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(`Backfill of site ${FIVE_MINUTE_SITE}, 2025-11-02..2025-11-14: 4 calls`);
    expect(dry.out).toContain(`GET /sites/${FIVE_MINUTE_SITE}/prices?startDate=2025-11-02&endDate=2025-11-08&resolution=5`);
    expect(dry.out).toMatch(/ETA: about \d+ s at 50 calls per 300 s/);
    expect(h.fake.requests.length).toBe(before);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM backfill_requests')).rows[0].n).toBe(0);

    const real = await run(args);
    expect(real.err).toBe('');
    expect(real.code).toBe(0);
    expect(real.out).toContain('No collector is running: making the calls here (request #1).');
    expect(real.out).toContain('  [4/4] usage 2025-11-09..2025-11-14 stored');
    expect(madeCalls(h.fake, FIVE_MINUTE_SITE, before)).toEqual(plannedCalls(dry.out));
    expect(plannedCalls(dry.out)).toHaveLength(4);

    const prices = await diffPrices(h.pool, h.fake, FIVE_MINUTE_SITE, '2025-11-02', '2025-11-14');
    const usage = await diffUsage(h.pool, h.fake, FIVE_MINUTE_SITE, '2025-11-02', '2025-11-14');
    expect([prices.missing.length, prices.stored > 0, usage.missing.length, usage.stored > 0]).toEqual([0, true, 0, true]);
    const request = await h.pool.query('SELECT status, calls_done, executor IS NOT NULL AS ran FROM backfill_requests');
    expect(request.rows).toEqual([{ status: 'done', calls_done: 4, ran: true }]);
    const ledger = await h.pool.query<{ days: number }>(
      `SELECT count(DISTINCT nem_date)::int AS days FROM coverage WHERE site_id = $1 AND stored = expected AND nem_date BETWEEN '2025-11-02' AND '2025-11-14'`,
      [FIVE_MINUTE_SITE],
    );
    expect(ledger.rows[0]!.days).toBe(13);
  });

  it('waits while another process holds the lock, and cancels its request on Ctrl-C with exit 130', async () => {
    const holder = new WriterLock(h.pool, silentLogger());
    expect(await holder.tryAcquire()).toBe(true);
    try {
      const interrupt = new AbortController();
      const running = run(['--site', HALF_HOUR_SITE, '--from', '2025-11-03', '--to', '2025-11-04', '--type', 'usage'], { signal: interrupt.signal });
      const id = await waitForRequest(h, 'pending');
      interrupt.abort();
      const result = await running;
      expect(result.code).toBe(130);
      expect(result.out).toContain(`A collector is running: request #${id} handed to it.`);
      expect(result.err).toContain(`request #${id} cancelled after 0 of 1 calls`);
      expect((await h.pool.query('SELECT status FROM backfill_requests WHERE id = $1', [id])).rows[0].status).toBe('cancelled');
    } finally {
      await holder.release();
    }
  });

  it('takes over and finishes the request itself once the lock holder goes away', async () => {
    const holder = new WriterLock(h.pool, silentLogger());
    expect(await holder.tryAcquire()).toBe(true);
    const before = h.fake.requests.length;
    const running = run(['--site', HALF_HOUR_SITE, '--from', '2025-11-05', '--to', '2025-11-06', '--type', 'price'], { lockRetryMs: 50 });
    const id = await waitForRequest(h, 'pending');
    await holder.release();
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.out).toContain('The collector stopped before finishing: making the remaining calls here.');
    expect(madeCalls(h.fake, HALF_HOUR_SITE, before)).toEqual(['prices 2025-11-05..2025-11-06']);
    expect((await h.pool.query('SELECT status FROM backfill_requests WHERE id = $1', [id])).rows[0].status).toBe('done');
  });
});

describe('backfill while the daemon runs', () => {
  it('hands the request to the daemon, which runs it at once, through its own limiter', async () => {
    const fake = await startFakeAmber({ rateLimit: null });
    const db = await createTestDatabase();
    const stop = new AbortController();
    const log = captureLogger();
    const today = nemToday(new Date());
    const daemonConfig = parseConfig({
      AMBER_API_KEY: fake.apiKey,
      AMBER_API_BASE_URL: fake.url,
      DATABASE_URL: db.url,
      HISTORICAL_START_DATE: addDays(today, -3),
      AMBER_RATE_LIMIT: '1000;w=1',
      HTTP_PORT: '0',
    });
    const daemon = runDaemon(daemonConfig, log.logger, stop.signal);
    try {
      await log.waitFor('backfill finished');
      // Days well before the daemon's start date: nothing but this request asks for them.
      const args = ['--site', HALF_HOUR_SITE, '--from', addDays(today, -20), '--to', addDays(today, -10)];
      const dry = environment(fake, db.url, () => new Date());
      expect(await backfillCommand.run([...args, '--dry-run'], dry.env)).toBe(0);

      const before = fake.requests.length;
      const real = environment(fake, db.url, () => new Date(), {
        readConfig: () => {
          throw new Error('the command must not need the API key while a collector runs');
        },
      });
      const code = await backfillCommand.run(args, real.env);
      expect(real.err.text).toBe('');
      expect(code).toBe(0);
      expect(real.out.text).toContain('A collector is running: request #1 handed to it.');
      expect(real.out.text).toContain('Done: 4 of 4 calls.');
      expect(madeCalls(fake, HALF_HOUR_SITE, before).filter((c) => c.split(' ')[1]! < addDays(today, -3))).toEqual(plannedCalls(dry.out.text));
      const ran = await log.waitFor('backfill request ended');
      expect(ran).toMatchObject({ request: 1, status: 'done' });
      const from = addDays(today, -20);
      const prices = await diffPrices(db.pool, fake, HALF_HOUR_SITE, from, addDays(today, -10));
      expect({ missing: prices.missing.length, wrong: prices.wrong.length }).toEqual({ missing: 0, wrong: 0 });
    } finally {
      stop.abort();
      await daemon;
      await fake.close();
      await db.drop();
    }
  });
});

async function waitForRequest(h: Harness, status: string): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const row = await h.pool.query<{ id: number }>(`SELECT id::int AS id FROM backfill_requests WHERE status = $1 ORDER BY id DESC LIMIT 1`, [status]);
    if (row.rows[0]) return row.rows[0].id;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no ${status} backfill request appeared`);
}
