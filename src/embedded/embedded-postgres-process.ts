/**
 * The embedded PostgreSQL's server process, ours or an orphan found through postmaster.pid: whether it is
 * alive, stopping it (fast shutdown, then immediate, then SIGKILL), and the local port it listens on.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { platform } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

const STOP_TIMEOUT_MS = 10_000;

/** The server's process: our child, or an orphan found through postmaster.pid. */
export interface ServerProcess {
  pid: number;
  child: ChildProcess | null;
}

/** Whether `pid` is a PostgreSQL process: a pid from a stale postmaster.pid may belong to anything by now. */
export async function isPostgres(pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes('postgres');
  } catch {
    return platform() !== 'linux'; // Without /proc, trust the pid.
  }
}

export function isAlive(server: ServerProcess): boolean {
  if (server.child) return server.child.exitCode === null && server.child.signalCode === null;
  try {
    process.kill(server.pid, 0);
  } catch (err) {
    // EPERM: it exists, as another user (a root collector's server runs as the system user).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(server.pid);
}

/** An orphan that exited stays a zombie until init reaps it, which can take a while; it is gone all the same. */
function isZombie(pid: number): boolean {
  try {
    // The state follows the parenthesised command name: "pid (comm) S ...".
    return /\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** SIGINT is PostgreSQL's fast shutdown; SIGQUIT (immediate, recovers on next start) only if that hangs. */
export async function stopServer(server: ServerProcess): Promise<void> {
  if (!isAlive(server)) return;
  signal(server.pid, 'SIGINT');
  if (await exited(server, STOP_TIMEOUT_MS)) return;
  signal(server.pid, 'SIGQUIT');
  if (await exited(server, 5_000)) return;
  signal(server.pid, 'SIGKILL');
  await exited(server, 5_000);
}

async function exited(server: ServerProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(server)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** The port of the last start when it is still free (tools keep working), else one the OS picks. */
export async function choosePort(preferred: number | null): Promise<number> {
  if (preferred !== null && (await canListen(preferred))) return preferred;
  return freePort();
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
