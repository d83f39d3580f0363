/**
 * The README's Quick start, followed the way a newcomer does: its commands as written, in a copy of the
 * project, against the fake Amber server instead of a real account. Two exceptions, both for a suite that
 * stays offline and quick: the copy has the dependencies already installed, so the launcher installs nothing
 * (CI's fresh clone, and `npm run bench -- first-contact`, install for real), and Docker compose is checked
 * without an engine by test/deploy/wiring.test.ts. `npm test`
 * cannot run inside itself: CI runs exactly that command on a fresh clone (`.ci/run`, checked below).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it, onTestFinished } from 'vitest';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { serverPid } from '../helpers/embedded-server.ts';
import { fakeAmberForTest } from '../helpers/fake-amber.ts';
import { freshCopy, getJson, pressCtrlC, root, shell, stopLeftoverServer, waitFor } from './newcomer.ts';
import { readme, section, shellBlocks } from './readme-text.ts';

/** Nothing is left of an embedded server: no postmaster.pid (a clean shutdown removes it). */
function serverStopped(dataDir: string): boolean {
  return !existsSync(join(dataDir, 'postgres', 'postmaster.pid'));
}

describe('README Quick start', () => {
  const blocks = shellBlocks(section('Quick start'));

  it('shows, in order: Docker compose, Node without Docker (two commands), the demo, the test command', () => {
    expect(blocks).toEqual([
      ['cp .env.example .env', 'docker compose up -d'],
      ['cp .env.example .env', 'npm start'],
      ['npm run demo'],
      ['npm test'],
    ]);
  });

  it('the test command is exactly what CI runs on a fresh clone', () => {
    const steps = readFileSync(join(root, '.ci/run'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(steps.at(-1)).toBe(blocks[3]![0]);
    // Nothing of the machine's own PostgreSQL.
    expect(steps.join('\n')).not.toMatch(/TEST_DATABASE_URL|pg_ctl|pg_isready|5432/);
  });

  it('Docker compose: the first line names every variable compose requires, each one waiting in .env.example', () => {
    const named = /cp \.env\.example \.env\s+# then set (.+) in \.env\n/.exec(section('Quick start'))![1]!.split(/, | and /);
    const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { profiles?: string[] }> };
    // Without --profile: the services `docker compose up -d` starts; `${NAME:?…}` is a variable it refuses to start without.
    const started = Object.values(compose.services).filter((service) => service.profiles === undefined);
    const required = new Set([...JSON.stringify(started).matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)].map((m) => m[1]!));
    expect(named).toEqual(expect.arrayContaining([...required]));
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    for (const name of named) expect(example, name).toMatch(new RegExp(`^(# )?${name}=`, 'm'));
  });

  it('Node without Docker: with the key and start date set, the two commands collect into ./data, and Ctrl-C stops it all', async () => {
    const fake = await fakeAmberForTest();
    const dir = await freshCopy();
    const [copyEnv, start] = blocks[1]!;
    execFileSync('sh', ['-c', copyEnv!], { cwd: dir });
    // "then set AMBER_API_KEY and HISTORICAL_START_DATE in .env" (and, here, where the fake API is).
    const example = await readFile(join(dir, '.env'), 'utf8');
    await writeFile(
      join(dir, '.env'),
      example
        .replace(/^AMBER_API_KEY=.*$/m, `AMBER_API_KEY=${fake.apiKey}`)
        .replace(/^HISTORICAL_START_DATE=.*$/m, `HISTORICAL_START_DATE=${addDays(nemToday(new Date()), -7)}`) +
        `AMBER_API_BASE_URL=${fake.url}\nAMBER_RATE_LIMIT=1000;w=1\nHTTP_PORT=0\n`,
    );
    stopLeftoverServer(join(dir, 'data'));
    const run = shell(start!, dir);
    await waitFor('backfill finished', 120_000, async () => run.output().includes('"message":"backfill finished"'));
    const dataDir = join(dir, 'data');
    expect((await stat(join(dataDir, 'database-url'))).mode & 0o777).toBe(0o600);
    const url = (await readFile(join(dataDir, 'database-url'), 'utf8')).trim();
    const client = new pg.Client(url);
    await client.connect();
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM price_data');
    await client.end();
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);

    // What the README offers next, as written: `npm run cli -- status`, and psql on DATA_DIR/database-url.
    const statusLine = /`(npm run cli -- status)`/.exec(readme)![1]!;
    const status = spawnSync('sh', ['-c', statusLine], { cwd: dir, encoding: 'utf8' });
    // Exit 0 complete and fresh, 3 gaps, 4 stale: usage lags a day, so any of them.
    expect({ status: [0, 3, 4].includes(status.status!), stderr: status.stderr }).toEqual({ status: true, stderr: '' });
    expect(status.stdout).toMatch(/price/);
    // npm's own banner silenced, so that stdout is the JSON alone.
    const statusJson = spawnSync('sh', ['-c', `${statusLine} --json`], { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'silent' } });
    expect(statusJson.stderr).toBe('');
    expect(JSON.parse(statusJson.stdout).streams.length).toBeGreaterThan(0);
    if (spawnSync('sh', ['-c', 'command -v psql']).status === 0) {
      const psql = execFileSync('sh', ['-c', `psql "$(cat data/database-url)" -tAc 'SELECT count(*) > 0 FROM price_data'`], { cwd: dir, encoding: 'utf8' });
      expect(psql.trim()).toBe('t');
    }

    await pressCtrlC(run);
    expect(run.output()).toContain('"message":"stopped cleanly"');
    expect(serverStopped(dataDir)).toBe(true);

    // With the collector stopped, a command starts the embedded server for itself and stops it again.
    const summary = spawnSync('sh', ['-c', 'npm run cli -- query summary'], { cwd: dir, encoding: 'utf8' });
    expect({ status: summary.status, stderr: summary.stderr }).toEqual({ status: 0, stderr: '' });
    expect(summary.stdout).toMatch(/price/i);
    expect(serverStopped(dataDir)).toBe(true);
  }, 180_000);

  it('npm run demo: prints the dashboard address, which shows prices, usage, costs and the current price within 60 s; Ctrl-C stops everything', async () => {
    const dir = await freshCopy();
    const run = shell(blocks[2]![0]!, dir, { LOG_LEVEL: 'warn' });
    const dashboard = await waitFor('the dashboard address', 60_000, async () => /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(run.output())?.[1]);
    const shownAt = Date.now();
    const dataDir = /embedded PostgreSQL in (\S+) \(removed/.exec(run.output())![1]!;
    // The demo removes its folder when it stops; a test that fails first must not leave it, or its server, behind.
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    stopLeftoverServer(dataDir);

    const page = await fetch(dashboard);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    await waitFor('prices, usage, costs and the current price', 60_000 - (Date.now() - shownAt), async () => {
      const { sites } = await getJson(`${dashboard}api/sites`);
      const site = sites.find((s: { status: string }) => s.status === 'active').id as string;
      const prices = await getJson(`${dashboard}api/prices?site=${site}`);
      const usage = await getJson(`${dashboard}api/usage?site=${site}`);
      const costs = await getJson(`${dashboard}api/costs?site=${site}`);
      const now = await getJson(`${dashboard}api/prices/current?site=${site}`);
      return (
        JSON.stringify(prices).includes('"perKwh":') &&
        JSON.stringify(usage).includes('"kwh":') &&
        costs.days.some((day: { netDollars: number | null }) => day.netDollars !== null) &&
        now.channels.every((channel: { current: unknown; latestActual: unknown }) => channel.current ?? channel.latestActual)
      );
    });
    // The forecasts the dashboard draws are collected and kept.
    const url = (await readFile(join(dataDir, 'database-url'), 'utf8')).trim();
    const client = new pg.Client(url);
    await client.connect();
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM price_forecasts');
    await client.end();
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);

    const server = serverPid(dataDir);
    await pressCtrlC(run);
    await waitFor('the demo to stop', 30_000, async () => run.output().includes('demo stopped'));
    expect(existsSync(dataDir)).toBe(false);
    expect(() => process.kill(server, 0)).toThrow();
  }, 180_000);
});
