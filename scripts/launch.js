#!/usr/bin/env node
/**
 * `node scripts/launch.js FILE [ARGS...]`: runs FILE with Node on a machine that has nothing but Node and npm,
 * whatever their version. `npm test` (FILE is vitest) and `npm run demo` start this way.
 *
 * 1. Node: the project needs 22.19 or newer. An older node (a distribution's Node 20, say) installs the npm
 *    registry's `node@22` package into .cache/node22 once, and runs this script again with it, first on PATH,
 *    so that everything FILE starts uses it too.
 * 2. Dependencies: `npm ci` when node_modules lacks a package of package-lock.json, or has another version.
 * 3. `node FILE ARGS...` (`npm test -- test/config.test.ts` adds the file to vitest's arguments).
 *
 * The database needs nothing installed either: see test/helpers/global-setup.ts and src/db/embedded-postgres.ts.
 *
 * Plain JavaScript that Node 20 runs, with no dependencies: it is what makes the rest runnable.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MINIMUM_NODE = [22, 19];
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);

function say(message) {
  process.stderr.write(`launch: ${message}\n`);
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

/**
 * Whether node_modules holds every package package-lock.json asks for, at its version (npm records what it
 * installed in node_modules/.package-lock.json). Of the optional ones (other platforms' binaries, optional
 * peers) only the project's own count: the embedded PostgreSQL.
 */
function dependenciesInstalled() {
  let installed;
  try {
    installed = JSON.parse(readFileSync(join(root, 'node_modules', '.package-lock.json'), 'utf8')).packages;
  } catch {
    return false;
  }
  const wanted = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages;
  const ownOptional = new Set(Object.keys(wanted['']?.optionalDependencies ?? {}).map((name) => `node_modules/${name}`));
  return Object.entries(wanted).every(([path, meta]) => path === '' || (meta.optional && !ownOptional.has(path)) || installed[path]?.version === meta.version);
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
  if (!dependenciesInstalled()) {
    say('installing dependencies (npm ci)');
    npm(['ci', '--no-audit', '--no-fund']);
  }
  runAndExit(process.execPath, args);
}
