/**
 * `npm run demo` as a person meets it: the dashboard's address is printed when it answers and again once the
 * backfill is done (by then the log has scrolled the first one away), and Ctrl-C says what it removed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { expect, it, onTestFinished } from 'vitest';

const demo = new URL('./demo.ts', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

it('prints the dashboard address again when the backfill finishes, and on Ctrl-C says what it removed', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [demo], { env: { PATH: process.env['PATH'] ?? '', DEMO_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    if (child.exitCode === null) child.kill('SIGINT');
    await exited;
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 150_000;
  while (output.split(url).length < 3) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the address was not printed twice; output:\n${output.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The second time is after the backfill's last line, with the address on the same line as the news.
  const finishedAt = output.indexOf('backfill finished');
  expect(finishedAt).toBeGreaterThan(0);
  expect(output.slice(finishedAt)).toContain(`the 14 days of history are in. The dashboard: ${url}`);

  const dataDir = /embedded PostgreSQL in (\S+) \(removed when you stop\)/.exec(output)?.[1];
  expect(dataDir).toBeDefined();
  expect(existsSync(dataDir!)).toBe(true);
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain(`amber-collector demo stopped. Removed: ${dataDir}, the embedded PostgreSQL with every price, usage and`);
  expect(output).toContain('The fake Amber API is stopped.');
  expect(existsSync(dataDir!)).toBe(false);
}, 200_000);
