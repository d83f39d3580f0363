/**
 * The battery worker in a real daemon (`node dist/cli.js run` with the image's node flags): how long a
 * year-long what-if takes over a forecast archive shaped as the API sends it and at the README's densities
 * (generated in SQL, test/helpers/forecast-archive-sql.ts: 5-minute forecasts for the next hour and 30-minute
 * ones after, compacted but for the last 7 days), and /healthz latency sampled every 100 ms while it
 * runs, side by side with /healthz at idle in the same run. The calculation runs in its own thread, so
 * /healthz should not notice it.
 */
import pg from 'pg';
import type { BatteryParams } from '../../src/battery/model.ts';
import type { NemDate } from '../../src/domain/models.ts';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { runBatteryJob } from '../../src/http/battery-thread.ts';
import { selectSites } from '../../src/query/site-selection.ts';
import { ARCHIVE_SITE, seedForecastArchive } from '../helpers/forecast-archive-sql.ts';
import { createBenchDatabase } from './bench-database.ts';
import { IMAGE_NODE_OPTIONS, startDaemonAsImage } from '../helpers/daemon-as-image.ts';
import { ensureBuilt } from './daemon-child.ts';
import { atMost, figuresOf, progress, type Figure } from './figures.ts';
import type { Benchmark } from './run.ts';

const DAYS = 366;
const IDLE_PROBES = 100;
/** The daemon's built-in defaults (BATTERY_* unset), which the request above ran with. */
const BATTERY_DEFAULTS: BatteryParams = { capacityKwh: 13.5, chargeKw: 5, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null };
const PROBE_EVERY_MS = 100;

export const batteryWorkerBenchmark: Benchmark = { name: 'battery-worker', run };

async function run(): Promise<Figure[]> {
  await ensureBuilt();
  const db = await createBenchDatabase('batteryworker');
  try {
    const to = addDays(nemToday(new Date()), -1);
    const from = addDays(to, -(DAYS - 1));
    progress(`battery-worker: generating ${DAYS} days of prices, usage and forecasts in SQL`);
    const forecastRows = await seedForecastArchive(db.pool, from, to);
    const { daemon, base } = await startDaemonAsImage('dist/cli.js', db.url, from);
    try {
      progress('battery-worker: /healthz at idle');
      const idle: number[] = [];
      for (let i = 0; i < IDLE_PROBES; i++) idle.push(await probe(base));
      progress('battery-worker: a year-long what-if, /healthz sampled meanwhile');
      const during: number[] = [];
      const started = performance.now();
      let running = true;
      const answer = fetch(`${base}/api/battery/what-if?site=${ARCHIVE_SITE.id}&from=${from}&to=${to}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: string } }));
      void answer.finally(() => (running = false));
      while (running) during.push(await probe(base));
      const { status, body } = await answer;
      const seconds = (performance.now() - started) / 1000;
      progress('battery-worker: the same what-if in the worker thread without the deadline');
      const whole = await wholeWhatIf(db.url, from, to);
      const idleOf = (q: number) => ({ name: 'idle', value: percentile(idle, q) });
      return figuresOf(`battery worker: a ${DAYS}-day what-if in the daemon (${IMAGE_NODE_OPTIONS}), ${forecastRows.toLocaleString('en')} archived forecasts`, [
        {
          name: 'year-long what-if, request to answer',
          value: seconds,
          unit: 's',
          target: atMost(120),
          note: status === 200 ? 'answered 200' : `answered ${status}: ${body.error ?? ''}`,
        },
        {
          name: 'year-long what-if in the worker thread, without the deadline',
          value: whole.seconds,
          unit: 's',
          note: `the same request's calculation run to the end (${whole.intervals.toLocaleString('en')} intervals, forecast-driven over ${(100 * whole.coveredShare).toFixed(0)}% of them), outside the daemon`,
        },
        { name: '/healthz p50 during the what-if', value: percentile(during, 0.5), unit: 'ms', baseline: idleOf(0.5) },
        { name: '/healthz p95 during the what-if', value: percentile(during, 0.95), unit: 'ms', baseline: idleOf(0.95), target: atMost(100) },
        {
          name: '/healthz max during the what-if',
          value: Math.max(...during),
          unit: 'ms',
          baseline: { name: 'idle', value: Math.max(...idle) },
          note: `${during.length} probes during, ${idle.length} at idle, one every ${PROBE_EVERY_MS} ms`,
        },
      ]);
    } finally {
      await daemon.stop();
    }
  } finally {
    await db.drop();
  }
}

/** The year's what-if through runBatteryJob, as the daemon runs it but with time to finish. */
async function wholeWhatIf(databaseUrl: string, from: NemDate, to: NemDate): Promise<{ seconds: number; intervals: number; coveredShare: number }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const [site] = await selectSites(pool, ARCHIVE_SITE.id).finally(() => pool.end());
  const started = performance.now();
  // The thread does not keep a process alive (a stopping daemon must not wait for it); this wait does.
  const keepAlive = setInterval(() => {}, 1_000);
  const report = await runBatteryJob({ kind: 'what-if', args: { site: site!, from, to, params: BATTERY_DEFAULTS, day: null, startSocKwh: null } }, { url: databaseUrl, ssl: false }, { deadlineMs: 900_000, maxHeapMb: 96 }).finally(() =>
    clearInterval(keepAlive),
  );
  return { seconds: (performance.now() - started) / 1000, intervals: report.intervals, coveredShare: report.forecastDriven.coveredShare };
}

/** One /healthz round trip in ms (a failure counts as 5 s, the image's health-check timeout), then a pause. */
async function probe(base: string): Promise<number> {
  const started = performance.now();
  const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.ok, () => false);
  const ms = ok ? performance.now() - started : 5_000;
  await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
  return ms;
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}
