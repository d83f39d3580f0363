/**
 * Every npm script runs on the machine's own Node, whatever its version: each goes through scripts/launch.js,
 * which fetches Node 22 when the node is older and installs what is missing (only what running needs for the
 * collector's own scripts). And the built `dist/cli.js`, which systemd and the image run with whatever node
 * they have, refuses an old Node with one line: the version found, the version needed, what to run.
 *
 * The old Node is the machine's own (/usr/bin/node, or OLD_NODE): a real one, not a pretend version. Where the
 * machine has none older than the minimum, those tests are skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MINIMUM_NODE } from '../src/node-version.ts';
import { freshCopy, root } from './readme/newcomer.ts';

const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string }; scripts: Record<string, string> };
const oldNode = process.env['OLD_NODE'] ?? '/usr/bin/node';
const oldVersion = existsSync(oldNode) ? spawnSync(oldNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim() : '';
const isOld = (version: string): boolean => {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [needMajor = 0, needMinor = 0] = MINIMUM_NODE.split('.').map(Number);
  return version !== '' && (major < needMajor || (major === needMajor && minor < needMinor));
};
const noOldNode = !isOld(oldVersion);

describe('npm scripts', () => {
  it('every script that runs code goes through scripts/launch.js; the collector, the demo and the fake with only what running needs', () => {
    const { build, typecheck, lint, ...running } = packageJson.scripts;
    expect([build, typecheck, lint].every((script) => script !== undefined)).toBe(true);
    const launched = Object.entries(running).map(([name, script]) => [name, /^node scripts\/launch\.js( --production)? /.exec(script)?.[1] ?? (script.startsWith('node scripts/launch.js ') ? '' : 'not launched')]);
    expect(Object.fromEntries(launched)).toEqual({
      start: ' --production',
      dev: ' --production',
      cli: ' --production',
      demo: ' --production',
      'fake-amber': ' --production',
      test: '',
      'test:faults': '',
      bench: '',
    });
    // The collector runs from its TypeScript sources: nothing to build first.
    for (const name of ['start', 'dev', 'cli']) expect(packageJson.scripts[name], name).toMatch(/ src\/cli\.ts( run)?$/);
  });

  it('one minimum Node version: package.json engines, the launcher and dist/cli.js agree', () => {
    expect(packageJson.engines.node).toBe(`>=${MINIMUM_NODE}`);
  });

  it.skipIf(noOldNode || !existsSync(join(root, '.cache/node22/node_modules/.bin/node')))(
    `under the machine's old Node (${oldVersion || 'none'}), runs the script with Node 22, saying nothing when nothing is missing`,
    async () => {
      // The launcher, the lock files and the installed dependencies of this checkout, and its fetched Node 22.
      const dir = await mkdtemp(join(tmpdir(), 'amber-launch-'));
      try {
        execFileSync('mkdir', ['-p', join(dir, 'scripts'), join(dir, '.cache')]);
        for (const file of ['scripts/launch.js', 'package.json', 'package-lock.json']) await writeFile(join(dir, file), readFileSync(join(root, file)));
        await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
        await symlink(join(root, '.cache/node22'), join(dir, '.cache/node22'));
        await writeFile(join(dir, 'version.js'), 'process.stdout.write(process.versions.node + " " + process.execArgv.join(" "))\n');
        const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
        const result = spawnSync(oldNode, ['scripts/launch.js', '--production', '--max-old-space-size=128', 'version.js'], { cwd: dir, env, encoding: 'utf8' });
        expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
        const [version, flags] = result.stdout.split(' ');
        expect(isOld(version!)).toBe(false);
        expect(flags).toBe('--max-old-space-size=128');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe('dist/cli.js, as systemd runs it', () => {
  it.skipIf(noOldNode)(
    `\`npm run build\`, then under the machine's old Node (${oldVersion || 'none'}) exits 1 with one line naming both versions and what to run; under Node ${MINIMUM_NODE}+ it runs`,
    async () => {
      const dir = await freshCopy();
      const build = spawnSync('npm', ['run', 'build'], { cwd: dir, encoding: 'utf8' });
      expect(build.status, build.stderr).toBe(0);
      for (const [args, toRun] of [
        [['run'], '`npm start`'],
        [['status', '--json'], '`npm run cli -- status --json`'],
      ] as const) {
        const result = spawnSync(oldNode, ['dist/cli.js', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
        expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 1, stdout: '' });
        expect(result.stderr.split('\n')).toEqual([expect.any(String), '']);
        expect(result.stderr).toContain(`Node ${oldVersion} found`);
        expect(result.stderr).toContain(`Node ${MINIMUM_NODE} or newer needed`);
        expect(result.stderr).toContain(toRun);
      }
      const help = spawnSync(process.execPath, ['dist/cli.js', '--help'], { cwd: dir, encoding: 'utf8' });
      expect({ status: help.status, stderr: help.stderr }).toEqual({ status: 0, stderr: '' });
      expect(help.stdout).toContain('Usage: amber-collector');
    },
    120_000,
  );
});
