/**
 * Refuses, in one line, a Node too old for the collector, before anything that would crash on it is loaded.
 * `cli.ts` imports this module first: ES modules run in import order, so this check runs before any other
 * module of the command is evaluated (undici 8, for one, fails on Node 20 with an error that names no
 * version). It imports nothing, so it runs on any Node.
 */

/** The oldest Node that runs the collector: undici 8's minimum, and the first Node 22 that runs `.ts` files. */
export const MINIMUM_NODE = '22.19';

function isRecentEnough(version: string, minimum: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [needMajor = 0, needMinor = 0] = minimum.split('.').map(Number);
  return major > needMajor || (major === needMajor && minor >= needMinor);
}

if (!isRecentEnough(process.versions.node, MINIMUM_NODE)) {
  // What to type instead: from a checkout the npm scripts fetch Node 22 themselves (scripts/launch.js).
  const command = process.argv[2] ?? 'run';
  const fromCheckout = command === 'run' ? 'npm start' : `npm run cli -- ${process.argv.slice(2).join(' ')}`;
  process.stderr.write(
    `amber-collector: Node ${process.versions.node} found (${process.execPath}), Node ${MINIMUM_NODE} or newer needed: ` +
      `from a checkout run \`${fromCheckout}\` (it fetches Node 22 itself), or install Node 22 (https://nodejs.org).\n`,
  );
  process.exit(1);
}
