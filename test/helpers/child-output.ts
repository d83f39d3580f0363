/**
 * Reading what a child process writes: its JSON log lines as they arrive, or all of its output once it exits.
 * Shared by the tests that run the real `amber-collector` in a process of its own.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

/** The JSON lines `stream` writes, parsed into the returned array as each line completes. */
export function collectJsonLines(stream: Readable): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  let buffer = '';
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  return lines;
}

/** Everything `child` writes to stdout and stderr, and its exit code, once it exits. */
export async function collectOutput(child: ChildProcess): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, out, err };
}
