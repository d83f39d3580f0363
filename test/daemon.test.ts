/**
 * The daemon as users run it: runDaemon with a parsed config, and the real `amber-collector` process for
 * signals and exit codes. Each test talks to its own fake Amber server and its own database.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { describe, expect, it, onTestFinished } from 'vitest';
import { nemToday, addDays } from '../src/domain/nem-time.ts';
import { parseConfig } from '../src/config/config.ts';
import { runDaemon } from '../src/daemon.ts';
import { readCollectionStates } from '../src/db/collection-state.ts';
import { captureLogger } from './helpers/capture-logger.ts';
import { collectJsonLines } from './helpers/child-output.ts';
import { databaseForTest } from './helpers/database.ts';
import { fakeAmberForTest } from './helpers/fake-amber.ts';
import { diffPrices, diffUsage } from './helpers/ground-truth.ts';
import { startWebhookReceiver } from './helpers/webhook-receiver.ts';
import type { FakeAmber } from './fake-amber/server.ts';

function envFor(fake: FakeAmber, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AMBER_API_KEY: fake.apiKey,
    AMBER_API_BASE_URL: fake.url,
    DATABASE_URL: databaseUrl,
    HISTORICAL_START_DATE: addDays(nemToday(new Date()), -20),
    AMBER_RATE_LIMIT: '1000;w=1',
    LOG_LEVEL: 'info',
    HTTP_PORT: '0',
    ...extra,
  };
}

function dataRequests(fake: FakeAmber): number {
  return fake.requests.filter((r) => r.endpoint === 'prices' || r.endpoint === 'usage').length;
}

describe('runDaemon', () => {
  it('backfills, then keeps running cycles until stopped, and stops cleanly', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const config = parseConfig(envFor(fake, db.url));
    const log = captureLogger();
    const stop = new AbortController();
    const running = runDaemon(config, log.logger, stop.signal, { cycleCron: '* * * * * *' });
    await log.waitFor('backfill finished');
    await log.waitFor('cycle finished');
    stop.abort();
    await running;
    const states = await readCollectionStates(db.pool);
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((s) => s.lastError === null)).toBe(true);
  });

  it('lets only one of two collectors on the same database collect, and hands over when it stops', async () => {
    const db = await databaseForTest();
    const [fakeA, fakeB] = [await fakeAmberForTest(), await fakeAmberForTest()];
    const logA = captureLogger();
    const logB = captureLogger();
    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = runDaemon(parseConfig(envFor(fakeA, db.url)), logA.logger, stopA.signal, { lockRetryMs: 100 });
    await logA.waitFor('holding the single-writer lock; this collector writes');
    const b = runDaemon(parseConfig(envFor(fakeB, db.url)), logB.logger, stopB.signal, { lockRetryMs: 100 });
    await logB.waitFor('another collector is active on this database; waiting for it to stop');
    await logA.waitFor('backfill finished');
    expect(fakeB.requests).toHaveLength(0);
    expect(dataRequests(fakeA)).toBeGreaterThan(0);

    stopA.abort();
    await a;
    await logB.waitFor('holding the single-writer lock; this collector writes');
    await logB.waitFor('cycle finished');
    expect(dataRequests(fakeB)).toBeGreaterThan(0);
    stopB.abort();
    await b;
  });

  it('re-collects everything with FORCE_REINIT and changes no stored row', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const first = captureLogger();
    const stop1 = new AbortController();
    const run1 = runDaemon(parseConfig(envFor(fake, db.url)), first.logger, stop1.signal);
    await first.waitFor('backfill finished');
    stop1.abort();
    await run1;
    const before = await db.pool.query('SELECT count(*)::int AS n, max(updated_at) AS t FROM price_data');

    fake.resetRequestLog();
    const second = captureLogger();
    const stop2 = new AbortController();
    const run2 = runDaemon(parseConfig(envFor(fake, db.url, { FORCE_REINIT: 'true' })), second.logger, stop2.signal);
    await second.waitFor('backfill finished');
    stop2.abort();
    await run2;
    expect(fake.requests.filter((r) => r.endpoint === 'prices').length).toBeGreaterThanOrEqual(3);
    const after = await db.pool.query('SELECT count(*)::int AS n, max(updated_at) AS t FROM price_data');
    expect(after.rows[0]).toEqual(before.rows[0]);
  });

  it('stops with AMBER_AUTH when the API key is rejected, without retrying, and says so to the alert webhook first', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const receiver = await startWebhookReceiver();
    const config = parseConfig({ ...envFor(fake, db.url), AMBER_API_KEY: 'psk_wrong', ALERT_WEBHOOK_URL: receiver.url });
    const log = captureLogger();
    await expect(runDaemon(config, log.logger, AbortSignal.timeout(20_000))).rejects.toMatchObject({ code: 'AMBER_AUTH' });
    expect(fake.requests).toHaveLength(1);
    expect(receiver.received.map((r) => r.json())).toEqual([
      expect.objectContaining({ kind: 'api_key_rejected', phase: 'opened', severity: 'critical', site: null }),
    ]);
  });
});

describe('the amber-collector process', () => {
  const cli = new URL('../src/cli.ts', import.meta.url).pathname;

  function start(env: Record<string, string>) {
    // A neutral working directory, so a developer's own .env cannot fill in what a test leaves out.
    const child = spawn(process.execPath, [cli], {
      cwd: tmpdir(),
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = collectJsonLines(child.stdout);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    return { child, lines };
  }

  it('exits non-zero naming every bad variable, before touching the network', async () => {
    const fake = await fakeAmberForTest();
    const { child, lines } = start({
      AMBER_API_BASE_URL: fake.url,
      DATABASE_URL: 'mysql://nope',
      HISTORICAL_START_DATE: '2024-13-01',
      COLLECTION_INTERVAL_MINUTES: '0',
      LOG_LEVEL: 'chatty',
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    const problems = (lines.find((l) => l['fatal'] === true)?.['problems'] ?? []) as string[];
    for (const name of ['AMBER_API_KEY', 'DATABASE_URL', 'HISTORICAL_START_DATE', 'COLLECTION_INTERVAL_MINUTES', 'LOG_LEVEL']) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('`run --help` prints its usage, and a mistyped option exits 2 without collecting', async () => {
    const fake = await fakeAmberForTest();
    const env = { PATH: process.env['PATH'] ?? '', AMBER_API_BASE_URL: fake.url, AMBER_API_KEY: fake.apiKey, HISTORICAL_START_DATE: '2024-01-01' };
    const help = spawnSync(process.execPath, [cli, 'run', '--help'], { cwd: tmpdir(), env, encoding: 'utf8' });
    expect({ status: help.status, stderr: help.stderr }).toEqual({ status: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: amber-collector run\n/);
    const typo = spawnSync(process.execPath, [cli, 'run', '--once'], { cwd: tmpdir(), env, encoding: 'utf8' });
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/^amber-collector run: Unknown option '--once'/);
    expect(fake.requests).toHaveLength(0);
  });

  it('on SIGTERM mid-backfill exits 0 within 10 s and leaves nothing partial', async () => {
    // A slow budget (4 calls per second) keeps the backfill going long enough to interrupt it.
    const fake = await fakeAmberForTest({ rateLimit: { limit: 4, windowSeconds: 1 } });
    const db = await databaseForTest();
    const { child, lines } = start(envFor(fake, db.url, { HISTORICAL_START_DATE: addDays(nemToday(new Date()), -120), AMBER_RATE_LIMIT: '4;w=1' }));
    const deadline = Date.now() + 20_000;
    while (lines.filter((l) => l['message'] === 'backfill chunk stored').length < 3) {
      if (Date.now() > deadline) throw new Error('the backfill did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(lines.some((l) => l['message'] === 'stopped cleanly')).toBe(true);

    // Everything up to each stream's watermark is complete and correct.
    for (const state of await readCollectionStates(db.pool)) {
      if (!state.collectedThrough) continue;
      const diff =
        state.dataType === 'price'
          ? await diffPrices(db.pool, fake, state.siteId, state.backfillFrom, state.collectedThrough)
          : await diffUsage(db.pool, fake, state.siteId, state.backfillFrom, state.collectedThrough);
      expect({ missing: diff.missing.length, wrong: diff.wrong.length, extra: diff.extra.length }).toEqual({ missing: 0, wrong: 0, extra: 0 });
    }
  });
});
