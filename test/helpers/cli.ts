/** Runs the real `amber-collector` CLI (src/cli.ts) as a child process, as a user would, and collects what it says. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * `amber-collector ARGS` with only PATH and `env` in its environment, in a neutral working directory, so no
 * developer's .env fills in what the test leaves out.
 */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: tmpdir(), env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, out, err };
}
