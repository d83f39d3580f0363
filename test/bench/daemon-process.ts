/**
 * The real daemon as a child process against the fake Amber server (no rate limit, so it runs as fast as
 * it can) and a bench database:
 *
 * - memory: peak RSS (VmHWM) through a 2-site × 2-year backfill of 5-minute, 3-channel sites (the heaviest
 *   sites Amber has: 6,048 rows per call), and RSS once it sits idle between cycles (30 s after its last API
 *   call: V8 gives unused heap back only after several quiet seconds). Twice: as the image runs it (the node
 *   flags of the Dockerfile's CMD, which `npm start` shares), and with Node's defaults to show what those
 *   flags buy. The baseline is a bare Node process doing nothing;
 * - disk: bytes per stored price and usage row, indexes and TOAST included, from that backfill's tables,
 *   against the bytes of JSON the API sent for the row;
 * - start-up: process start to the first API request, migrations already applied, for the built
 *   `dist/cli.js` (built first when missing or stale) and for `node src/cli.ts` (type stripping); the
 *   baseline is a bare Node program that sends one request.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { startFakeAmber, type FakeAmber, type RequestLogEntry } from '../fake-amber/server.ts';
import { benchSite } from './bench-collector.ts';
import { createBenchDatabase, type BenchDatabase } from './bench-database.ts';
import { daemonNodeFlags } from '../deploy/dockerfile.ts';
import { ensureBuilt, freePort, processMemory, REPO_ROOT, startBareNode, startDaemon, type ProcessMemory } from './daemon-child.ts';
import { atMost, figuresOf, median, progress, type Figure, type FigureSpec } from './figures.ts';
import type { Benchmark } from './run.ts';

const MB = 1024 * 1024;
const BACKFILL_TIMEOUT_MS = 420_000;
/** No API call for this long after the backfill: the daemon is between cycles and V8 has shrunk its heap. */
const IDLE_AFTER_MS = 30_000;
/** The daemon's node flags as the image runs it (see the Dockerfile's CMD for why). */
const IMAGE_NODE_OPTIONS = daemonNodeFlags(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')).join(' ');
const STARTUP_REPETITIONS = 5;
const ENTRIES = { dist: 'dist/cli.js', src: 'src/cli.ts' } as const;

export const daemonProcessBenchmark: Benchmark = { name: 'daemon', run };

async function run(): Promise<Figure[]> {
  progress('daemon: building dist/ if it is missing or stale');
  const buildMs = await ensureBuilt();
  const db = await createBenchDatabase('daemon');
  try {
    const bareNodeBytes = await bareNodeRss();
    const image = await measureMemory(db, IMAGE_NODE_OPTIONS);
    const disk = await measureDisk(db.pool);
    await db.pool.query('TRUNCATE price_data, usage_data, collection_state, sites CASCADE');
    const defaults = await measureMemory(db, '');
    const startup = await measureStartup(db);
    return [
      ...figuresOf('memory: the daemon (node dist/cli.js run), 2 sites × 2 years of 5-min × 3 channels', [
        ...memoryFigures(`as the image runs it (${IMAGE_NODE_OPTIONS})`, image, bareNodeBytes, true),
        ...memoryFigures('Node defaults, for comparison', defaults, bareNodeBytes, false),
        {
          name: 'backfill throughput, unthrottled (as the image runs it)',
          value: image.rows / (image.backfillMs / 1000),
          unit: 'rows/s',
          note: `${image.calls} API calls in ${Math.round(image.backfillMs / 1000)} s, one chunk at a time; fake server, daemon and PostgreSQL share the cores`,
        },
      ]),
      ...figuresOf('disk: pg_total_relation_size (heap + indexes + TOAST) per row', [
        { name: 'price row', value: disk.price.bytesPerRow, unit: 'bytes', baseline: { name: 'API JSON', value: disk.price.jsonBytesPerRow }, note: disk.price.breakdown },
        { name: 'usage row', value: disk.usage.bytesPerRow, unit: 'bytes', baseline: { name: 'API JSON', value: disk.usage.jsonBytesPerRow }, note: disk.usage.breakdown },
        {
          name: 'a year of one 5-min, 3-channel site (prices + usage)',
          value: (disk.price.bytesPerRow + disk.usage.bytesPerRow) * ROWS_PER_SITE_YEAR / 1e6,
          unit: 'MB',
          baseline: { name: 'API JSON', value: (disk.price.jsonBytesPerRow + disk.usage.jsonBytesPerRow) * ROWS_PER_SITE_YEAR / 1e6 },
          note: `${ROWS_PER_SITE_YEAR.toLocaleString('en')} rows per table`,
        },
      ]),
      ...figuresOf('start-up: process start to the first API request, migrations applied', [
        {
          name: 'node dist/cli.js run',
          value: startup.dist / 1000,
          unit: 's',
          baseline: { name: 'bare node, one request', value: startup.bare / 1000 },
          target: atMost(1.5),
          note: `median of ${STARTUP_REPETITIONS}`,
        },
        {
          name: 'node src/cli.ts run (type stripping)',
          value: startup.src / 1000,
          unit: 's',
          baseline: { name: 'bare node, one request', value: startup.bare / 1000 },
          note: `median of ${STARTUP_REPETITIONS}`,
        },
        ...(buildMs === null ? [] : [{ name: 'npm run build (dist/ was stale)', value: buildMs / 1000, unit: 's' }]),
      ]),
    ];
  } finally {
    await db.drop();
  }
}

/** Intervals per table in a year of one 5-minute site with 3 channels. */
const ROWS_PER_SITE_YEAR = 365 * 288 * 3;

function daemonEnv(fake: FakeAmber, db: BenchDatabase, historicalStartDate: string, httpPort: number): Record<string, string> {
  return {
    AMBER_API_KEY: fake.apiKey,
    AMBER_API_BASE_URL: fake.url,
    DATABASE_URL: db.url,
    HISTORICAL_START_DATE: historicalStartDate,
    COLLECTION_INTERVAL_MINUTES: '5',
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
  };
}

interface MemoryRun {
  peakBytes: number;
  idleBytes: number;
  idleFileBytes: number;
  calls: number;
  rows: number;
  backfillMs: number;
}

function memoryFigures(label: string, run: MemoryRun, bareNodeBytes: number, withTargets: boolean): FigureSpec[] {
  const bare = { name: 'bare node', value: bareNodeBytes / MB };
  return [
    {
      name: `${label}: peak RSS during the backfill (VmHWM)`,
      value: run.peakBytes / MB,
      unit: 'MB',
      baseline: bare,
      ...(withTargets ? { target: atMost(150) } : {}),
    },
    {
      name: `${label}: idle RSS between cycles`,
      value: run.idleBytes / MB,
      unit: 'MB',
      baseline: bare,
      ...(withTargets ? { target: atMost(100) } : {}),
      note: `${Math.round(run.idleFileBytes / MB)} MB of it file-backed (the node binary's pages)`,
    },
  ];
}

async function measureMemory(db: BenchDatabase, nodeOptions: string): Promise<MemoryRun> {
  const today = nemToday(new Date());
  const from = addDays(today, -730);
  const site = (n: number) =>
    benchSite({ id: `01HBENCHMEMORY00000000000${n}`, nmi: `410000002${n}`, intervalLength: 5, channels: 'all', activeFrom: addDays(from, -30) });
  // The data clock is real time here: the daemon's own clock decides what "today" is.
  const fake = await startFakeAmber({ sites: [site(1), site(2)], rateLimit: null });
  progress(`daemon: 2-site × 2-year backfill with ${nodeOptions === '' ? "Node's defaults" : nodeOptions} (about 2 minutes)`);
  const env = { ...daemonEnv(fake, db, from, await freePort()), ...(nodeOptions === '' ? {} : { NODE_OPTIONS: nodeOptions }) };
  const daemon = await startDaemon(ENTRIES.dist, env);
  try {
    const started = performance.now();
    await daemon.waitForLog('backfill finished', BACKFILL_TIMEOUT_MS);
    const backfillMs = performance.now() - started;
    const calls = fake.requests.length;
    const peakBytes = (await processMemory(daemon.pid)).peakRssBytes;
    await quietFor(fake, IDLE_AFTER_MS);
    const idle: ProcessMemory[] = [];
    for (let i = 0; i < 5; i++) {
      idle.push(await processMemory(daemon.pid));
      await sleep(1_000);
    }
    const rows = await db.pool.query<{ rows: number }>('SELECT (SELECT count(*) FROM price_data) + (SELECT count(*) FROM usage_data) AS rows');
    return {
      peakBytes,
      idleBytes: median(idle.map((m) => m.rssBytes)),
      idleFileBytes: median(idle.map((m) => m.fileRssBytes)),
      calls,
      rows: Number(rows.rows[0]?.rows ?? NaN),
      backfillMs,
    };
  } finally {
    await daemon.stop();
    await fake.close();
  }
}

/** Waits until the fake has seen no request for `ms` (a cycle in between starts the wait over). */
async function quietFor(fake: FakeAmber, ms: number): Promise<void> {
  for (;;) {
    const idleFor = performance.now() - (fake.requests.at(-1)?.at ?? 0);
    if (idleFor >= ms) return;
    await sleep(ms - idleFor);
  }
}

async function bareNodeRss(): Promise<number> {
  const bare = startBareNode('setTimeout(() => {}, 60_000)');
  try {
    await sleep(500);
    return (await processMemory(bare.child.pid ?? NaN)).rssBytes;
  } finally {
    await bare.stop();
  }
}

interface TableDisk {
  bytesPerRow: number;
  jsonBytesPerRow: number;
  breakdown: string;
}

async function measureDisk(pool: pg.Pool): Promise<{ price: TableDisk; usage: TableDisk }> {
  // What autovacuum would have done by now: the visibility and free-space maps exist, as in a live database.
  await pool.query('VACUUM (ANALYZE) price_data, usage_data');
  const table = async (name: 'price_data' | 'usage_data'): Promise<TableDisk> => {
    const result = await pool.query<{ total: string; heap: string; indexes: string; toast: string; rows: string; json: string }>(
      `SELECT pg_total_relation_size(c.oid) AS total, pg_relation_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes,
              coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast,
              (SELECT count(*) FROM ${name}) AS rows, (SELECT avg(octet_length(raw::text)) FROM ${name}) AS json
       FROM pg_class c WHERE c.oid = $1::regclass`,
      [name],
    );
    const row = result.rows[0];
    const rows = Number(row?.rows ?? NaN);
    const per = (bytes: string | undefined) => Math.round(Number(bytes ?? NaN) / rows);
    return {
      bytesPerRow: Number(row?.total ?? NaN) / rows,
      jsonBytesPerRow: Number(row?.json ?? NaN),
      breakdown: `${rows.toLocaleString('en')} rows; per row: heap ${per(row?.heap)}, indexes ${per(row?.indexes)}, TOAST ${per(row?.toast)} bytes`,
    };
  };
  return { price: await table('price_data'), usage: await table('usage_data') };
}

async function measureStartup(db: BenchDatabase): Promise<{ dist: number; src: number; bare: number }> {
  progress(`daemon: start-up, ${STARTUP_REPETITIONS} times each for dist/, src/ and bare node`);
  const today = nemToday(new Date());
  let onRequest: ((entry: RequestLogEntry) => void) | null = null;
  const fake = await startFakeAmber({
    sites: [benchSite({ id: '01HBENCHSTARTUP00000000001', nmi: '4100000031', intervalLength: 30, channels: 'general', activeFrom: addDays(today, -30) })],
    rateLimit: null,
    onRequest: (entry) => onRequest?.(entry),
  });
  const firstRequest = () => new Promise<RequestLogEntry>((resolve) => (onRequest = resolve));
  const samples = { dist: [] as number[], src: [] as number[], bare: [] as number[] };
  try {
    const env = daemonEnv(fake, db, addDays(today, -1), await freePort());
    for (let rep = 0; rep < STARTUP_REPETITIONS; rep++) {
      for (const variant of ['dist', 'src'] as const) {
        const request = firstRequest();
        const started = performance.now();
        const daemon = await startDaemon(ENTRIES[variant], env);
        try {
          samples[variant].push((await withTimeout(request, 30_000, `no request from ${ENTRIES[variant]}`)).at - started);
        } finally {
          await daemon.stop();
        }
      }
      const request = firstRequest();
      const started = performance.now();
      const bare = startBareNode("require('node:http').get(process.argv[1]).on('error', () => {})", [`${fake.url}/sites`]);
      try {
        samples.bare.push((await withTimeout(request, 30_000, 'no request from bare node')).at - started);
      } finally {
        await bare.stop();
      }
    }
    return { dist: median(samples.dist), src: median(samples.src), bare: median(samples.bare) };
  } finally {
    onRequest = null;
    await fake.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
