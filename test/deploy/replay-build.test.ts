/**
 * Runs test/deploy/replay-build.ts: the Dockerfile's build steps replayed without Docker, then the built app
 * started and probed. Slow (npm ci twice: about 20 s with a warm npm cache, longer with a cold one), so it
 * runs only with RUN_DEPLOY_REPLAY=1.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, inject, it } from 'vitest';

describe.runIf(process.env['RUN_DEPLOY_REPLAY'] === '1')('the Dockerfile replayed without Docker', () => {
  it('builds, starts as an unprivileged user, answers health, readiness and metrics, and stops on SIGTERM', { timeout: 600_000 }, async () => {
    const script = new URL('./replay-build.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, TEST_DATABASE_URL: inject('databaseUrl') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(output.trim().split('\n').at(-1), output).toMatch(/^\[.*\] replay ok/);
    expect(code, output).toBe(0);
  });
});
