/**
 * The README's commands outside the Quick start, run as written by a newcomer without Docker: the fake Amber
 * server of "Trying it without an Amber account", a PostgreSQL of their own ("Running without Docker"), the daemon
 * from `npm run dev`, and then every command of "The command line", the SQL examples, the battery and alert
 * commands, the `curl` checks and the `openssl` passwords, each taken from the README's text. Placeholders
 * (`ID`, `DATE`, `FILE`…) become values from the collected data; optional parts are run both left out and given.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addDays } from '../../src/domain/nem-time.ts';
import { databaseUrl as databaseUrlOf, dropDatabase, quoteIdent, withAdmin } from '../helpers/database-admin.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';
import { type Finished, freshCopy, pressCtrlC, root, runToEnd, shell, waitFor } from './newcomer.ts';
import { commandTable, inlineCommands, isSetting, readme, section, shellLines, sqlStatements } from './readme-text.ts';

/** A README synopsis as the commands that run it: optional parts left out, then all given, one per alternative. */
function expand(synopsis: string, values: Readonly<Record<string, string>>): string[] {
  const given = synopsis.replace(/[[\]]/g, '');
  const bare = synopsis.replace(/\s*\[[^\]]*\]/g, '');
  const forms = new Set<string>();
  for (const form of [bare, given]) {
    let variants: string[][] = [[]];
    const tokens = form.split(' ');
    tokens.forEach((token, i) => {
      // An alternative is a literal (`lines|intervals`) or a placeholder of its own (`KWH|PCT%`).
      const choices = token.includes('|') && !token.includes('"') ? token.split('|').map((choice) => values[choice] ?? choice) : [values[`${tokens[i - 1]} ${token}`] ?? values[token] ?? token];
      variants = variants.flatMap((variant) => choices.map((choice) => [...variant, choice]));
      // `[--site]` without a value: the site it is for.
      if (token === '--site' && (tokens[i + 1] ?? '--').startsWith('--')) variants = variants.map((variant) => [...variant, values['ID']!]);
    });
    for (const variant of variants) forms.add(variant.join(' '));
  }
  return [...forms];
}

/**
 * How many rows of the command table run at once, beside the other rows of the walk-through: each is a node
 * process of its own, and the suite's machine has 2 cores.
 */
const PARALLEL_COMMANDS = 2;

/** Runs `jobs` with at most `limit` at a time, and settles when all have (the first failure is rethrown). */
async function inParallel(jobs: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  const queue = [...jobs];
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) await job();
  };
  const results = await Promise.allSettled(Array.from({ length: limit }, worker));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

// The walk-through's rows are independent of one another: they run at the same time (describe.concurrent), and
// the two describes too; the alerts row runs alone, and the Ctrl-C that ends the daemon after all of them.
describe.concurrent('README, without Docker: a PostgreSQL of your own, the fake Amber server, `npm run dev`, then every command', () => {
  const cleanUps: (() => Promise<void>)[] = [];
  const cleanUp = (task: () => Promise<void>): void => void cleanUps.unshift(task);
  let dir = '';
  let bin = '';
  let databaseUrl = '';
  let httpPort = 0;
  let site = '';
  let firstDay = '';
  let lastDay = '';
  let daemon: ReturnType<typeof shell>;

  /** A README command line in the project folder, with `amber-collector` on PATH as an install puts it. */
  function run(command: string, env: Record<string, string> = {}): Promise<Finished> {
    return runToEnd(command, { cwd: dir, env: { ...process.env, ...env, PATH: `${bin}:${process.env['PATH']}` } });
  }

  beforeAll(async () => {
    dir = await freshCopy(cleanUp);
    // The package's `bin`, as `npm install -g` or `npm link` provides it, here on the sources `npm run dev` runs.
    bin = await mkdtemp(join(tmpdir(), 'amber-bin-'));
    cleanUp(() => rm(bin, { recursive: true, force: true }));
    await writeFile(join(bin, 'amber-collector'), `#!/bin/sh\nexec node "${dir}/src/cli.ts" "$@"\n`);
    await chmod(join(bin, 'amber-collector'), 0o755);

    // "Trying it without an Amber account": the fake server, sped up as the README suggests.
    const [startFake] = shellLines(section('Trying it without an Amber account'));
    const fake = shell(startFake!, dir, { FAKE_AMBER_PORT: '0', FAKE_AMBER_RATE_LIMIT: '10;w=2' }, cleanUp);
    // The snippet is `.env` lines, one setting each, pasted as printed.
    const snippetLine = /^(AMBER_API_BASE_URL|AMBER_API_KEY|HISTORICAL_START_DATE)=\S+$/gm;
    const snippet = await waitFor('the fake server\'s .env snippet', 30_000, async () => {
      const lines = fake.output().match(snippetLine) ?? [];
      return lines.length === 3 ? lines : undefined;
    });

    // "Running without Docker": `.env` from the example, a database of your own and its DATABASE_URL.
    const [copyEnv] = shellLines(section('Running without Docker')).filter((line) => line.startsWith('cp '));
    expect((await run(copyEnv!)).status).toBe(0);
    const [createDatabase, appendUrl] = shellLines(section('Running without Docker')).slice(-2);
    const serverUrl = inject('databaseUrl');
    const server = new URL(serverUrl);
    const name = `amber_readme_${process.pid}`;
    const pgEnv = { PGHOST: server.hostname, PGPORT: server.port || '5432', PGUSER: decodeURIComponent(server.username), PGPASSWORD: decodeURIComponent(server.password), PGDATABASE: 'postgres' };
    if (spawnSync('sh', ['-c', 'command -v createdb']).status === 0) {
      expect(await run(createDatabase!.replace(/ amber$/, ` ${name}`), pgEnv)).toMatchObject({ status: 0, stderr: '' });
    } else {
      await withAdmin(serverUrl, (admin) => admin.query(`CREATE DATABASE ${quoteIdent(name)}`));
    }
    cleanUp(() => withAdmin(serverUrl, (admin) => dropDatabase(admin, name)));
    databaseUrl = databaseUrlOf(serverUrl, name);
    expect((await run(appendUrl!.replace(/postgres:\/\/[^']*/, databaseUrl))).status).toBe(0);

    // "Put the printed AMBER_API_BASE_URL, AMBER_API_KEY and HISTORICAL_START_DATE into .env, then npm run dev".
    const printed = Object.fromEntries(snippet.map((line) => line.split('=') as [string, string]));
    let env = await readFile(join(dir, '.env'), 'utf8');
    for (const [key, value] of Object.entries(printed)) {
      env = new RegExp(`^${key}=`, 'm').test(env) ? env.replace(new RegExp(`^${key}=.*$`, 'm'), `${key}=${value}`) : `${env}${key}=${value}\n`;
    }
    // A free port rather than 8080, which another program here may hold; the curl lines follow it.
    await writeFile(join(dir, '.env'), `${env}HTTP_PORT=0\n`);
    expect(section('Trying it without an Amber account')).toContain('`npm run dev`');
    daemon = shell('npm run dev', dir, {}, cleanUp);
    await waitFor('backfill finished', 150_000, async () => daemon.output().includes('"message":"backfill finished"'));
    const listening = daemon.output().split('\n').find((line) => line.includes('"message":"HTTP server listening"'))!;
    httpPort = (JSON.parse(listening) as { port: number }).port;

    const client = new pg.Client(databaseUrl);
    await client.connect();
    const { rows } = await client.query<{ id: string; first: string; last: string }>(
      `SELECT site_id AS id, min(nem_date)::text AS first, max(nem_date)::text AS last
         FROM usage_data GROUP BY site_id ORDER BY count(*) DESC LIMIT 1`,
    );
    await client.end();
    ({ id: site, first: firstDay, last: lastDay } = rows[0]!);
  }, 240_000);

  afterAll(async () => {
    for (const task of cleanUps) await task();
  });

  it('every command of "The command line" runs as written, bare and with every option, and each has --help', async () => {
    const outFile = join(dir, 'export.out');
    // An export's range is one day: nine exports of the whole history spent half this test formatting rows, and
    // one day of both sites' prices and usage has rows in every format and type just the same.
    const values = { ID: site, '--from DATE': lastDay, '--to DATE': lastDay, '--from D': lastDay, '--to D': lastDay, '--since DATE': firstDay, '--month YYYY-MM': lastDay.slice(0, 7), FILE: outFile, '"SELECT': '"SELECT count(*) FROM price_data', '…"': '"' };
    const table = commandTable();
    expect(table.length).toBeGreaterThanOrEqual(10);
    const jobs: (() => Promise<void>)[] = [];
    // One --help per command: the eight `query` rows all ask `amber-collector query --help`.
    for (const name of new Set(table.map((synopsis) => synopsis.split(' ')[1]!))) {
      jobs.push(async () => {
        const help = await run(`amber-collector ${name} --help`);
        expect({ name, status: help.status, stderr: help.stderr }).toEqual({ name, status: 0, stderr: '' });
        expect(help.stdout).toContain('Usage: amber-collector');
      });
    }
    for (const synopsis of table) {
      const [, name] = synopsis.split(' ');
      if (name === 'run') continue; // the daemon: `npm run dev` above is `amber-collector run`
      for (const [index, form] of expand(synopsis, values).entries()) {
        // Each export to a file of its own, as commands run side by side.
        const command = form.replace(outFile, `${outFile}.${name}.${index}`);
        jobs.push(() => runRow(name!, command, `${outFile}.${name}.${index}`));
      }
    }
    await inParallel(jobs, PARALLEL_COMMANDS);

    async function runRow(name: string, command: string, rowOutFile: string): Promise<void> {
      const result = await run(command);
      // status reports gaps (3) or staleness (4) through its exit status: usage lags a day.
      const ok = name === 'status' ? [0, 3, 4] : [0];
      // An export to a file says on stderr how many rows it wrote; nothing else may go there.
      const stderr = result.stderr.replace(/^wrote \d+ (price|usage) rows to \S+\n/, '').replace(/^wrote the \d{4}-\d{2} statement of site \S+ to \S+\n/, '');
      expect({ command, status: ok.includes(result.status!) ? 'ok' : result.status, stderr }).toEqual({ command, status: 'ok', stderr: '' });
      const output = command.includes('--output') || command.includes('--out ') ? await readFile(rowOutFile, 'utf8') : result.stdout;
      expect(output, command).not.toBe('');
      if (command.includes('--json') || command.includes('--format json')) expect(() => JSON.parse(output), command).not.toThrow();
    }
  }, 600_000); // A bound on a hang: some 40 commands, two at a time, take minutes on a busy 2-core machine.

  it('the SQL examples run on the collected tables and return rows', async () => {
    const statements = sqlStatements(section('Querying the data'));
    expect(statements.length).toBe(3);
    const client = new pg.Client(databaseUrl);
    await client.connect();
    try {
      for (const statement of statements) expect((await client.query(statement)).rowCount, statement).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });

  it('battery what-if and plan run as the README shows them, on the collected prices and usage', async () => {
    // The README's month becomes the last week: each form replays the battery over every interval of the range,
    // and a week runs every strategy on prices and usage just as the whole history does.
    const values = { ID: site, '2025-10-01': addDays(lastDay, -6), '2025-10-31': lastDay, KW: '3', DATE: lastDay, KWH: '5', 'PCT%': '50%', HOURS: '12' };
    const synopses = shellLines(section('Battery what-if and schedule'));
    expect(synopses.map((line) => line.split(' ').slice(0, 3).join(' '))).toEqual(['amber-collector battery what-if', 'amber-collector battery plan']);
    for (const command of synopses.flatMap((synopsis) => expand(synopsis, values))) {
      const result = await run(command);
      expect({ command, status: result.status, stderr: result.stderr }).toEqual({ command, status: 0, stderr: '' });
      if (command.includes('--json')) expect(() => JSON.parse(result.stdout), command).not.toThrow();
    }
  }, 120_000);

  // Alone: it changes .env.local, which every other row's commands read, and its webhooks wait on answers.
  it('the alert settings, as written, are valid, and `alerts test` reaches an ntfy and a Discord target', { concurrent: false }, async () => {
    const lines = shellLines(section('Alerts'));
    const settings = lines.filter(isSetting);
    expect(settings.map((line) => line.split('=')[0])).toContain('ALERT_WEBHOOK_URL');
    const receiver = await startWebhookReceiver();
    // The README's targets, sent here: the same formats, named by prefix since the hosts are not ntfy.sh or discord.com.
    const here = new URL(receiver.url).origin;
    const local = settings.map((line) => (line.startsWith('ALERT_WEBHOOK_URL=') ? `ALERT_WEBHOOK_URL=ntfy+${here}/my-amber-x7q2,discord+${here}/api/webhooks/123/abc` : line));
    expect(settings.find((line) => line.startsWith('ALERT_WEBHOOK_URL='))).toMatch(/^ALERT_WEBHOOK_URL=https:\/\/ntfy\.sh\/\S+,https:\/\/discord\.com\/api\/webhooks\/\S+$/);
    await writeFile(join(dir, '.env.local'), `${local.join('\n')}\n`);
    const command = lines.find((line) => !isSetting(line))!;
    const result = await run(command);
    expect({ command, status: result.status, stderr: result.stderr }).toEqual({ command, status: 0, stderr: '' });
    expect(result.stdout).toMatch(/ntfy/);
    expect(result.stdout).toMatch(/discord/);
    const paths = receiver.received.map((request) => request.path).sort();
    expect(paths).toEqual(['/api/webhooks/123/abc', '/my-amber-x7q2']);
    await rm(join(dir, '.env.local'));
  });

  it('the curl checks answer from the running daemon', async () => {
    // The daemon's own checks; the EMHASS example, which posts to an EMHASS, is run by test/http/feeds-api.test.ts.
    const checks = [...new Set([...shellLines(), ...inlineCommands()].filter((line) => line.startsWith('curl ') && !line.includes('/api/feeds/emhass')))];
    expect(checks.length).toBeGreaterThanOrEqual(2);
    for (const check of checks) {
      const result = await run(check.replaceAll('localhost:8080', `localhost:${httpPort}`));
      expect({ check, status: result.status, stderr: result.stderr }).toEqual({ check, status: 0, stderr: '' });
      if (check.endsWith('/readyz')) expect(JSON.parse(result.stdout)).toMatchObject({ status: 'ready' });
      else expect(result.stdout).toMatch(/^amber_collector_\w+/m);
    }
  });

  it('the openssl passwords are letters and digits only, as the README promises for URLs', async () => {
    for (const command of [...shellLines(), ...inlineCommands()].filter((line) => line.includes('openssl rand'))) {
      const generate = /\$\((openssl [^)]*)\)/.exec(command)?.[1] ?? command;
      expect((await run(generate)).stdout.trim()).toMatch(/^[0-9a-f]{32,48}$/);
    }
  });

  it('Ctrl-C stops `npm run dev` cleanly', { concurrent: false }, async () => {
    await pressCtrlC(daemon);
    expect(daemon.output()).toContain('"message":"stopped cleanly"');
  });
});

describe.concurrent('README, getting the code and developing', () => {
  it('`npm test -- test/config.test.ts` runs one test file', async () => {
    const command = shellLines().concat(inlineCommands()).find((line) => line.startsWith('npm test -- '))!;
    const result = await runToEnd(command, { cwd: root, env: { ...process.env, TEST_DATABASE_URL: inject('databaseUrl'), NO_COLOR: '1' }, timeoutMs: 120_000 });
    const output = result.stdout + result.stderr;
    expect(result.status, output).toBe(0);
    expect(output).toMatch(/Test Files\s+1 passed \(1\)/);
  }, 120_000);

  it('`git clone` then `cp .env.example .env` give a checkout with a .env to edit', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'amber-clone-'));
    try {
      const [clone, copyEnv] = shellLines(section('Running with Docker compose'));
      expect(clone).toMatch(/^git clone <this repository> amber-collector && cd amber-collector$/);
      const result = spawnSync('sh', ['-c', `${clone!.replace('<this repository>', root)} && ${copyEnv}`], { cwd: parent, encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      const checkout = join(parent, 'amber-collector');
      expect(await readFile(join(checkout, '.env'), 'utf8')).toBe(await readFile(join(root, '.env.example'), 'utf8'));
      // Updating, as the README says: `git pull` with the edited .env in place (it is not tracked).
      expect(readme).toContain('`git pull && docker compose up -d --build`');
      const pull = spawnSync('git', ['pull'], { cwd: checkout, encoding: 'utf8' });
      expect(pull.status, pull.stderr).toBe(0);
      expect(spawnSync('git', ['status', '--porcelain'], { cwd: checkout, encoding: 'utf8' }).stdout).toBe('');
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
