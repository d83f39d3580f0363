/**
 * What the README tests share: a copy of the project as a newcomer's clone has it, README command lines run in
 * a shell the way a terminal runs them (Ctrl-C included), and patience for what a daemon does in the background.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onTestFinished } from 'vitest';
import { serverPid } from '../helpers/embedded-server.ts';

export const root = new URL('../../', import.meta.url).pathname;

/** A copy of the project as a clone has it (tracked files only), with the installed dependencies in it. */
export async function freshCopy(cleanUp: (task: () => Promise<void>) => void = onTestFinished): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'amber-newcomer-'));
  // A root collector's PostgreSQL runs as another user, who must pass through to ./data.
  await chmod(parent, 0o711);
  cleanUp(() => rm(parent, { recursive: true, force: true }));
  const dir = join(parent, 'amber-collector');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(root, file))) continue;
    await mkdir(dirname(join(dir, file)), { recursive: true });
    const source = await stat(join(root, file));
    await writeFile(join(dir, file), await readFile(join(root, file)));
    await chmod(join(dir, file), source.mode & 0o777);
    // Times kept: a package-lock.json newer than node_modules would make `npm run demo` reinstall.
    await utimes(join(dir, file), source.atime, source.mtime);
  }
  // Hard links, not a symlink: were anything to run `npm ci` in the copy, it would empty this project's own
  // node_modules through a symlink.
  execFileSync('cp', ['-al', join(root, 'node_modules'), join(dir, 'node_modules')]);
  return dir;
}

/** Runs a README command line in a shell of its own process group, so that a Ctrl-C can reach all of it. */
export function shell(
  command: string,
  cwd: string,
  env: Record<string, string> = {},
  cleanUp: (task: () => Promise<void>) => void = onTestFinished,
): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn('sh', ['-c', command], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  cleanUp(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGKILL');
      await exit;
    }
  });
  return { child, output: () => output, exit };
}

export interface Finished {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a README command line to its end in a shell. Asynchronous, so that a daemon a test started keeps
 * logging into this process (and answering) while the command runs.
 */
export function runToEnd(command: string, options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Finished> {
  const settings = { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 << 20 };
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], settings, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** Ctrl-C at the terminal: SIGINT to every process of the foreground group. */
export async function pressCtrlC(run: ReturnType<typeof shell>): Promise<void> {
  process.kill(-run.child.pid!, 'SIGINT');
  await run.exit;
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

export async function getJson(url: string): Promise<any> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}


/**
 * After the test, pass or fail: an embedded PostgreSQL still running in `dataDir` (its collector was killed
 * rather than stopped) gets an immediate shutdown, so a failed test leaves no server behind.
 */
export function stopLeftoverServer(dataDir: string, cleanUp: (task: () => Promise<void>) => void = onTestFinished): void {
  cleanUp(async () => {
    if (!existsSync(join(dataDir, 'postgres', 'postmaster.pid'))) return;
    try {
      process.kill(serverPid(dataDir), 'SIGQUIT');
    } catch {
      // Gone already.
    }
  });
}
