/**
 * Home Assistant with the daemon and the command line: the daemon checks the token before any work (a wrong one
 * is fatal, exit 1), syncs after its cycles and shows the sync in `status`, /api/status and /metrics; Home
 * Assistant going away never stops collection; `home-assistant check` and `sync` run as the README shows them.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { describe, expect, it, onTestFinished } from 'vitest';
import { judge, renderStatus } from '../../src/commands/status.ts';
import { readIntegrationStatuses } from '../../src/db/integration-status.ts';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { exitCodeFor } from '../../src/errors.ts';
import { buildStatusReport } from '../../src/query/collection-status.ts';
import { runDaemon } from '../../src/daemon.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { daemonConfigFor, startDaemonForTest } from '../helpers/daemon.ts';
import { databaseForTest } from '../helpers/database.ts';
import { fakeAmberForTest } from '../helpers/fake-amber.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';
import { startStandIn } from './stand-in.ts';

const TOKENS = { 'admin-token': { admin: true } };

async function until<T>(read: () => Promise<T | null | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Home Assistant statistics from the daemon', () => {
  it('refuses to start with a wrong token (exit 1), before any call to Amber', async () => {
    const standIn = await startStandIn({ tokens: TOKENS });
    onTestFinished(() => standIn.close());
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const config = daemonConfigFor(fake, db.url, { HOME_ASSISTANT_URL: standIn.url, HOME_ASSISTANT_TOKEN: 'wrong' });
    const failure = await runDaemon(config, captureLogger().logger, AbortSignal.timeout(20_000)).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 'HOME_ASSISTANT_AUTH', message: expect.stringContaining('refused HOME_ASSISTANT_TOKEN') });
    expect(exitCodeFor(failure)).toBe(1);
    expect(fake.requests).toHaveLength(0);
  });

  it('syncs after its cycles, shows it in status, /api/status and /metrics, and collects on while Home Assistant is away', async () => {
    const standIn = await startStandIn({ tokens: TOKENS });
    onTestFinished(() => standIn.close());
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const config = daemonConfigFor(fake, db.url, {
      HISTORICAL_START_DATE: addDays(nemToday(new Date()), -3),
      HOME_ASSISTANT_URL: standIn.url,
      HOME_ASSISTANT_TOKEN: 'admin-token',
    });
    const daemon = await startDaemonForTest(config, { cycleCron: '*/2 * * * * *' });
    const synced = await until(async () => (await readIntegrationStatuses(db.pool)).find((s) => s.integration === 'home_assistant' && s.state['lastSuccessAt'] !== null && standIn.rows.size > 0));
    expect(synced.state).toMatchObject({ lastError: null, hoursPending: 0 });
    const report = await buildStatusReport(db.pool, DEFAULT_STATUS_SETTINGS, new Date());
    expect(renderStatus(report, judge(report, new Date(), { ignoreUnavailable: false }), new Date())).toMatch(/^Home Assistant: statistics in sync at http:\/\/127\.0\.0\.1:\d+, last synced /m);
    const metrics = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
    expect(metrics).toMatch(/amber_collector_home_assistant_last_sync_timestamp_seconds [1-9]/);
    const api = (await (await fetch(`http://127.0.0.1:${daemon.port}/api/status`)).json()) as { integrations: Array<{ integration: string }> };
    expect(api.integrations.map((i) => i.integration)).toContain('home_assistant');

    // Home Assistant goes away: cycles go on storing data.
    await standIn.close();
    const before = fake.requests.length;
    await until(async () => fake.requests.length > before + 3);
    expect(JSON.stringify(daemon.log.lines)).not.toContain('admin-token');
  }, 120_000);
});

describe('the home-assistant command', () => {
  it('check and sync run as the README shows them', async () => {
    const standIn = await startStandIn({ tokens: TOKENS });
    onTestFinished(() => standIn.close());
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const daemon = await startDaemonForTest(daemonConfigFor(fake, db.url, { HISTORICAL_START_DATE: addDays(nemToday(new Date()), -2) }));
    await daemon.log.waitFor('backfill finished', 60_000);
    await daemon.stop();
    const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
    const run = async (...args: string[]) => {
      const child = spawn(process.execPath, [cli, 'home-assistant', ...args], {
        cwd: tmpdir(),
        env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: db.url, HOME_ASSISTANT_URL: standIn.url, HOME_ASSISTANT_TOKEN: 'admin-token' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const [code] = await once(child, 'exit');
      return { code, out };
    };
    const check = await run('check');
    expect(check).toMatchObject({ code: 0, out: expect.stringContaining('the token works') });
    expect(check.out).toMatch(/amber_collector:01hq7zv3k8d4n5xwb2c9r6t1ae_e1_energy {2}kWh/);
    const first = await run('sync');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^[1-9]\d* hours sent over \d+ statistics/);
    expect(await run('sync')).toMatchObject({ code: 0, out: expect.stringMatching(/^0 hours sent/) });
    expect(await run('sync', '--full', '--site', '01HQ7ZV3K8D4N5XWB2C9R6T1AE')).toMatchObject({ code: 0, out: expect.stringMatching(/^[1-9]\d* hours sent/) });
    expect(await run('sync', '--from', 'yesterday')).toMatchObject({ code: 2 });
  }, 120_000);
});
