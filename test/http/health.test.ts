/**
 * `/healthz`, `/readyz` and `/metrics` as an operator meets them: a real daemon (runDaemon) with its own
 * database and fake Amber server, asked over loopback HTTP. The readiness rules themselves are checked on
 * `Readiness` directly, with an injected clock, against real databases.
 */
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { addDays, nemDayStart } from '../../src/domain/nem-time.ts';
import { runDaemon } from '../../src/daemon.ts';
import { readCollectionStates } from '../../src/db/collection-state.ts';
import { createPool } from '../../src/db/pool.ts';
import { readSchemaVersion } from '../../src/db/migrate.ts';
import { Readiness } from '../../src/http/health.ts';
import { silentLogger } from '../../src/logger.ts';
import { quoteIdent, withAdmin } from '../helpers/database-admin.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { daemonConfigFor, startDaemonForTest } from '../helpers/daemon.ts';
import { databaseForTest, type TestDatabase } from '../helpers/database.ts';
import { fakeAmberForTest } from '../helpers/fake-amber.ts';
import { startRefusingPostgres } from '../helpers/refusing-postgres.ts';
import { parsePrometheusText, samplesOf, valueOf } from './prometheus-text.ts';

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; headers: Headers; text: string; json: () => Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/** Polls until `path` answers `status`; the deadline only bounds a broken test, it asserts nothing. */
async function waitForStatus(port: number, path: string, status: number, deadlineMs = 30_000): Promise<Record<string, unknown>> {
  const giveUpAt = Date.now() + deadlineMs;
  let last: { status: number; text: string } | null = null;
  while (Date.now() < giveUpAt) {
    last = await get(port, path);
    if (last.status === status) return JSON.parse(last.text) as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${path} did not answer ${status}; last answer ${last?.status}: ${last?.text}`);
}

describe('the daemon HTTP endpoints', () => {
  it('answers /healthz while the database is still unreachable, and /readyz says why it is not ready', async () => {
    // Port 1 on loopback refuses connections: a database that is not up yet.
    const daemon = await startDaemonForTest(daemonConfigFor(null, 'postgres://postgres@127.0.0.1:1/amber'));
    const health = await get(daemon.port, '/healthz');
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toMatch(/^application\/json/);
    expect(health.json()).toMatchObject({ status: 'ok' });
    expect((await get(daemon.port, '/healthz', 'HEAD')).status).toBe(200);

    const ready = await get(daemon.port, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json()).toMatchObject({
      status: 'not ready',
      reason: expect.stringMatching(/^database unreachable: /),
      checks: { database: { ok: false }, migrations: { ok: false }, writerLock: { ok: false }, collection: { ok: false } },
    });

    await daemon.stop();
    await expect(fetch(`http://127.0.0.1:${daemon.port}/healthz`)).rejects.toThrow();
  });

  it('turns /readyz to 503 when the database goes away and back to 200 when it returns', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const daemon = await startDaemonForTest(daemonConfigFor(fake, db.url), { cycleCron: '0 0 1 1 *' });
    // Cut the database while nothing is mid-transaction: this test is about /readyz, not about how a
    // transaction in flight survives a restart.
    await daemon.log.waitFor('backfill finished');
    await daemon.log.waitFor('cycle finished');
    const ready = await waitForStatus(daemon.port, '/readyz', 200);
    expect(ready).toMatchObject({ status: 'ready', reason: null, checks: { migrations: { ok: true, version: expect.any(Number) } } });

    // The database "goes away": every connection to it is cut and new ones are refused, as while Postgres
    // restarts. (Dropping it instead would test a different thing: a database whose tables are gone.)
    const adminUrl = inject('databaseUrl');
    await withAdmin(adminUrl, async (admin) => {
      await admin.query(`ALTER DATABASE ${quoteIdent(db.name)} WITH ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
    });
    const down = await waitForStatus(daemon.port, '/readyz', 503);
    expect(down['reason']).toMatch(/^database unreachable: /);
    expect((await get(daemon.port, '/healthz')).status).toBe(200);

    await withAdmin(adminUrl, (admin) => admin.query(`ALTER DATABASE ${quoteIdent(db.name)} WITH ALLOW_CONNECTIONS true`));
    const back = await waitForStatus(daemon.port, '/readyz', 200);
    expect(back).toMatchObject({ checks: { database: { ok: true }, writerLock: { ok: true }, collection: { ok: true } } });
    await daemon.log.waitFor('holding the single-writer lock; this collector writes');
  });

  it('serves Prometheus metrics whose values match what the backfill did', async () => {
    const testStart = Date.now() / 1000;
    const fake = await fakeAmberForTest({ rateLimit: { limit: 10_000, windowSeconds: 300 } });
    fake.inject({ kind: 'retryAfter429', seconds: 0, endpoint: 'prices' });
    const db = await databaseForTest();
    // No scheduled cycle during the test: only the one every session starts with, so the numbers hold still.
    const daemon = await startDaemonForTest(daemonConfigFor(fake, db.url), { cycleCron: '0 0 1 1 *' });
    await daemon.log.waitFor('backfill finished');
    await daemon.log.waitFor('cycle finished');

    const response = await get(daemon.port, '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheusText(response.text);

    // Every attempt the fake server saw, by endpoint and status, and nothing else.
    const seen = new Map<string, number>();
    for (const r of fake.requests) seen.set(`${r.endpoint} ${r.status}`, (seen.get(`${r.endpoint} ${r.status}`) ?? 0) + 1);
    const counted = new Map(samplesOf(samples, 'amber_collector_api_calls_total').map((s) => [`${s.labels['endpoint']} ${s.labels['status']}`, s.value]));
    expect(counted).toEqual(seen);
    expect(seen.get('prices 429')).toBe(1);
    expect(valueOf(samples, 'amber_collector_api_rate_limited_total', { endpoint: 'prices' })).toBe(1);

    // The budget the server declared. A cycle's calls can overlap a backfill call, so the last response read
    // may be a few calls older than the last one sent.
    const admitted = fake.requests.filter((r) => r.status !== 429).length;
    expect(valueOf(samples, 'amber_collector_rate_limit_limit')).toBe(10_000);
    expect(valueOf(samples, 'amber_collector_rate_limit_window_seconds')).toBe(300);
    const remaining = valueOf(samples, 'amber_collector_rate_limit_remaining')!;
    expect(remaining).toBeGreaterThanOrEqual(10_000 - admitted);
    expect(remaining).toBeLessThanOrEqual(10_000 - admitted + 10);

    // Rows by table: every stored row was inserted once; every revision was counted as an update.
    for (const table of ['price_data', 'usage_data']) {
      const { rows } = await db.pool.query<{ n: number; revisions: number }>(
        `SELECT count(*)::int AS n, coalesce(sum(revision_count), 0)::int AS revisions FROM ${table}`,
      );
      expect(rows[0]!.n).toBeGreaterThan(0);
      expect(valueOf(samples, 'amber_collector_rows_inserted_total', { table })).toBe(rows[0]!.n);
      expect(valueOf(samples, 'amber_collector_rows_updated_total', { table }) ?? 0).toBe(rows[0]!.revisions);
    }

    // Per stream: the backfill ran to the end, and the last success and watermark are those stored.
    const states = await readCollectionStates(db.pool);
    expect(states.length).toBeGreaterThanOrEqual(2);
    for (const state of states) {
      const stream = { site: state.siteId, data_type: state.dataType };
      expect(valueOf(samples, 'amber_collector_backfill_progress_ratio', stream)).toBe(1);
      expect(valueOf(samples, 'amber_collector_backfill_chunks_done', stream)).toBe(valueOf(samples, 'amber_collector_backfill_chunks_planned', stream));
      const lastSuccess = valueOf(samples, 'amber_collector_last_success_timestamp_seconds', stream)!;
      expect(lastSuccess).toBeGreaterThanOrEqual(testStart);
      expect(lastSuccess).toBeLessThanOrEqual(Date.now() / 1000);
      const endOfWatermarkDay = nemDayStart(addDays(state.collectedThrough!, 1)).getTime() / 1000;
      expect(valueOf(samples, 'amber_collector_collected_through_timestamp_seconds', stream)).toBe(endOfWatermarkDay);
    }

    // Every forecast row stored was counted; nothing is old enough to prune or compact.
    const forecasts = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM price_forecasts');
    expect(forecasts.rows[0]!.n).toBeGreaterThan(0);
    expect(valueOf(samples, 'amber_collector_forecast_rows_total', { change: 'stored' })).toBe(forecasts.rows[0]!.n);
    expect(valueOf(samples, 'amber_collector_forecast_rows_total', { change: 'compacted' })).toBe(0);

    expect(valueOf(samples, 'amber_collector_cycle_duration_seconds_count')).toBe(1);
    expect(valueOf(samples, 'amber_collector_cycles_total', { outcome: 'ok' })).toBe(1);
    expect(valueOf(samples, 'amber_collector_writer_lock_held')).toBe(1);
    expect(samples.some((s) => s.name === 'amber_collector_process_cpu_user_seconds_total')).toBe(true);
    expect(samples.every((s) => s.name.startsWith('amber_collector_'))).toBe(true);
  });

  it('stops with CONFIG_INVALID naming HTTP_PORT when the port is taken', async () => {
    const first = await startDaemonForTest(daemonConfigFor(null, 'postgres://postgres@127.0.0.1:1/amber'));
    const config = daemonConfigFor(null, 'postgres://postgres@127.0.0.1:1/amber');
    const second = runDaemon({ ...config, http: { ...config.http, port: first.port } }, silentLogger(), new AbortController().signal);
    await expect(second).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('HTTP_PORT') });
  });
});

describe('Readiness', () => {
  const INTERVAL_MS = 5 * 60_000;

  async function readinessFor(db: TestDatabase, clock: { now: Date }): Promise<Readiness> {
    const readiness = new Readiness({ pool: db.pool, maxQuietMs: 2 * INTERVAL_MS, now: () => clock.now });
    readiness.markMigrated(await readSchemaVersion(db.pool));
    readiness.setCollecting(true);
    return readiness;
  }

  const cycle = { calls: 2, inserted: 0, updated: 0, unchanged: 10, durationMs: 100 };

  it('needs recent progress: a stored chunk or a cycle in which every stream succeeded', async () => {
    const db = await databaseForTest();
    const clock = { now: new Date('2026-03-01T00:00:00Z') };
    const readiness = await readinessFor(db, clock);
    expect(await readiness.check()).toMatchObject({ ready: false, reason: 'nothing collected yet since the collector started' });

    readiness.collectorEvents.chunkStored?.(
      { siteId: 'S', dataType: 'price', startDate: '2026-02-28', endDate: '2026-02-28', inserted: 1, updated: 0, unchanged: 0, rejected: 0, collectedThrough: null },
      'fresh',
    );
    expect(await readiness.check()).toMatchObject({ ready: true, reason: null, checks: { collection: { ok: true, secondsSinceProgress: 0 } } });

    clock.now = new Date(clock.now.getTime() + 2 * INTERVAL_MS);
    expect((await readiness.check()).ready).toBe(true);
    clock.now = new Date(clock.now.getTime() + 1000);
    expect(await readiness.check()).toMatchObject({ ready: false, reason: expect.stringMatching(/^nothing collected for 601 s \(limit 600 s/) });

    readiness.collectorEvents.cycleFinished?.({ ...cycle, failedStreams: 1 });
    expect((await readiness.check()).ready).toBe(false);
    readiness.collectorEvents.cycleFinished?.({ ...cycle, failedStreams: 0 });
    expect((await readiness.check()).ready).toBe(true);
  });

  it('is not ready without the writer lock, while stopping, or with a schema older than this process migrated to', async () => {
    const db = await databaseForTest();
    const clock = { now: new Date('2026-03-01T00:00:00Z') };
    const readiness = await readinessFor(db, clock);
    readiness.collectorEvents.cycleFinished?.({ ...cycle, failedStreams: 0 });
    expect((await readiness.check()).ready).toBe(true);

    readiness.setCollecting(false);
    expect(await readiness.check()).toMatchObject({ ready: false, reason: expect.stringMatching(/^not holding the single-writer lock/) });
    readiness.setCollecting(true);

    const version = await readSchemaVersion(db.pool);
    readiness.markMigrated(version + 1);
    expect(await readiness.check()).toMatchObject({ ready: false, reason: `the database schema is at version ${version}, expected ${version + 1}` });
    readiness.markMigrated(version);

    readiness.markStopping();
    expect(await readiness.check()).toMatchObject({ ready: false, reason: 'shutting down' });
  });

  it('tells an unmigrated database from an unreachable one', async () => {
    const empty = await databaseForTest({ migrated: false });
    const clock = { now: new Date() };
    const readiness = new Readiness({ pool: empty.pool, maxQuietMs: 2 * INTERVAL_MS, now: () => clock.now });
    expect(await readiness.check()).toMatchObject({
      ready: false,
      reason: 'the database has no schema_migrations table: migrations have not run',
      checks: { database: { ok: true } },
    });

    const nowhere = createPool({ url: 'postgres://postgres@127.0.0.1:1/amber', ssl: false }, silentLogger());
    onTestFinished(() => nowhere.end());
    const unreachable = new Readiness({ pool: nowhere, maxQuietMs: 2 * INTERVAL_MS });
    expect(await unreachable.check()).toMatchObject({ ready: false, reason: 'database unreachable: connection refused (ECONNREFUSED)' });
  });

  it('gives the kind of database failure, not the driver message naming hosts and users, which goes to the log once', async () => {
    const refusing = await startRefusingPostgres('28P01', 'password authentication failed for user "collector"');
    onTestFinished(() => refusing.close());
    const pool = createPool({ url: refusing.url, ssl: false }, silentLogger());
    onTestFinished(() => pool.end());
    const log = captureLogger();
    const readiness = new Readiness({ pool, maxQuietMs: 2 * INTERVAL_MS, logger: log.logger });
    const report = await readiness.check();
    await readiness.check();
    expect(report).toMatchObject({ ready: false, reason: 'database unreachable: the database refused the credentials (28P01)' });
    expect(JSON.stringify(report)).not.toMatch(/user|127\.0\.0\.1|password authentication/);
    const logged = log.lines.filter((l) => l['message'] === 'readiness check: database unreachable: the database refused the credentials (28P01)');
    expect(logged).toHaveLength(1);
    expect((logged[0]!['err'] as { message: string }).message).toBe('password authentication failed for user "collector"');
  });
});
