/**
 * The embedded PostgreSQL's lifecycle, for real: initdb, start, restart, the orphan a SIGKILLed owner leaves,
 * stale lock files, and, on a machine where the tests run as root (as here), the unprivileged user the server
 * runs as.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { linkSharedLibraries, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/embedded-postgres.ts';
import { silentLogger } from '../../src/logger.ts';
import { isRunning, serverPid } from '../helpers/embedded-server.ts';

const isRoot = process.getuid?.() === 0;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'amber-embedded-'));
  // mkdtemp makes it 700; a root process's server runs as another user, who must pass through it.
  await chmod(dir, 0o711);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'data');
}

async function start(dataDir: string, options: { running?: 'adopt' | 'share'; systemUser?: string } = {}): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir, logger: silentLogger(), running: options.running ?? 'adopt', durable: false, ...options });
  cleanups.push(() => server.stop());
  return server;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  it('initialises a cluster under DATA_DIR, on 127.0.0.1 only, with a generated password kept in files only its owner reads', async () => {
    const dataDir = await tempDataDir();
    const server = await start(dataDir);

    expect(server.url).toMatch(/^postgres:\/\/postgres:[\w-]{32}@127\.0\.0\.1:\d+\/amber$/);
    expect((await readFile(join(dataDir, 'database-url'), 'utf8')).trim()).toBe(server.url);
    expect((await readFile(join(dataDir, 'postgres-password'), 'utf8')).trim()).toBe(new URL(server.url).password);
    for (const file of ['database-url', 'postgres-password']) expect((await stat(join(dataDir, file))).mode & 0o777).toBe(0o600);

    const [settings] = await query<Record<string, string>>(
      server.url,
      `SELECT current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets,
              current_setting('server_encoding') AS encoding, current_setting('password_encryption') AS encryption,
              current_setting('server_version_num') AS version, current_database() AS database`,
    );
    expect(settings).toEqual({ listen: '127.0.0.1', sockets: '', encoding: 'UTF8', encryption: 'scram-sha-256', version: expect.stringMatching(/^17/), database: 'amber' });

    // Password auth: the right user without the password, or with another one, is refused.
    const wrong = new URL(server.url);
    wrong.password = 'not-the-password';
    await expect(query(wrong.toString(), 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
    const hba = await query<{ auth_method: string }>(server.url, 'SELECT DISTINCT auth_method FROM pg_hba_file_rules');
    expect(hba.map((rule) => rule.auth_method)).toEqual(['scram-sha-256']);

    // PostgreSQL refuses root: as root, the server runs as the unprivileged system user.
    const owner = execFileSync('ps', ['-o', 'user=', '-p', String(serverPid(dataDir))], { encoding: 'utf8' }).trim();
    expect(owner).toBe(isRoot ? 'postgres' : execFileSync('id', ['-un'], { encoding: 'utf8' }).trim());
  });

  it('starts again on the same data, password and port, and stopping leaves no process behind', async () => {
    const dataDir = await tempDataDir();
    const first = await start(dataDir);
    await query(first.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    const pid = serverPid(dataDir);
    await first.stop();
    expect(isRunning(pid)).toBe(false);

    const second = await start(dataDir);
    expect(second.url).toBe(first.url);
    expect(await query(second.url, 'SELECT n FROM kept')).toEqual([{ n: 42 }]);
  });

  it('after its owner is SIGKILLed, the next start uses the orphaned server, loses nothing, and stops it', async () => {
    const dataDir = await tempDataDir();
    const moduleUrl = pathToFileURL(join(import.meta.dirname, '../../src/embedded/embedded-postgres.ts')).href;
    const loggerUrl = pathToFileURL(join(import.meta.dirname, '../../src/logger.ts')).href;
    const owner = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startEmbeddedPostgres } = await import(${JSON.stringify(moduleUrl)});
         const { silentLogger } = await import(${JSON.stringify(loggerUrl)});
         const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, logger: silentLogger(), running: 'adopt', durable: false });
         console.log(server.url);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      owner.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      owner.once('exit', (code) => reject(new Error(`owner exited with ${code}`)));
    });
    await query(url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
    const pid = serverPid(dataDir);
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('exit', resolve));
    expect(isRunning(pid)).toBe(true);

    const server = await start(dataDir);
    expect(server.url).toBe(url);
    expect(serverPid(dataDir)).toBe(pid);
    expect(await query(server.url, 'SELECT n FROM kept')).toEqual([{ n: 7 }]);
    await server.stop();
    expect(isRunning(pid)).toBe(false);
  });

  it('a command shares a running server and leaves it to its owner', async () => {
    const dataDir = await tempDataDir();
    const owner = await start(dataDir);
    const command = await start(dataDir, { running: 'share' });
    expect(command).toMatchObject({ url: owner.url, owned: false });
    await command.stop();
    expect(await query(owner.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('starts past a stale postmaster.pid whose process is something else now', async () => {
    const dataDir = await tempDataDir();
    const first = await start(dataDir);
    await first.stop();
    // A restarted machine or container: the recorded pid belongs to another process by now (this one).
    await writeFile(join(dataDir, 'postgres', 'postmaster.pid'), `${process.pid}\n${dataDir}/postgres\n0\n${new URL(first.url).port}\n\n127.0.0.1\n0 0\nready\n`);
    const second = await start(dataDir);
    expect(await query(second.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('creates the shared libraries\' links when npm did not run the package\'s install script', async () => {
    const dir = await tempDataDir();
    await mkdir(join(dir, 'native', 'lib'), { recursive: true });
    await writeFile(join(dir, 'native', 'lib', 'libpq.so.5.17'), 'library');
    await writeFile(join(dir, 'native', 'pg-symlinks.json'), JSON.stringify([{ source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so.5' }]));
    await linkSharedLibraries(dir);
    await linkSharedLibraries(dir); // again: the links exist, nothing to do
    expect(await readFile(join(dir, 'native', 'lib', 'libpq.so.5'), 'utf8')).toBe('library');
  });

  describe.runIf(isRoot)('as root', () => {
    it('creates the unprivileged user it runs the server as when it does not exist', async () => {
      const user = `amber_pg_${randomBytes(3).toString('hex')}`;
      cleanups.push(async () => execFileSync('userdel', [user]));
      const dataDir = await tempDataDir();
      await start(dataDir, { systemUser: user });
      expect(execFileSync('ps', ['-o', 'user=', '-p', String(serverPid(dataDir))], { encoding: 'utf8' }).trim()).toBe(user);
      expect(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim()).not.toBe('0');
    });

    it('refuses, saying what to change, a DATA_DIR that user cannot reach', async () => {
      const dataDir = await tempDataDir();
      // Like /root: a folder only root may enter.
      const closed = join(dataDir, 'closed');
      await mkdir(closed, { recursive: true, mode: 0o700 });
      await expect(start(join(closed, 'data'))).rejects.toMatchObject({
        code: 'EMBEDDED_DB_FAILED',
        message: expect.stringMatching(new RegExp(`runs as the user "postgres", which cannot pass through ${closed}.*Set DATA_DIR`)),
      });
    });
  });
});
