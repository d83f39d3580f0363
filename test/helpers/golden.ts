/**
 * Golden files: a response's shape and values kept in test/fixtures/, compared byte for byte as pretty JSON.
 * `UPDATE_GOLDEN=1` rewrites them (then read the diff before committing it); a missing file fails.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';

const FIXTURES = resolve(import.meta.dirname, '../fixtures');

export function expectGolden(relativePath: string, value: unknown): void {
  const path = join(FIXTURES, relativePath);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, text);
  if (!existsSync(path)) throw new Error(`no golden file ${relativePath}: run with UPDATE_GOLDEN=1 to write it`);
  expect(text).toBe(readFileSync(path, 'utf8'));
}
