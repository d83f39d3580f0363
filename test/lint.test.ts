/**
 * `npm run lint` as part of the test command, so CI (which runs only the README's test command) fails when
 * the type check, ESLint or knip finds something. Each step of the script runs here with this test's own
 * Node, the way npm would run it, and must finish silently.
 */
import { execFile } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const steps = (scripts['lint'] ?? '').split('&&').map((step) => step.trim().split(/\s+/));

describe('npm run lint', () => {
  test('type-checks, then runs ESLint, then knip', () => {
    expect(steps.map(([tool]) => tool)).toEqual(['tsc', 'eslint', 'knip']);
  });

  // The three read the tree and write nothing, so they run at the same time: each waits on the disk and the
  // other test files' processes part of its time, and the file takes as long as the slowest of them.
  test.concurrent.each(steps.map((step) => [step.join(' '), step] as const))('%s passes without a finding', async (_name, [tool, ...args]) => {
    // The package's bin link, resolved to its script: run with this Node, not whichever `node` PATH has first.
    const bin = realpathSync(join(ROOT, 'node_modules', '.bin', tool!));
    const run = await new Promise<{ status: number | null; output: string }>((resolve) => {
      execFile(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }, (error, stdout, stderr) => {
        resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, output: `${stdout}${stderr}`.trim() });
      });
    });
    expect(run).toEqual({ status: 0, output: '' });
  }, 600_000); // A bound on a hang, not a speed test: on a loaded 2-core machine the three together take minutes.
});
