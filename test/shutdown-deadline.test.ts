/**
 * A stop that hangs: the daemon is asked to stop while its chunk transaction waits on a table lock nobody
 * releases. After its shutdown deadline (shortened here through the `run` command's environment) it must exit
 * anyway, with 75 ("try again": a restart finishes what the stop did not), not 0 or 1. The real `run` command
 * in a process of its own, with real signals and a real database.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { describe, expect, it, onTestFinished } from 'vitest';
import { addDays, nemToday } from '../src/domain/nem-time.ts';
import { collectJsonLines } from './helpers/child-output.ts';
import { databaseForTest } from './helpers/database.ts';
import { fakeAmberForTest } from './helpers/fake-amber.ts';

const SHUTDOWN_DEADLINE_MS = 400;
const runModule = new URL('../src/commands/run.ts', import.meta.url).href;
const outputModule = new URL('../src/commands/output/output.ts', import.meta.url).href;

/** `amber-collector run`, its stop deadline shortened, configured through the environment like a deployment. */
function startRun(env: Record<string, string>) {
  const script = `const { runCommand } = await import(${JSON.stringify(runModule)});
    const { streamOutput } = await import(${JSON.stringify(outputModule)});
    process.exitCode = await runCommand.run([], { out: streamOutput(process.stdout), err: streamOutput(process.stderr), shutdownDeadlineMs: ${SHUTDOWN_DEADLINE_MS} });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, lines: collectJsonLines(child.stdout) };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('a stop that hangs', () => {
  it('exits 75 once the shutdown deadline passes', async () => {
    // A slow budget keeps the backfill going, so there is always a next chunk to block.
    const fake = await fakeAmberForTest({ rateLimit: { limit: 4, windowSeconds: 1 } });
    const db = await databaseForTest();
    const { child, lines } = startRun({
      AMBER_API_KEY: fake.apiKey,
      AMBER_API_BASE_URL: fake.url,
      DATABASE_URL: db.url,
      HISTORICAL_START_DATE: addDays(nemToday(new Date()), -120),
      AMBER_RATE_LIMIT: '4;w=1',
      LOG_LEVEL: 'info',
      HTTP_PORT: '0',
    });
    const exited = once(child, 'exit');
    await until('the backfill stores a chunk', () => lines.some((l) => l['message'] === 'backfill chunk stored'));

    // The next chunk's writes wait on this lock for as long as the test holds it.
    const holder = await db.pool.connect();
    onTestFinished(async () => {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    });
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE price_data, usage_data IN ACCESS EXCLUSIVE MODE');
    await until('a chunk waits on the lock', async () => {
      const { rows } = await holder.query<{ waiting: number }>('SELECT count(*)::int AS waiting FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()');
      return rows[0]!.waiting > 0;
    });

    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(75);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(SHUTDOWN_DEADLINE_MS - 50);
    expect(Date.now() - signalledAt).toBeLessThan(5_000);
    expect(lines.some((l) => l['message'] === 'shutdown took too long; exiting anyway')).toBe(true);
    expect(lines.some((l) => l['message'] === 'stopped cleanly')).toBe(false);
  });
});
