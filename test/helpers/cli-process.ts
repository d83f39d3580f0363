/**
 * `amber-collector <args>` as a process of its own (`node src/cli.ts`), with the environment and working
 * directory a test gives it, stdin piped in when given; its exit status and everything it wrote.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export async function runCli(args: string[], options: { env: Record<string, string | undefined>; cwd: string; stdin?: Buffer }): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(options.stdin);
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: Buffer.concat(stdout), stderr };
}
