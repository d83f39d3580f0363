/**
 * `npm run fake-amber` as a person uses it: the lines it prints, pasted into `.env`, are a configuration the
 * collector accepts and that points at the running server.
 */
import { spawn } from 'node:child_process';
import dotenv from 'dotenv';
import { expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../src/config/config.ts';

const cli = new URL('./cli.ts', import.meta.url).pathname;

it('prints its .env snippet as separate lines that make a valid configuration pointing at it', async () => {
  const child = spawn(process.execPath, [cli], { env: { PATH: process.env['PATH'] ?? '', FAKE_AMBER_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  onTestFinished(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (!/^HISTORICAL_START_DATE=/m.test(output) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

  // Everything printed, pasted into .env as it is: the snippet's lines must stand on their own.
  const settings = dotenv.parse(output);
  expect(Object.keys(settings).sort()).toEqual(['AMBER_API_BASE_URL', 'AMBER_API_KEY', 'HISTORICAL_START_DATE']);
  const config = parseConfig(settings);
  expect(config.amber.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  const sites = await fetch(`${config.amber.baseUrl}/sites`, { headers: { authorization: `Bearer ${config.amber.apiKey}` } });
  expect(sites.status).toBe(200);
});
