/**
 * The test suite is self-contained: everything a test reads is in the repository, so a plain clone with
 * nothing beside it runs it. Paths built from `import.meta.url` stay inside the repository, no file names an
 * absolute path of the machine it was written on, and the Amber reference data every test names is in
 * test/fixtures/amber/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { amberFixturePath } from './helpers/amber-fixtures.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SELF = relative(ROOT, import.meta.filename);

/** Tracked code and configuration (not the fixtures themselves, which quote where they were copied from). */
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((file) => /\.(ts|js|mjs|json|ya?ml)$|^Dockerfile$|^\.ci\//.test(file) && !file.startsWith('test/fixtures/') && file !== SELF && existsSync(join(ROOT, file)))
  .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

const isInside = (path: string): boolean => !relative(ROOT, path).startsWith('..');

describe('the test suite needs nothing outside the repository', () => {
  it('every path a file builds from its own location stays inside the repository', () => {
    const outside = files.flatMap(({ file, text }) =>
      [...text.matchAll(/new URL\(\s*['`](\.{1,2}\/[^'`$]*)['`]\s*,\s*import\.meta\.url\s*\)/g)]
        .map((m) => ({ file, target: m[1]! }))
        .filter(({ target }) => !isInside(resolve(dirname(join(ROOT, file)), target))),
    );
    expect(outside).toEqual([]);
  });

  it('no file names a folder of the machine it was written on, or a variable pointing at one', () => {
    const machinePaths = files.filter(({ text }) => /['"`]\/(work|home|root|Users)\//.test(text) || /AMBER_SHARED_DIR/.test(text)).map(({ file }) => file);
    expect(machinePaths).toEqual([]);
  });

  it('the Amber reference data the tests name is in test/fixtures/amber', () => {
    const named = new Set(files.flatMap(({ text }) => [...text.matchAll(/['`]([\w.-]+\.json)['`]/g)].map((m) => m[1]!)));
    const payloads = [...named].filter((name) => /^(live|issue|sdk1x|rust|ha-core|amber-express)-/.test(name));
    expect(payloads.length).toBeGreaterThan(5);
    expect(payloads.filter((name) => !existsSync(amberFixturePath('payloads', name)))).toEqual([]);
    expect(existsSync(amberFixturePath('openapi.yaml'))).toBe(true);
  });
});
