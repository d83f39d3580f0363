/**
 * `amber-collector backup` and `restore` as processes, the way the README shows them: the commands of its
 * "Backup and restore" section run as written against real databases, stdout and stdin included, with their
 * exit statuses and messages; and a backup killed outright half-way leaves nothing at its file name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-process.ts';
import { databaseForTest } from '../helpers/database.ts';
import { root } from '../readme/newcomer.ts';
import { section, shellLines } from '../readme/readme-text.ts';

const CLI = join(root, 'src/cli.ts');

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'amber-backup-cli-'));
});
afterEach(async () => rm(folder, { recursive: true, force: true }));

/** Runs `amber-collector <args>` in `folder` against `databaseUrl`, with `stdin` piped in when given. */
function cli(args: string[], databaseUrl: string, stdin?: Buffer): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: folder, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(stdin);
  return child;
}

function run(args: string[], databaseUrl: string, stdin?: Buffer) {
  return runCli(args, { cwd: folder, env: { ...process.env, DATABASE_URL: databaseUrl }, ...(stdin ? { stdin } : {}) });
}

/** A site with `days` days of 5-minute prices on three channels, made in SQL. */
async function seed(url: string, days: number): Promise<void> {
  const db = await import('pg');
  const client = new db.default.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO sites (id, nmi, network, status, interval_length, channels, raw)
      VALUES ('S1', '4103827719', 'Ausgrid', 'active', 5, '[{"identifier":"E1","type":"general"}]', '{"id":"S1"}')`);
    await client.query(
      `INSERT INTO price_data (site_id, channel_type, nem_time, duration, start_time, end_time, nem_date, per_kwh, spot_per_kwh, renewables, spike_status, interval_type, raw)
       SELECT 'S1', c, t, 5, t - interval '299 seconds', t, (t - interval '10 hours 1 second')::date, 20 + random() * 10, 8.5, 40, 'none', 'ActualInterval',
              jsonb_build_object('type', 'ActualInterval', 'perKwh', 25.123456, 'nemTime', t)
         FROM generate_series(timestamptz '2025-01-01 00:05+10', timestamptz '2025-01-01 00:00+10' + make_interval(days => $1), interval '5 minutes') AS t,
              unnest(ARRAY['general', 'feedIn', 'controlledLoad']) AS c`,
      [days],
    );
  } finally {
    await client.end();
  }
}

describe('amber-collector backup and restore', () => {
  it('backup and restore run as the README shows them', { timeout: 120_000 }, async () => {
    const source = await databaseForTest();
    await seed(source.url, 2);
    const target = await databaseForTest({ migrated: false });
    const lines = shellLines(section('Backup and restore')).filter((line) => line.startsWith('amber-collector '));
    expect(lines).toEqual(['amber-collector backup --file amber.backup', 'amber-collector restore amber.backup']);

    const backup = await run(lines[0]!.split(' ').slice(1), source.url);
    expect(backup.stderr).toBe('');
    expect(backup.stdout.toString()).toMatch(/^backup written to amber\.backup: \d+ rows in \d+ tables at schema version \d+, [\d.]+ MB, in [\d.]+ s \(sha256 [0-9a-f]{64}\)\n$/);
    expect(backup.code).toBe(0);
    const restore = await run(lines[1]!.split(' ').slice(1), target.url);
    expect({ code: restore.code, stderr: restore.stderr }).toEqual({ code: 0, stderr: '' });
    expect(restore.stdout.toString()).toMatch(/^restored 1729 rows in \d+ tables from a backup of .*checksum and row counts verified/);

    // A second restore would overwrite: refused, then allowed with --force.
    const again = await run(['restore', 'amber.backup'], target.url);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^amber-collector restore: the database already holds data \(in .*price_data.*\): restore into an empty database, or add --force/);
    expect((await run(['restore', 'amber.backup', '--force'], target.url)).code).toBe(0);

    // Through stdout and stdin, as over `kubectl exec`.
    const streamed = await run(['backup', '--file', '-'], source.url);
    expect(streamed.code).toBe(0);
    expect(streamed.stderr).toMatch(/^backup written to stdout: /);
    const fresh = await databaseForTest({ migrated: false });
    expect((await run(['restore', '-'], fresh.url, streamed.stdout)).code).toBe(0);
    const counts = await fresh.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM price_data');
    expect(counts.rows[0]!.n).toBe(String(2 * 288 * 3));

    // Mistakes get a clear line and their exit status.
    expect(await run(['restore', 'missing.backup'], fresh.url)).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot read missing\.backup: ENOENT/) });
    expect(await run(['restore'], fresh.url)).toMatchObject({ code: 2, stderr: expect.stringMatching(/name one backup file/) });
    expect(await run(['backup', '--file', join(folder, 'no/such/folder/x.backup')], source.url)).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot write .*ENOENT/) });
  });

  it('a backup killed half-way leaves nothing at its file name', { timeout: 180_000 }, async () => {
    const source = await databaseForTest();
    await seed(source.url, 200);
    const child = cli(['backup', '--file', 'amber.backup'], source.url);
    const closed = once(child, 'close');
    // Killed once the temporary file has grown: the backup is well under way.
    for (;;) {
      const partial = (await readdir(folder)).find((name) => name.startsWith('.partial-'));
      if (partial !== undefined && (await stat(join(folder, partial)).catch(() => null))?.size) break;
      if (child.exitCode !== null) throw new Error('the backup finished before it could be killed: seed more rows');
      await sleep(5);
    }
    child.kill('SIGKILL');
    await closed;
    expect(existsSync(join(folder, 'amber.backup'))).toBe(false);
    // The next backup is whole, whatever the crash left behind.
    const retry = await run(['backup', '--file', 'amber.backup'], source.url);
    expect(retry.code).toBe(0);
    expect(existsSync(join(folder, 'amber.backup'))).toBe(true);
  });
});
