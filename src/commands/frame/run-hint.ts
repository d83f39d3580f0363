/**
 * The "run the collector first" hint the read-only commands give before any data exists. It names the command
 * that starts the collector where this one was typed (`npm start` in a checkout, `amber-collector run` when
 * installed) and, with the embedded PostgreSQL, the data folder this command looked in, since a command run
 * from another folder finds another (empty) DATA_DIR.
 */
import { existsSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json: three levels above this file, in src/commands/frame/ as in dist/commands/frame/. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * How to start the collector, judged from how this process was started (`script`, process.argv[1]): through
 * the installed `amber-collector` command or a copy under node_modules, from a checkout (it has src/cli.ts:
 * `npm start` there), or else the file itself (`node dist/cli.js run`, as in the container).
 */
function collectorStartCommand(script: string = process.argv[1] ?? '', cwd: string = process.cwd()): string {
  if (basename(script) === 'amber-collector' || script.split(sep).includes('node_modules')) return '`amber-collector run`';
  if (existsSync(join(PACKAGE_ROOT, 'src', 'cli.ts')) && existsSync(join(PACKAGE_ROOT, 'package.json'))) {
    const root = resolve(PACKAGE_ROOT);
    return root === resolve(cwd) ? '`npm start`' : `\`npm start\` in ${root}`;
  }
  return `\`node ${relative(cwd, script) || script} run\``;
}

/**
 * "run `npm start` first: it …" plus, for the embedded database (`dataDir` set), the folder looked in. The
 * `what` says what the first run brings: the tables, the sites, the data.
 */
export function runCollectorFirst(what: string, dataDir: string | undefined): string {
  const where = dataDir === undefined ? '' : ` (this looked in the embedded PostgreSQL in ${resolve(dataDir)}: run it from the same folder, or set DATA_DIR)`;
  return `run ${collectorStartCommand()} first: ${what}${where}`;
}
