#!/usr/bin/env node
/**
 * `npm test`: runs the test suite on a machine that has nothing but Node and npm, whatever their version.
 *
 * 1. Node: the project needs 22.19 or newer. An older node (a distribution's Node 20, say) installs the npm
 *    registry's `node@22` package into .cache/node22 once, and runs this script again with it, first on PATH,
 *    so that everything the tests start uses it too.
 * 2. Dependencies: `npm ci` when node_modules is missing or older than package-lock.json.
 * 3. `vitest run` with this script's arguments (`npm test -- test/config.test.ts`).
 *
 * The test database needs nothing installed either: see test/helpers/global-setup.ts.
 *
 * Plain JavaScript that Node 20 runs, with no dependencies: it is what makes the rest runnable.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MINIMUM_NODE = [22, 19];
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);

function say(message) {
  process.stderr.write(`npm test: ${message}\n`);
}

function isRecentEnough(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor >= MINIMUM_NODE[1]);
}

/** npm as the running node runs it: the npm that started this script, else the one on PATH. */
function npm(npmArgs) {
  const npmCli = process.env.npm_execpath;
  const [command, commandArgs] = npmCli && /\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli, ...npmArgs]] : ['npm', npmArgs];
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    say(`\`npm ${npmArgs.join(' ')}\` failed${result.error ? `: ${result.error.message}` : ''}`);
    process.exit(result.status || 1);
  }
}

/** Runs `command` with inherited stdio, forwarding stop signals, and exits as it exits. */
function runAndExit(command, commandArgs, env = process.env) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    process.exit(code ?? 1);
  });
}

if (!isRecentEnough(process.versions.node)) {
  const prefix = join(root, '.cache', 'node22');
  const bin = join(prefix, 'node_modules', '.bin');
  if (!existsSync(join(bin, 'node'))) {
    say(`Node ${process.versions.node} is older than ${MINIMUM_NODE.join('.')}: installing Node 22 from the npm registry into .cache/node22 (once)`);
    // The package's install script fetches the binary for this platform: npm's install-script policy must allow it.
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), `${JSON.stringify({ private: true, allowScripts: { node: true } }, null, 2)}\n`);
    npm(['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', 'node@22']);
  }
  runAndExit(join(bin, 'node'), [fileURLToPath(import.meta.url), ...args], { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` });
} else {
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs) {
    say('installing dependencies (npm ci)');
    npm(['ci', '--no-audit', '--no-fund']);
  }
  runAndExit(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...args]);
}
