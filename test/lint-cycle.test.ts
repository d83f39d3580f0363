/**
 * The ESLint import-cycle rule can fail: a two-file cycle planted in a temporary copy of the project's lint
 * setup (its ESLint config, tsconfig and package.json, with the shared node_modules) must make ESLint report
 * `import-x/no-cycle`. Without resolver and extension settings for `.ts` the rule resolves nothing and passes
 * everything, which is how it once died silently.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const copy = mkdtempSync(join(tmpdir(), 'amber-lint-cycle-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

function eslint(...files: string[]): { status: number | null; output: string } {
  const bin = realpathSync(join(ROOT, 'node_modules', '.bin', 'eslint'));
  const run = spawnSync(process.execPath, [bin, ...files], { cwd: copy, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('the ESLint import-cycle rule', () => {
  for (const file of ['eslint.config.js', 'tsconfig.json', 'package.json']) copyFileSync(join(ROOT, file), join(copy, file));
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(copy, 'node_modules'), 'dir');
  mkdirSync(join(copy, 'src'));
  writeFileSync(join(copy, 'src', 'first.ts'), "// One side of a planted cycle.\nimport { second } from './second.ts';\nexport const first = second + 1;\n");
  writeFileSync(join(copy, 'src', 'second.ts'), "// The other side.\nimport { first } from './first.ts';\nexport const second = 1;\nexport const both = (): number => first + second;\n");
  writeFileSync(join(copy, 'src', 'leaf.ts'), "// No cycle here.\nimport { second } from './second.ts';\nexport const leaf = second;\n");

  test('fails on a two-file cycle, at both ends, and not on a file that merely imports into it', () => {
    const run = eslint('src/first.ts', 'src/second.ts', 'src/leaf.ts');
    expect(run.status).toBe(1);
    expect(run.output.match(/Dependency cycle detected\s+import-x\/no-cycle/g)).toHaveLength(2);
    expect(run.output).toMatch(/first\.ts/);
    expect(run.output).toMatch(/second\.ts/);
    expect(run.output).not.toMatch(/leaf\.ts/);
  }, 120_000);
});
