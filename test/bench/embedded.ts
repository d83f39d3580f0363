/**
 * The embedded PostgreSQL (no DATABASE_URL): the real daemon (`node src/cli.ts run`) as a child process against
 * the fake Amber server, with a DATA_DIR of its own.
 *
 * - first start: process start to the first API request, initdb included (target 5 s);
 * - later starts: the same on the existing cluster (target 2 s), against the baseline of the same daemon on
 *   an external server (the bench database), migrations applied in both;
 * - memory of the embedded server once the backfill is done: the proportional set size (PSS) of all its
 *   processes, so that the shared buffers every backend maps count once.
 */
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { startFakeAmber, type RequestLogEntry } from '../fake-amber/server.ts';
import { benchSite } from './bench-collector.ts';
import { createBenchDatabase } from './bench-database.ts';
import { freePort, startDaemon } from './daemon-child.ts';
import { atMost, figuresOf, median, progress, type Figure } from './figures.ts';
import type { Benchmark } from './run.ts';

const MB = 1024 * 1024;
const LATER_STARTS = 3;
const ENTRY = 'src/cli.ts';

export const embeddedPostgresBenchmark: Benchmark = { name: 'embedded', run };

async function run(): Promise<Figure[]> {
  const today = nemToday(new Date());
  let onRequest: ((entry: RequestLogEntry) => void) | null = null;
  const fake = await startFakeAmber({
    sites: [benchSite({ id: '01HBENCHEMBEDDED000000001', nmi: '4100000041', intervalLength: 30, channels: 'general', activeFrom: addDays(today, -30) })],
    rateLimit: null,
    onRequest: (entry) => onRequest?.(entry),
  });
  const firstRequest = () => new Promise<RequestLogEntry>((resolve) => (onRequest = resolve));
  const parent = await mkdtemp(join(tmpdir(), 'amber-bench-embedded-'));
  // A root daemon's PostgreSQL runs as an unprivileged user, who must pass through to DATA_DIR.
  await chmod(parent, 0o711);
  const db = await createBenchDatabase('embedded');
  try {
    const base = {
      AMBER_API_KEY: fake.apiKey,
      AMBER_API_BASE_URL: fake.url,
      HISTORICAL_START_DATE: addDays(today, -7),
      HTTP_PORT: String(await freePort()),
      LOG_FORMAT: 'json',
    };
    const embedded = { ...base, DATA_DIR: join(parent, 'data') };

    /** Process start to the first API request, then waits for `waitFor` before stopping. */
    const timeStart = async (env: Record<string, string>, waitFor: string, whileRunning?: () => Promise<void>): Promise<number> => {
      const request = firstRequest();
      const started = performance.now();
      const daemon = await startDaemon(ENTRY, env);
      try {
        const elapsed = (await request).at - started;
        await daemon.waitForLog(waitFor, 120_000);
        await whileRunning?.();
        return elapsed;
      } finally {
        await daemon.stop();
      }
    };

    progress('embedded: first start (initdb), then the backfill');
    let serverMemory = NaN;
    const first = await timeStart(embedded, 'backfill finished', async () => {
      serverMemory = await embeddedServerPss(join(parent, 'data'));
    });
    progress(`embedded: ${LATER_STARTS} later starts, and as many on the external server`);
    const later: number[] = [];
    const external: number[] = [];
    for (let i = 0; i < LATER_STARTS; i++) {
      later.push(await timeStart(embedded, 'cycle finished'));
      external.push(await timeStart({ ...base, DATABASE_URL: db.url }, 'cycle finished'));
    }
    const baseline = { name: 'same daemon, external PostgreSQL', value: median(external) / 1000 };
    return figuresOf('embedded PostgreSQL (no DATABASE_URL): process start to the first API request', [
      { name: 'first start, initdb included', value: first / 1000, unit: 's', baseline, target: atMost(5) },
      { name: `later starts (median of ${LATER_STARTS})`, value: median(later) / 1000, unit: 's', baseline, target: atMost(2) },
      {
        name: 'embedded server memory after a 1-site backfill',
        value: serverMemory / MB,
        unit: 'MB',
        note: 'PSS summed over the postmaster and its children (shared buffers counted once)',
      },
    ]);
  } finally {
    onRequest = null;
    await fake.close();
    await db.drop();
    await rm(parent, { recursive: true, force: true });
  }
}

/** PSS of the server named by postmaster.pid and of every process whose parent it is. */
async function embeddedServerPss(dataDir: string): Promise<number> {
  const postmaster = Number((await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) !== postmaster && parent !== postmaster) continue;
      const rollup = await readFile(`/proc/${entry}/smaps_rollup`, 'utf8');
      total += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}
