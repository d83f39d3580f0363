/**
 * Reads cannot starve collection. The read API has its own small pool behind an admission gate, so
 * whatever readers do, /readyz and the collector keep their connections, and too many readers get 503
 * with Retry-After instead of waiting without bound (and ending as 500s).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { ReadGate } from '../../src/http/read-gate.ts';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { measureReadLoad } from '../bench/read-load.ts';
import { daemonConfigFor, startDaemonForTest } from '../helpers/daemon.ts';
import { databaseForTest } from '../helpers/database.ts';
import { fakeAmberForTest } from '../helpers/fake-amber.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';

async function status(url: string): Promise<{ status: number; retryAfter: string | null }> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after') };
}

describe('read load', () => {
  it('while every read is stuck in the database, /readyz stays 200 and extra readers get 503 with Retry-After', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const daemon = await startDaemonForTest(daemonConfigFor(fake, db.url), { cycleCron: '0 0 1 1 *' });
    await daemon.log.waitFor('backfill finished');
    await daemon.log.waitFor('cycle finished');
    const base = `http://127.0.0.1:${daemon.port}`;
    expect((await status(`${base}/readyz`)).status).toBe(200);

    // Every read of price_data now waits for this lock: the read pool fills up with stuck queries.
    const locker = await db.pool.connect();
    onTestFinished(() => locker.release());
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE price_data IN ACCESS EXCLUSIVE MODE');
    const reads = Array.from({ length: 12 }, () => status(`${base}/api/prices?window=1d`));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const probes = [];
    for (let i = 0; i < 5; i++) {
      probes.push(await status(`${base}/readyz`));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await locker.query('COMMIT');
    const answered = await Promise.all(reads);

    expect(probes.map((p) => p.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answered.map((a) => a.status))).toEqual(new Set([200, 503]));
    for (const refused of answered.filter((a) => a.status === 503)) expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    // The stuck ones finished once the lock went: the pool's size, no more.
    expect(answered.filter((a) => a.status === 200).length).toBe(3);
  });

  it('48 clients for 30 s in `npm run bench`; here a few for seconds: /readyz 200, cycles on time, only 200/429/503, data intact', async () => {
    const db = await databaseForTest();
    const result = await measureReadLoad(db, { clients: 8, durationMs: 6_000, historyDays: 60, cycleSeconds: 2, baselineMs: 2_000 });
    const { reads, readyz, unavailableWithoutRetryAfter } = result.load.tally;
    const probes = Object.values(readyz).reduce((a, b) => a + b, 0);
    expect((readyz['200'] ?? 0) / probes).toBeGreaterThanOrEqual(0.95);
    expect(Object.keys(reads).filter((code) => !['200', '429', '503'].includes(code))).toEqual([]);
    expect(reads['200']).toBeGreaterThan(0);
    expect(unavailableWithoutRetryAfter).toBe(0);
    expect(result.load.schedule).toMatchObject({ onTime: result.load.schedule.due, skippedOrMissed: 0, failed: 0 });
    expect(result.load.schedule.due).toBeGreaterThanOrEqual(2);
    expect(result.storedRows).toBeGreaterThan(0);
    expect(result.discrepancies).toBe(0);
  });
});

describe('ReadGate', () => {
  it('runs at most `concurrency` at once, queues a bounded number for a bounded time, refuses the rest', async () => {
    const gate = new ReadGate({ concurrency: 2, queueLength: 1, maxWaitMs: 100 });
    const releases: Array<() => void> = [];
    const hold = () => new Promise<void>((resolve) => releases.push(resolve));
    const first = gate.run(hold);
    const second = gate.run(hold);
    const queued = gate.run(async () => 'queued ran');
    await expect(gate.run(async () => 'never')).rejects.toMatchObject({ code: 'READ_OVERLOADED', details: { retryAfterSeconds: expect.any(Number) } });
    releases[0]!();
    await expect(queued).resolves.toBe('queued ran');

    // The queue is free again, but both slots are taken until the wait runs out.
    releases.push(() => {});
    const third = gate.run(hold);
    const late = gate.run(async () => 'late');
    await expect(late).rejects.toMatchObject({ code: 'READ_OVERLOADED', details: { retryAfterSeconds: 1 } });
    for (const release of releases) release();
    await Promise.all([first, second, third]);
    await expect(gate.run(async () => 'free')).resolves.toBe('free');
  });

  it('the read API answers a statement timeout (57014) with 503 and Retry-After, not 500', async () => {
    const db = await databaseForTest();
    const slow = createPool({ url: db.url, ssl: false }, silentLogger(), { max: 1, statementTimeoutMs: 50 });
    onTestFinished(() => slow.end());
    const locker = await db.pool.connect();
    onTestFinished(() => locker.release());
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE sites IN ACCESS EXCLUSIVE MODE');
    const server = await startHttpServer({ port: 0, host: '127.0.0.1', routes: readRoutes({ pool: slow, status: DEFAULT_STATUS_SETTINGS }), apiToken: null, logger: silentLogger() });
    onTestFinished(() => server.close());
    const answer = await status(`http://127.0.0.1:${server.port}/api/sites`);
    await locker.query('ROLLBACK');
    expect(answer.status).toBe(503);
    expect(Number(answer.retryAfter)).toBeGreaterThan(0);
  });
});
