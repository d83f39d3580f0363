/**
 * Before any data, `status` and `query` say to start the collector first, naming the command that works where
 * they were typed (`npm start` in a checkout, `amber-collector run` when installed) and, with the embedded
 * PostgreSQL, the data folder they looked in. Run as a person runs them: the real CLI in a folder of its own.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTestDatabase } from './helpers/database.ts';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;
const checkout = resolve(new URL('..', import.meta.url).pathname);

async function folder(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  // The embedded PostgreSQL runs as another user when the tests run as root: it must pass through.
  await chmod(dir, 0o711);
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function runCli(script: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [script, ...args], { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((done) => child.once('exit', (code) => done({ code, out, err })));
}

async function emptyDatabase(): Promise<string> {
  const db = await createTestDatabase();
  onTestFinished(() => db.drop());
  return db.url;
}

describe('before anything is collected', () => {
  it('status is not OK: it exits 5 and says to run `npm start` from the checkout, in text and in JSON', async () => {
    const url = await emptyDatabase();
    const cwd = await folder('amber-hint-');
    const text = await runCli(cli, ['status'], { DATABASE_URL: url }, cwd);
    expect(text.code).toBe(5);
    expect(text.out).not.toContain('OK');
    expect(text.out).toContain('NOTHING COLLECTED (exit 5):\n  nothing collected yet: no site is stored\n');
    expect(text.out).toContain(`run \`npm start\` in ${checkout} first: it reads the sites from Amber and collects`);

    const json = await runCli(cli, ['status', '--json'], { DATABASE_URL: url }, checkout);
    expect(json.code).toBe(5);
    expect(JSON.parse(json.out)).toMatchObject({
      exitCode: 5,
      healthy: false,
      problems: ['nothing collected yet: no site is stored'],
      hint: 'run `npm start` first: it reads the sites from Amber and collects',
      streams: [],
    });
  });

  it('query costs with the embedded database names `amber-collector run` when installed, and the data folder it looked in', async () => {
    const bin = await folder('amber-bin-');
    await symlink(cli, join(bin, 'amber-collector'));
    const cwd = await folder('amber-hint-');
    const run = await runCli(join(bin, 'amber-collector'), ['query', 'costs'], { DATA_DIR: 'data' }, cwd);
    expect(run.code).toBe(1);
    expect(run.err).toContain(
      `this database has no amber-collector tables yet; run \`amber-collector run\` first: it creates them and collects ` +
        `(this looked in the embedded PostgreSQL in ${join(cwd, 'data')}: run it from the same folder, or set DATA_DIR)`,
    );
  }, 120_000);
});
