/**
 * Read load against a collecting daemon: the daemon (runDaemon, cycles every few seconds) against the fake
 * Amber server, and in a separate process N clients pulling a long range of hourly prices from the read
 * API for a while, plus a /readyz probe every 250 ms. First the same probe without clients, the baseline.
 * What must hold under load: /readyz stays 200, every cycle starts on its schedule, reads get only 200,
 * 429 or 503 (with Retry-After), and the stored data still equals the fake server's.
 *
 * `npm run bench -- read-load` runs it with 48 clients and a year of prices for 30 s;
 * test/http/read-load.test.ts with a few clients and weeks.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { parseConfig } from '../../src/config/config.ts';
import { runDaemon } from '../../src/daemon.ts';
import { readCollectionStates } from '../../src/db/collection-state.ts';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { startFakeAmber } from '../fake-amber/server.ts';
import { captureLogger, type CapturedLogger } from '../helpers/capture-logger.ts';
import { diffPrices, diffUsage } from '../helpers/ground-truth.ts';
import { benchSite } from './bench-collector.ts';
import { createBenchDatabase } from './bench-database.ts';
import { atLeast, atMost, figuresOf, progress, type Figure } from './figures.ts';
import type { ClientTally } from './read-load-clients.ts';
import type { Benchmark } from './run.ts';

export interface ReadLoadOptions {
  clients: number;
  durationMs: number;
  /** Days of history collected before the load starts; the clients ask for all of it at window=1h. */
  historyDays: number;
  /** Seconds between cycles (a divisor of 60). */
  cycleSeconds: number;
  /** How long the baseline probe (no clients) runs. */
  baselineMs: number;
}

export interface Schedule {
  /** Cycle start times the cron schedule had within the window. */
  due: number;
  /** Of those, how many a cycle started for within one second. */
  onTime: number;
  /** Latest start after its slot, in ms. */
  maxLatenessMs: number;
  /** Ticks skipped because a cycle was still running, or missed because the process was blocked. */
  skippedOrMissed: number;
  failed: number;
}

export interface Phase {
  tally: ClientTally;
  schedule: Schedule;
}

export interface ReadLoadResult {
  baseline: Phase;
  load: Phase;
  /** Rows missing, extra or different from the fake server's truth, over every stream. */
  discrepancies: number;
  storedRows: number;
}

const BENCH_OPTIONS: ReadLoadOptions = { clients: 48, durationMs: 30_000, historyDays: 365, cycleSeconds: 5, baselineMs: 10_000 };

export const readLoadBenchmark: Benchmark = { name: 'read-load', run: benchmark };

async function benchmark(): Promise<Figure[]> {
  const { clients, durationMs, historyDays, cycleSeconds, baselineMs } = BENCH_OPTIONS;
  const db = await createBenchDatabase('readload');
  try {
    progress(`read-load: backfilling ${historyDays} days, then ${baselineMs / 1000} s without clients and ${durationMs / 1000} s with ${clients}`);
    const result = await measureReadLoad(db, BENCH_OPTIONS);
    const noClients = (value: number) => ({ name: 'no clients', value });
    const { load } = result;
    const readyzShare = (phase: Phase) => (100 * (phase.tally.readyz['200'] ?? 0)) / total(phase.tally.readyz);
    const onTimeShare = (phase: Phase) => (phase.schedule.due === 0 ? 0 : (100 * phase.schedule.onTime) / phase.schedule.due);
    const unexpected = Object.entries(load.tally.reads).filter(([code]) => !['200', '429', '503'].includes(code));
    return figuresOf(`read load: ${clients} clients pulling ${historyDays} days of hourly prices for ${durationMs / 1000} s, cycles every ${cycleSeconds} s`, [
      { name: '/readyz answering 200', value: readyzShare(load), unit: '%', baseline: noClients(readyzShare(result.baseline)), target: atLeast(95), note: `${total(load.tally.readyz)} probes, every 250 ms` },
      {
        name: 'cycles starting within 1 s of their slot',
        value: onTimeShare(load),
        unit: '%',
        baseline: noClients(onTimeShare(result.baseline)),
        target: atLeast(100),
        note: `${load.schedule.onTime} of ${load.schedule.due}; ${load.schedule.skippedOrMissed} skipped or missed, ${load.schedule.failed} failed`,
      },
      { name: 'latest cycle start after its slot', value: load.schedule.maxLatenessMs, unit: 'ms', baseline: noClients(result.baseline.schedule.maxLatenessMs) },
      { name: 'reads answered 200', value: (load.tally.reads['200'] ?? 0) / (durationMs / 1000), unit: 'req/s', note: `status counts ${JSON.stringify(load.tally.reads)}` },
      { name: 'read responses other than 200, 429, 503', value: unexpected.reduce((sum, [, n]) => sum + n, 0) + load.tally.unavailableWithoutRetryAfter, unit: 'responses', target: atMost(0), note: '503s without Retry-After count too' },
      { name: 'stored rows differing from the fake server', value: result.discrepancies, unit: 'rows', target: atMost(0), note: `${result.storedRows} rows compared` },
    ]);
  } finally {
    await db.drop();
  }
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

const CLIENTS_SCRIPT = fileURLToPath(new URL('./read-load-clients.ts', import.meta.url));
const ON_TIME_MS = 1_000;

export async function measureReadLoad(database: { url: string; pool: pg.Pool }, options: ReadLoadOptions): Promise<ReadLoadResult> {
  const today = nemToday(new Date());
  const from = addDays(today, -options.historyDays);
  const site = benchSite({ id: '01HBENCHREADLOAD0000000000', nmi: '4100000099', intervalLength: 30, channels: 'general', activeFrom: addDays(from, -30) });
  const fake = await startFakeAmber({ rateLimit: null, sites: [site] });
  const log = captureLogger();
  const stop = new AbortController();
  const config = parseConfig({
    AMBER_API_KEY: fake.apiKey,
    AMBER_API_BASE_URL: fake.url,
    DATABASE_URL: database.url,
    HISTORICAL_START_DATE: from,
    AMBER_RATE_LIMIT: '100000;w=1',
  });
  const running = runDaemon({ ...config, http: { ...config.http, port: 0 } }, log.logger, stop.signal, {
    cycleCron: `*/${options.cycleSeconds} * * * * *`,
  });
  running.catch(() => {});
  try {
    const port = (await log.waitFor('HTTP server listening'))['port'] as number;
    await log.waitFor('backfill finished', 600_000);
    await log.waitFor('cycle finished', 60_000);
    const base = `http://127.0.0.1:${port}`;
    const path = `/api/prices?site=${site.id}&from=${from}&to=${today}&window=1h&channel=general`;
    const baseline = await phase(log, options.cycleSeconds, () => runClients(base, path, 0, options.baselineMs));
    const load = await phase(log, options.cycleSeconds, () => runClients(base, path, options.clients, options.durationMs));
    stop.abort();
    await running;
    let discrepancies = 0;
    let storedRows = 0;
    for (const state of await readCollectionStates(database.pool)) {
      if (state.collectedThrough === null) continue;
      const diff = await (state.dataType === 'price' ? diffPrices : diffUsage)(database.pool, fake, state.siteId, state.backfillFrom, state.collectedThrough);
      discrepancies += diff.missing.length + diff.extra.length + diff.wrong.length;
      storedRows += diff.stored;
    }
    return { baseline, load, discrepancies, storedRows };
  } finally {
    stop.abort();
    await running.catch(() => {});
    await fake.close();
  }
}

async function phase(log: CapturedLogger, cycleSeconds: number, work: () => Promise<ClientTally>): Promise<Phase> {
  const started = Date.now();
  const tally = await work();
  const ended = Date.now();
  // Cycles that started in the window have finished a moment later; wait for the last one's line.
  await new Promise((resolve) => setTimeout(resolve, cycleSeconds * 1000));
  return { tally, schedule: scheduleOf(log.lines, started, ended, cycleSeconds * 1000) };
}

function runClients(base: string, path: string, clients: number, durationMs: number): Promise<ClientTally> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENTS_SCRIPT, base, path, String(clients), String(durationMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      output += text;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as ClientTally) : reject(new Error(`read-load clients exited ${code}`))));
  });
}

/** The cron slots in [from, to) against the cycles the log says started, skipped, missed or failed. */
function scheduleOf(lines: ReadonlyArray<Record<string, unknown>>, from: number, to: number, everyMs: number): Schedule {
  const at = (line: Record<string, unknown>) => line['time'] as number;
  const starts = lines.filter((l) => l['message'] === 'cycle finished').map((l) => at(l) - (l['durationMs'] as number));
  const slots: number[] = [];
  for (let slot = Math.ceil(from / everyMs) * everyMs; slot < to; slot += everyMs) slots.push(slot);
  let onTime = 0;
  let maxLatenessMs = 0;
  for (const slot of slots) {
    const start = starts.find((s) => s >= slot - 50 && s < slot + everyMs);
    if (start === undefined) continue;
    maxLatenessMs = Math.max(maxLatenessMs, start - slot);
    if (start - slot <= ON_TIME_MS) onTime += 1;
  }
  const inWindow = (line: Record<string, unknown>) => at(line) >= from && at(line) < to + everyMs;
  const skippedOrMissed = lines.filter(
    (l) => inWindow(l) && (l['message'] === 'previous cycle still running; skipping this tick' || l['message'] === 'a cycle was missed (the process was paused or busy); the next one catches up'),
  ).length;
  const failed = lines.filter((l) => inWindow(l) && l['message'] === 'cycle failed; the next cycle tries again').length;
  return { due: slots.length, onTime, maxLatenessMs, skippedOrMissed, failed };
}
