/**
 * DATA_DIR cannot be turned against its owner, and a DATA_DIR that cannot be used ends the collector with
 * exit status 1 naming it. As root (as here), for real: a folder pre-created by `nobody`, mode 777, with a
 * symlink to a root-owned file and a planted password; read-only file systems are real tmpfs mounts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, lchown, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/embedded/embedded-postgres.ts';
import { silentLogger } from '../../src/logger.ts';

const isRoot = process.getuid?.() === 0;
const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function tempParent(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'amber-datadir-'));
  await chmod(dir, 0o711);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function start(dataDir: string) {
  return startEmbeddedPostgres({ dataDir, logger: silentLogger(), running: 'adopt', durable: false }).then((server) => {
    cleanups.push(() => server.stop());
    return server;
  });
}

const nobody = (): { uid: number; gid: number } => ({
  uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })),
  gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })),
});

/** A root-owned file an attacker would like overwritten, and a planted database-url symlink to it. */
async function plantVictim(parent: string, dataDir: string, owner?: { uid: number; gid: number }): Promise<string> {
  const victim = join(parent, 'victim');
  await writeFile(victim, 'precious\n', { mode: 0o644 });
  await symlink(victim, join(dataDir, 'database-url'));
  if (owner) await lchown(join(dataDir, 'database-url'), owner.uid, owner.gid);
  return victim;
}

describe.runIf(isRoot)('a hostile DATA_DIR', () => {
  it('pre-created by nobody, mode 777, with a symlink to a root file and a planted password: refused, naming DATA_DIR, nothing written', async () => {
    const parent = await tempParent();
    const dataDir = join(parent, 'data');
    await mkdir(dataDir);
    const { uid, gid } = nobody();
    await chown(dataDir, uid, gid);
    await chmod(dataDir, 0o777);
    const victim = await plantVictim(parent, dataDir, { uid, gid });
    await writeFile(join(dataDir, 'postgres-password'), 'planted\n', { mode: 0o644 });
    await chown(join(dataDir, 'postgres-password'), uid, gid);

    await expect(start(dataDir)).rejects.toMatchObject({ code: 'DATA_DIR_UNSAFE', message: expect.stringContaining(`DATA_DIR ${dataDir} is not safe to use: it belongs to uid ${uid}`) });
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
  });

  it('of this user but writable by others: refused, saying how to fix it', async () => {
    const parent = await tempParent();
    const dataDir = join(parent, 'data');
    await mkdir(dataDir);
    await chmod(dataDir, 0o777);
    await expect(start(dataDir)).rejects.toMatchObject({ code: 'DATA_DIR_UNSAFE', message: expect.stringContaining(`chmod go-w ${dataDir}`) });
  });

  it('a password planted by another user in a folder of this one is never used', async () => {
    const parent = await tempParent();
    const dataDir = join(parent, 'data');
    await mkdir(dataDir, { mode: 0o700 });
    const { uid, gid } = nobody();
    await writeFile(join(dataDir, 'postgres-password'), 'planted\n', { mode: 0o600 });
    await chown(join(dataDir, 'postgres-password'), uid, gid);
    await expect(start(dataDir)).rejects.toMatchObject({ code: 'DATA_DIR_UNSAFE', message: expect.stringMatching(/postgres-password belongs to uid \d+.*remove it/) });
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
  });

  it('a symlink in a folder of this user is replaced, never followed: the root file it pointed at is untouched', async () => {
    const parent = await tempParent();
    const dataDir = join(parent, 'data');
    await mkdir(dataDir, { mode: 0o700 });
    const victim = await plantVictim(parent, dataDir);
    // Reading the old URL (for the port) through the link is refused too.
    await expect(start(dataDir)).rejects.toMatchObject({ code: 'DATA_DIR_UNSAFE', message: expect.stringContaining('database-url is a symbolic link') });
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    await rm(join(dataDir, 'database-url'));
    const server = await start(dataDir);
    expect((await readFile(join(dataDir, 'database-url'), 'utf8')).trim()).toBe(server.url);
    expect((await stat(join(dataDir, 'database-url'))).mode & 0o777).toBe(0o600);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
  });
});

async function runCollector(dataDir: string): Promise<{ code: number; fatal: Record<string, unknown> | undefined }> {
  const env = {
    PATH: process.env['PATH'] ?? '',
    AMBER_API_KEY: 'psk_fake0000000000000000000000000000',
    AMBER_API_BASE_URL: 'http://127.0.0.1:9/v1',
    DATA_DIR: dataDir,
    HISTORICAL_START_DATE: '2026-01-01',
    HTTP_PORT: '0',
  };
  const child = spawn(process.execPath, [cli, 'run'], { cwd: tmpdir(), env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  const lines = out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, fatal: lines.find((l) => l['fatal'] === true) };
}

/** A tmpfs mounted read-only at `dir`, with `prepare` run on it while it is still writable. */
async function readOnlyMount(dir: string, prepare: (dir: string) => Promise<void> = async () => {}): Promise<void> {
  await mkdir(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0711', 'tmpfs', dir]);
  cleanups.push(async () => execFileSync('umount', [dir]));
  await prepare(dir);
  execFileSync('mount', ['-o', 'remount,ro', dir]);
}

describe.runIf(isRoot)('a DATA_DIR that cannot be used', () => {
  it('missing, under a read-only file system: exit 1 naming DATA_DIR, not 75', async () => {
    const parent = await tempParent();
    await readOnlyMount(join(parent, 'ro'));
    const dataDir = join(parent, 'ro', 'data');
    const { code, fatal } = await runCollector(dataDir);
    expect(code).toBe(1);
    // Node's recursive mkdir reports a read-only parent as ENOENT.
    expect(fatal).toMatchObject({ code: 'DATA_DIR_UNUSABLE', message: expect.stringMatching(new RegExp(`^DATA_DIR ${dataDir} cannot be created or written \\((EROFS|ENOENT)`)) });
  }, 30_000);

  it('present but read-only: exit 1 naming DATA_DIR', async () => {
    const parent = await tempParent();
    await readOnlyMount(join(parent, 'ro'), (dir) => mkdir(join(dir, 'data'), { mode: 0o700 }));
    const dataDir = join(parent, 'ro', 'data');
    const { code, fatal } = await runCollector(dataDir);
    expect(code).toBe(1);
    expect(fatal).toMatchObject({ code: 'DATA_DIR_UNUSABLE', message: expect.stringContaining(`DATA_DIR ${dataDir} cannot be created or written (EROFS`) });
  }, 30_000);

  it('under a file: exit 1 naming DATA_DIR', async () => {
    const parent = await tempParent();
    await writeFile(join(parent, 'file'), '');
    const dataDir = join(parent, 'file', 'data');
    const { code, fatal } = await runCollector(dataDir);
    expect(code).toBe(1);
    expect(fatal).toMatchObject({ code: 'DATA_DIR_UNUSABLE', message: expect.stringContaining(`DATA_DIR ${dataDir} cannot be created or written (ENOTDIR`) });
  }, 30_000);
});
