/**
 * The collector's log as people and platforms read it, from the real `amber-collector run` process: JSON lines
 * Railway understands when stdout is a pipe, one readable line per event at a terminal (a pty from `script`),
 * and expected errors as their message and what to do, without a stack trace unless LOG_LEVEL=debug.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { addDays, nemToday } from '../src/domain/nem-time.ts';
import { databaseForTest } from './helpers/database.ts';
import { fakeAmberForTest } from './helpers/fake-amber.ts';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;
const RAILWAY_LEVELS = ['debug', 'info', 'warn', 'error'];

interface Started {
  output(): string;
  exited: Promise<number | null>;
  stop(): void;
}

/** `amber-collector run` in an empty folder (no .env), stdout a pipe, or a terminal when `terminal` is set. */
async function startCollector(env: Record<string, string>, options: { terminal?: boolean } = {}): Promise<Started> {
  const cwd = await mkdtemp(join(tmpdir(), 'amber-logging-'));
  onTestFinished(() => rm(cwd, { recursive: true, force: true }));
  const command = `${process.execPath} ${cli} run`;
  // `script` gives the collector a pseudo-terminal as stdout, as an interactive shell would.
  const [file, args] = options.terminal ? ['script', ['-qfec', command, '/dev/null']] : [process.execPath, [cli, 'run']];
  const child = spawn(file, args, { cwd, env: { PATH: process.env['PATH'] ?? '', TERM: 'dumb', HTTP_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = () => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  };
  onTestFinished(async () => {
    stop();
    await exited;
  });
  // Colours and the terminal's carriage returns are the terminal's business, not the text's.
  // eslint-disable-next-line no-control-regex
  return { output: () => output.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r/g, ''), exited, stop };
}

async function until(what: string, started: Started, done: (text: string) => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done(started.output())) {
    if (Date.now() > deadline) throw new Error(`${what} did not appear within ${timeoutMs} ms; output:\n${started.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the log', () => {
  it('is JSON lines with `message` and a Railway level when stdout is not a terminal', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const run = await startCollector({
      AMBER_API_KEY: fake.apiKey,
      AMBER_API_BASE_URL: fake.url,
      DATABASE_URL: db.url,
      HISTORICAL_START_DATE: addDays(nemToday(new Date()), -10),
      AMBER_RATE_LIMIT: '1000;w=1',
    });
    await until('backfill finished', run, (text) => text.includes('"message":"backfill finished"'));
    run.stop();
    expect(await run.exited).toBe(0);
    const lines = jsonLines(run.output());
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(RAILWAY_LEVELS).toContain(line['level']);
      expect(typeof line['message']).toBe('string');
      expect(line).not.toHaveProperty('msg');
    }
    expect(lines.find((l) => l['message'] === 'backfill chunk stored')).toMatchObject({ level: 'info', percent: expect.any(Number), eta: expect.any(String) });
  });

  it('is one readable line per event at a terminal: time, level, message, fields, progress first, no braces', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const run = await startCollector(
      {
        AMBER_API_KEY: fake.apiKey,
        AMBER_API_BASE_URL: fake.url,
        DATABASE_URL: db.url,
        HISTORICAL_START_DATE: addDays(nemToday(new Date()), -10),
        AMBER_RATE_LIMIT: '1000;w=1',
      },
      { terminal: true },
    );
    await until('backfill finished', run, (text) => text.includes('backfill finished'));
    run.stop();
    await run.exited;
    // `script` says it ended the session when the stop reaches it too; that line is not the collector's.
    const lines = run.output().split('\n').filter((line) => line.trim() !== '' && !line.startsWith('Session terminated'));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(line).toMatch(/^\[\d\d:\d\d:\d\d\] (DEBUG|INFO|WARN|ERROR|FATAL): \S/);
      expect(line).not.toMatch(/[{}]/);
    }
    const chunk = lines.find((line) => line.includes('backfill chunk stored'));
    expect(chunk).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: backfill chunk stored \d+(\.\d+)?% ETA \d\d:\d\d:\d\d .*dataType=(price|usage) .*inserted=\d+/);
    expect(lines.some((line) => /INFO: HTTP server listening .*port=\d+/.test(line))).toBe(true);
  });

  it('with no .env and nothing set, says so and how to make one, in a line with no stack trace', async () => {
    const run = await startCollector({});
    expect(await run.exited).toBe(1);
    const lines = jsonLines(run.output());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', fatal: true, code: 'CONFIG_INVALID', message: expect.stringContaining('invalid configuration') });
    expect((lines[0]!['problems'] as string[])[0]).toMatch(/^no \.env file in .*: run `cp \.env\.example \.env`, then set AMBER_API_KEY and HISTORICAL_START_DATE in it$/);
    expect(run.output()).not.toContain('stack');

    const atTerminal = await startCollector({}, { terminal: true });
    expect(await atTerminal.exited).toBe(1);
    const text = atTerminal.output().trim();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] FATAL: invalid configuration; fix each setting listed and start again code=CONFIG_INVALID\n/);
    expect(text).toContain('\n    no .env file in ');
    expect(text).toContain('\n    AMBER_API_KEY: is required');
    expect(text).not.toMatch(/^\s+at /m);
    expect(text.split('\n').length).toBeLessThanOrEqual(4);
  });

  it('reports a rejected key as its message and what to do; the stack only at LOG_LEVEL=debug', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const env = { AMBER_API_KEY: 'psk_not_the_right_one', AMBER_API_BASE_URL: fake.url, DATABASE_URL: db.url, HISTORICAL_START_DATE: addDays(nemToday(new Date()), -3) };
    const run = await startCollector(env);
    expect(await run.exited).toBe(1);
    const fatal = jsonLines(run.output()).find((line) => line['fatal'] === true);
    expect(fatal).toMatchObject({ level: 'error', code: 'AMBER_AUTH', message: expect.stringContaining('check AMBER_API_KEY') });
    expect(fatal).not.toHaveProperty('err');
    expect(run.output()).not.toContain('psk_not_the_right_one');

    const verbose = await startCollector({ ...env, LOG_LEVEL: 'debug' });
    expect(await verbose.exited).toBe(1);
    const detailed = jsonLines(verbose.output()).find((line) => line['fatal'] === true);
    expect(detailed).toMatchObject({ code: 'AMBER_AUTH', err: { stack: expect.stringContaining('CollectorError') } });
  });
});
