/**
 * The real daemon as a child process (`node dist/cli.js run`, or `node src/cli.ts run` on type stripping),
 * configured through its environment like a deployment, with its NDJSON log parsed as it arrives and its
 * memory read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STOP_GRACE_MS = 15_000;

export interface LogLine {
  message?: string;
  level?: string;
  [key: string]: unknown;
}

export interface DaemonChild {
  readonly pid: number;
  /** Resolves with the first log line (from now on or already seen) whose `message` is `message`. */
  waitForLog(message: string, timeoutMs: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL if it has not exited within the grace period; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Null while it runs; once it has ended, how (exit code or signal) and the start of its stderr (V8's last words). */
  ended(): { code: number | null; signal: string | null; stderr: string } | null;
}

/** Starts `node <entry> run` in an empty working directory (no stray .env), with exactly `env` set. */
export async function startDaemon(entry: string, env: Record<string, string>): Promise<DaemonChild> {
  const cwd = await mkdtemp(join(tmpdir(), 'amber-bench-'));
  const child = spawn(process.execPath, [join(REPO_ROOT, entry), 'run'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<{ message: string; resolve: (line: LogLine) => void }>();
  let stderr = '';
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    buffered += text;
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const text of complete) {
      const line = parseLine(text);
      if (line === null) continue;
      lines.push(line);
      for (const waiter of waiters) if (waiter.message === line.message) waiter.resolve(line);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (child.pid === undefined) throw new Error(`could not start ${entry}`);

  return {
    pid: child.pid,
    waitForLog(message, timeoutMs) {
      const seen = lines.find((line) => line.message === message);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => fail(`no "${message}" log line within ${timeoutMs} ms`), timeoutMs);
        const waiter = { message, resolve: (line: LogLine) => finish(() => resolve(line)) };
        const fail = (why: string) => finish(() => reject(new Error(`daemon ${entry}: ${why}\n${tail(lines, stderr)}`)));
        const onExit = (code: number | null) => fail(`exited with ${code} before "${message}"`);
        function finish(then: () => void): void {
          clearTimeout(timer);
          waiters.delete(waiter);
          child.off('exit', onExit);
          then();
        }
        waiters.add(waiter);
        child.once('exit', onExit);
      });
    },
    ended() {
      if (child.exitCode === null && child.signalCode === null) return null;
      // The start of stderr: V8's `FATAL ERROR: … JavaScript heap out of memory` comes before its stack.
      return { code: child.exitCode, signal: child.signalCode, stderr: stderr.slice(0, 2000) };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited.finally(() => clearTimeout(timer));
      }
      await rm(cwd, { recursive: true, force: true });
      return exited;
    },
  };
}

function parseLine(text: string): LogLine | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as LogLine) : null;
  } catch {
    return null;
  }
}

function tail(lines: readonly LogLine[], stderr: string): string {
  return [...lines.slice(-5).map((line) => JSON.stringify(line)), stderr.slice(-2000)].join('\n');
}

export interface ProcessMemory {
  /** Resident set size now (VmRSS). */
  rssBytes: number;
  /** The most it has ever been (VmHWM, the high-water mark). */
  peakRssBytes: number;
  /** The part of the RSS that is file-backed (RssFile): mostly the node binary's own pages, shared and clean. */
  fileRssBytes: number;
}

export async function processMemory(pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kilobytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssBytes: kilobytes('VmRSS') * 1024, peakRssBytes: kilobytes('VmHWM') * 1024, fileRssBytes: kilobytes('RssFile') * 1024 };
}

/** A TCP port nothing listens on right now (the daemon's HTTP server needs one). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/**
 * Makes sure `dist/` is the build of the current `src/` (running `npm run build`'s compiler when it is
 * missing or older than any source file). Returns the build time, or null when nothing needed building.
 */
export async function ensureBuilt(): Promise<number | null> {
  const built = await stat(join(REPO_ROOT, 'dist/cli.js')).then((s) => s.mtimeMs, () => 0);
  if (built >= (await newestMtime(join(REPO_ROOT, 'src')))) return null;
  const started = performance.now();
  const startedAt = Date.now();
  // `npm run build` is `tsc -p tsconfig.build.json`; calling the compiler directly needs no npm on PATH.
  const compiler = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  compiler.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  compiler.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => compiler.once('exit', resolve));
  // tsc still emits when other parts of the tree have type errors; only a missing entry point is fatal.
  const emitted = await stat(join(REPO_ROOT, 'dist/cli.js')).then((s) => s.mtimeMs, () => 0);
  if (emitted < startedAt - 1000) throw new Error(`npm run build did not produce dist/cli.js:\n${output}`);
  if (code !== 0) process.stderr.write(`  … npm run build reported errors (dist/ was still emitted):\n${output.slice(0, 2000)}\n`);
  return performance.now() - started;
}

async function newestMtime(directory: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** Runs a bare Node program (the baselines), resolving once it has started; `stop()` ends it. */
export function startBareNode(script: string, args: readonly string[] = []): { child: ChildProcess; stop(): Promise<void> } {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
