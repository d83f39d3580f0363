/**
 * The real `amber-collector` process (`node src/cli.ts`), for what only a process can show: SIGKILL,
 * SIGTERM, SIGSTOP, exit codes and the messages a person sees. Its stdout is NDJSON; every line is kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

export type LogLine = Record<string, unknown>;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CollectorProcess {
  readonly child: ChildProcess;
  /** When the process was spawned (wall ms). */
  readonly startedAt: number;
  readonly lines: LogLine[];
  /** Whatever the process wrote to stderr (nothing, when all is well). */
  readonly stderr: () => string;
  readonly exited: Promise<ProcessExit>;
  /** Resolves with the first line matching `predicate` (already seen or still to come). */
  waitFor(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends SIGTERM and waits for the exit. */
  terminate(): Promise<ProcessExit>;
}

/** Every collector process a trial started and has not seen exit. */
const running = new Set<ChildProcess>();

/**
 * SIGKILLs the collector processes still running: a trial that failed half-way (a wait timed out) must
 * not leave a collector behind writing to a database that is about to be dropped.
 */
export function killLeftoverProcesses(): number {
  const leftovers = [...running];
  for (const child of leftovers) child.kill('SIGKILL');
  running.clear();
  return leftovers.length;
}

export const byMessage =
  (msg: string) =>
  (line: LogLine): boolean =>
    line['message'] === msg;

/**
 * Spawns the collector with exactly `env` (plus PATH, and HTTP_PORT 0 unless given), in a neutral
 * working directory so no developer `.env` fills in what a test leaves out.
 */
export async function startCollectorProcess(env: Record<string, string>): Promise<CollectorProcess> {
  const child = spawn(process.execPath, [CLI], {
    cwd: tmpdir(),
    env: { PATH: process.env['PATH'] ?? '', HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const startedAt = Date.now();
  const lines: LogLine[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const text = stdout.slice(0, newline).trim();
      stdout = stdout.slice(newline + 1);
      if (text === '') continue;
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        // Anything on stdout that is not NDJSON breaks log shippers: keep it visible as a line of its own.
        lines.push({ level: 'invalid', message: text });
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    child,
    startedAt,
    lines,
    stderr: () => stderr,
    exited,
    async waitFor(predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let exitedEarly = false;
      void exited.then(() => {
        exitedEarly = true;
      });
      for (;;) {
        const found = lines.find(predicate);
        if (found) return found;
        if (exitedEarly) throw new Error(`the collector exited before the awaited log line; stderr: ${stderr.slice(0, 500)}`);
        if (Date.now() > deadline) throw new Error(`the awaited log line did not appear within ${timeoutMs} ms`);
        await sleep(20);
      }
    },
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The message a person would read for an exit: the last error or fatal line, or stderr. */
export function exitMessage(proc: CollectorProcess): string | null {
  const last = [...proc.lines].reverse().find((line) => line['level'] === 'fatal' || line['level'] === 'error');
  if (last) return String(last['message']);
  const stderr = proc.stderr().trim();
  return stderr === '' ? null : stderr;
}
