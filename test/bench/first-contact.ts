/**
 * `npm run bench -- first-contact`: a newcomer's first minute, measured. From a plain `git clone` of this
 * repository's HEAD, with the machine's old Node first on PATH (OLD_NODE, default /usr/bin/node),
 * an empty HOME (so npm's cache starts empty too) and no .cache:
 *
 * - `npm run demo` until its dashboard shows prices, usage, costs and the current price;
 * - `cp .env.example .env` with the key, start date and a local fake Amber's address filled in, then
 *   `npm start` until the first chunk of data is stored.
 *
 * Each from its own fresh clone and empty HOME, installs included (Node 22 fetched, production dependencies
 * installed), target 60 s each. The times at which each step began are reported beside them. The network is
 * whatever this machine has: a registry mirror nearby makes installs faster than on a typical home line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { startFakeAmber } from '../fake-amber/server.ts';
import { REPO_ROOT } from './daemon-child.ts';
import { atMost, figuresOf, progress, type Figure, type FigureSpec } from './figures.ts';
import type { Benchmark } from './run.ts';

const TARGET_SECONDS = 60;
const GIVE_UP_MS = 300_000;

export const firstContactBenchmark: Benchmark = { name: 'first-contact', onlyWhenNamed: true, run };

/** Output markers of the steps along the way, in the order they happen; the figure is when each first appears. */
const STEPS: ReadonlyArray<{ name: string; marker: RegExp }> = [
  { name: 'Node 22 fetch begins', marker: /installing Node 22/ },
  { name: 'dependency install begins', marker: /installing the dependencies/ },
  { name: 'embedded PostgreSQL ready', marker: /embedded PostgreSQL ready/ },
];

const INSTALLS_DONE = 'installs finished';

async function run(): Promise<Figure[]> {
  const oldNode = process.env['OLD_NODE'] ?? '/usr/bin/node';
  if (!existsSync(oldNode)) throw new Error(`first-contact: no old Node at ${oldNode}; set OLD_NODE`);
  const nodeVersion = spawnSync(oldNode, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const specs: FigureSpec[] = [];

  progress(`npm run demo from a fresh clone, ${oldNode} (${nodeVersion}) first on PATH, empty HOME`);
  const demo = await newcomer(oldNode, async () => ({ command: 'npm run demo', env: {} }), dashboardPopulated);
  specs.push(...figuresFor('npm run demo: clone to a populated dashboard', demo, nodeVersion));

  progress('npm start from a fresh clone against a local fake Amber');
  const fake = await startFakeAmber({ rateLimit: { limit: 10, windowSeconds: 2 } });
  try {
    const start = await newcomer(
      oldNode,
      async (dir) => {
        // `cp .env.example .env`, then the key, the start date and where the (fake) API is.
        const example = await readFile(join(dir, '.env.example'), 'utf8');
        await writeFile(
          join(dir, '.env'),
          example
            .replace(/^AMBER_API_KEY=.*$/m, `AMBER_API_KEY=${fake.apiKey}`)
            .replace(/^HISTORICAL_START_DATE=.*$/m, `HISTORICAL_START_DATE=${addDays(nemToday(new Date()), -7)}`) +
            `AMBER_API_BASE_URL=${fake.url}\nHTTP_PORT=0\n`,
        );
        return { command: 'npm start', env: {} };
      },
      async (output) => /backfill chunk stored/.test(output),
    );
    specs.push(...figuresFor('npm start: clone to the first stored data', start, nodeVersion));
  } finally {
    await fake.close();
  }
  return figuresOf('first contact', specs);
}

interface Timeline {
  totalSeconds: number;
  steps: Array<{ name: string; seconds: number }>;
}

function figuresFor(name: string, timeline: Timeline, nodeVersion: string): FigureSpec[] {
  return [
    {
      name,
      value: timeline.totalSeconds,
      unit: 's',
      target: atMost(TARGET_SECONDS),
      note: `plain clone, Node ${nodeVersion} first on PATH, empty HOME and npm cache, installs included`,
    },
    ...timeline.steps.map((step) => ({ name: `  ${step.name} at`, value: step.seconds, unit: 's' })),
  ];
}

/**
 * A fresh clone in a folder of its own, `prepare` run in it, then the command in a shell of a newcomer's
 * environment, until `done(output)`; the time from the command's start, then Ctrl-C and everything removed.
 */
async function newcomer(
  oldNode: string,
  prepare: (dir: string) => Promise<{ command: string; env: Record<string, string> }>,
  done: (output: string) => Promise<boolean>,
): Promise<Timeline> {
  const parent = await mkdtemp(join(tmpdir(), 'amber-first-contact-'));
  // A root collector's PostgreSQL runs as another user, who must pass through to ./data.
  await chmod(parent, 0o711);
  try {
    const dir = join(parent, 'amber-collector');
    const home = join(parent, 'home');
    spawnSync('git', ['clone', '--quiet', REPO_ROOT, dir], { stdio: 'inherit' });
    await mkdir(home);
    const { command, env } = await prepare(dir);
    const child = spawn('sh', ['-c', command], { cwd: dir, env: { ...newcomerEnv(oldNode, home), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const exited = once(child, 'exit');
    let output = '';
    const seen = new Map<string, number>();
    const started = performance.now();
    let installs = 0;
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      const at = (performance.now() - started) / 1000;
      for (const step of STEPS) if (!seen.has(step.name) && step.marker.test(output)) seen.set(step.name, at);
      // npm's "added N packages" closes each install (Node 22, the dependencies): the last one is when both are done.
      const finished = output.match(/^added \d+ packages?/gm)?.length ?? 0;
      if (finished > installs) {
        installs = finished;
        seen.set(INSTALLS_DONE, at);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    try {
      for (;;) {
        if (await done(output).catch(() => false)) break;
        if (child.exitCode !== null) throw new Error(`\`${command}\` exited ${child.exitCode}:\n${output.slice(-3000)}`);
        if (performance.now() - started > GIVE_UP_MS) throw new Error(`\`${command}\`: not done within ${GIVE_UP_MS / 1000} s:\n${output.slice(-3000)}`);
        await sleep(250);
      }
      const totalSeconds = (performance.now() - started) / 1000;
      const names = [...STEPS.map((step) => step.name), INSTALLS_DONE].filter((name) => seen.has(name));
      return { totalSeconds, steps: names.map((name) => ({ name, seconds: seen.get(name)! })).sort((a, b) => a.seconds - b.seconds) };
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup(child.pid!, 'SIGINT');
        await Promise.race([exited, sleep(30_000)]);
        signalGroup(child.pid!, 'SIGKILL');
      }
    }
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

/** A signal to every process of the group that `pid` leads, if any is left. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone already.
  }
}

/**
 * What a newcomer's shell has: the old Node's folder first on PATH, an empty HOME, and nothing of this run's
 * npm (its `npm_*` variables would point the clone's npm at this machine's cache and this checkout).
 */
function newcomerEnv(oldNode: string, home: string): Record<string, string> {
  const inherited = Object.entries(process.env).filter(([key]) => !/^npm_|^NODE_OPTIONS$|^TEST_DATABASE_URL$|^BENCH_/i.test(key));
  const path = (process.env['PATH'] ?? '').split(':').filter((entry) => !entry.includes('node22') && !entry.includes('node_modules'));
  return { ...Object.fromEntries(inherited), HOME: home, PATH: [dirname(oldNode), ...path].join(':'), LOG_LEVEL: 'info' } as Record<string, string>;
}

/** The demo's dashboard, once printed, shows prices, usage, costs and the current price. */
async function dashboardPopulated(output: string): Promise<boolean> {
  const address = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
  if (!address) return false;
  const get = async (path: string): Promise<any> => (await fetch(`${address}${path}`)).json();
  const { sites } = await get('api/sites');
  const site = sites.find((s: { status: string }) => s.status === 'active')?.id as string | undefined;
  if (!site) return false;
  const [prices, usage, costs, now] = await Promise.all([get(`api/prices?site=${site}`), get(`api/usage?site=${site}`), get(`api/costs?site=${site}`), get(`api/prices/current?site=${site}`)]);
  return (
    JSON.stringify(prices).includes('"perKwh":') &&
    JSON.stringify(usage).includes('"kwh":') &&
    costs.days.some((day: { netDollars: number | null }) => day.netDollars !== null) &&
    now.channels.every((channel: { current: unknown; latestActual: unknown }) => channel.current ?? channel.latestActual)
  );
}
