/**
 * The collector without DATABASE_URL, as a user runs it: real `amber-collector` processes against the fake
 * Amber server, with the embedded PostgreSQL in a DATA_DIR of their own. Start-up, the second daemon, the
 * commands, SIGTERM and SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { addDays, nemToday } from '../src/domain/nem-time.ts';
import { readCollectionStates } from '../src/db/collection-state.ts';
import { collectJsonLines, collectOutput } from './helpers/child-output.ts';
import { fakeAmberForTest } from './helpers/fake-amber.ts';
import { isRunning, serverPid } from './helpers/embedded-server.ts';
import { diffPrices, diffUsage } from './helpers/ground-truth.ts';
import type { FakeAmber } from './fake-amber/server.ts';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;

async function dataDirForTest(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'amber-data-'));
  // A root collector's server runs as an unprivileged user, who must pass through the folder.
  await chmod(dir, 0o711);
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'data');
}

function envFor(fake: FakeAmber, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    AMBER_API_KEY: fake.apiKey,
    AMBER_API_BASE_URL: fake.url,
    DATA_DIR: dataDir,
    HISTORICAL_START_DATE: addDays(nemToday(new Date()), -10),
    AMBER_RATE_LIMIT: '1000;w=1',
    HTTP_PORT: '0',
    ...extra,
  };
}

interface Daemon {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  waitFor(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exit: Promise<number>;
}

function startDaemon(env: Record<string, string>): Daemon {
  // A neutral working directory, so a developer's own .env cannot fill in what a test leaves out.
  const child = spawn(process.execPath, [cli, 'run'], { cwd: tmpdir(), env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = collectJsonLines(child.stdout!);
  const exit = once(child, 'exit').then(([code]) => code as number);
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exit;
    }
  });
  return {
    child,
    lines,
    exit,
    async waitFor(msg, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = lines.find((l) => l['message'] === msg);
        if (line) return line;
        if (child.exitCode !== null) throw new Error(`the collector exited (${child.exitCode}) before logging "${msg}": ${JSON.stringify(lines.at(-1))}`);
        if (Date.now() > deadline) throw new Error(`no "${msg}" within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

async function runCommand(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  return collectOutput(spawn(process.execPath, [cli, ...args], { cwd: tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Every stream complete and exactly what the fake Amber holds, read from the embedded database itself. */
async function expectMatchesGroundTruth(dataDir: string, fake: FakeAmber): Promise<void> {
  const pool = new pg.Pool({ connectionString: (await readFile(join(dataDir, 'database-url'), 'utf8')).trim(), max: 2 });
  try {
    const states = await readCollectionStates(pool);
    expect(states.length).toBeGreaterThan(0);
    for (const state of states) {
      expect(state.collectedThrough).not.toBeNull();
      const diff =
        state.dataType === 'price'
          ? await diffPrices(pool, fake, state.siteId, state.backfillFrom, state.collectedThrough!)
          : await diffUsage(pool, fake, state.siteId, state.backfillFrom, state.collectedThrough!);
      expect({ missing: diff.missing.length, wrong: diff.wrong.length, extra: diff.extra.length }).toEqual({ missing: 0, wrong: 0, extra: 0 });
    }
  } finally {
    await pool.end();
  }
}

describe('the collector without DATABASE_URL', () => {
  it('collects into the embedded PostgreSQL, shares it with the commands, refuses a second daemon, and stops it last', async () => {
    const fake = await fakeAmberForTest();
    const dataDir = await dataDirForTest();
    const env = envFor(fake, dataDir);
    const daemon = startDaemon(env);

    const ready = await daemon.waitFor('embedded PostgreSQL ready');
    const password = (await readFile(join(dataDir, 'postgres-password'), 'utf8')).trim();
    expect(ready).toMatchObject({ dataDir, port: expect.any(Number), databaseUrl: `postgres://postgres:REDACTED@127.0.0.1:${ready['port']}/amber` });
    expect(JSON.stringify(daemon.lines)).not.toContain(password);
    await daemon.waitFor('backfill finished');
    await expectMatchesGroundTruth(dataDir, fake);
    const pid = serverPid(dataDir);

    // A second daemon on the same DATA_DIR says why it will not start.
    const second = startDaemon(env);
    expect(await second.exit).toBe(1);
    expect(second.lines.find((l) => l['fatal'] === true)).toMatchObject({
      code: 'DATA_DIR_IN_USE',
      message: expect.stringMatching(new RegExp(`another amber-collector \\(pid ${daemon.child.pid}\\) is already running with DATA_DIR ${dataDir}`)),
    });

    // status uses the running server and leaves it running.
    const status = await runCommand(['status', '--json'], env);
    expect(JSON.parse(status.out).streams.length).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(true);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
    const order = daemon.lines.map((l) => l['message']).filter((m) => ['shutting down: finishing the open transaction, then exiting', 'embedded PostgreSQL stopped', 'stopped cleanly'].includes(m as string));
    expect(order).toEqual(['shutting down: finishing the open transaction, then exiting', 'embedded PostgreSQL stopped', 'stopped cleanly']);
    expect(isRunning(pid)).toBe(false);

    // query, with no server running, starts one for itself, and stops it again.
    const summary = await runCommand(['query', 'summary', '--json'], { PATH: env.PATH!, DATA_DIR: dataDir });
    expect(summary).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(summary.out).sites.length).toBeGreaterThan(0);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 90_000);

  it('after a SIGKILL, the next start uses the orphaned server and loses nothing', async () => {
    // A slow budget keeps the backfill going long enough to kill it in the middle.
    const fake = await fakeAmberForTest({ rateLimit: { limit: 4, windowSeconds: 1 } });
    const dataDir = await dataDirForTest();
    const env = envFor(fake, dataDir, { HISTORICAL_START_DATE: addDays(nemToday(new Date()), -21), AMBER_RATE_LIMIT: '4;w=1' });
    const first = startDaemon(env);
    await first.waitFor('backfill chunk stored');
    const pid = serverPid(dataDir);
    first.child.kill('SIGKILL');
    await first.exit;
    expect(isRunning(pid)).toBe(true);

    const second = startDaemon({ ...env, AMBER_RATE_LIMIT: '1000;w=1' });
    await second.waitFor('embedded PostgreSQL was still running (the last collector did not stop it); using it');
    await second.waitFor('backfill finished', 60_000);
    await expectMatchesGroundTruth(dataDir, fake);
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    expect(isRunning(pid)).toBe(false);
  }, 90_000);

  it('restarts its embedded PostgreSQL after a SIGKILL, fails /healthz meanwhile, and collects on without gap or duplicate', async () => {
    // A slow budget: the kill lands in the middle of the backfill. 15 days are three chunks a stream, so the kill
    // after the first leaves most of them for the restarted server, as 35 days did; the rest of 35 days' chunks
    // only paced the test at two calls a second.
    const fake = await fakeAmberForTest({ rateLimit: { limit: 2, windowSeconds: 1 } });
    const dataDir = await dataDirForTest();
    const daemon = startDaemon(envFor(fake, dataDir, { HISTORICAL_START_DATE: addDays(nemToday(new Date()), -15), AMBER_RATE_LIMIT: '2;w=1' }));
    const port = (await daemon.waitFor('HTTP server listening'))['port'] as number;
    const healthz = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    await daemon.waitFor('backfill chunk stored');
    expect((await healthz()).status).toBe(200);
    const pid = serverPid(dataDir);
    process.kill(pid, 'SIGKILL');

    await daemon.waitFor('embedded PostgreSQL exited unexpectedly', 10_000);
    // The first restart waits a second: the server is gone, and /healthz says so.
    expect(await healthz()).toMatchObject({ status: 503, body: { status: 'failing', reason: expect.stringContaining('embedded PostgreSQL is not running') } });
    expect(daemon.lines.find((l) => String(l['message']).startsWith('restarting the embedded PostgreSQL in'))).toMatchObject({ level: 'warn', attempt: 1 });
    await daemon.waitFor('embedded PostgreSQL restarted; the collector reconnects by itself', 60_000);
    const restarted = serverPid(dataDir);
    expect(restarted).not.toBe(pid);
    expect(isRunning(restarted)).toBe(true);
    expect((await healthz()).status).toBe(200);

    const finished = await daemon.waitFor('backfill finished', 120_000);
    expect(daemon.lines.indexOf(finished)).toBeGreaterThan(daemon.lines.findIndex((l) => l['message'] === 'embedded PostgreSQL restarted; the collector reconnects by itself'));
    await expectMatchesGroundTruth(dataDir, fake);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
    expect(isRunning(restarted)).toBe(false);
  }, 180_000);
});
