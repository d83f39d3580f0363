/**
 * The probe's heap crash, reproduced: the battery what-if over a year of forecast archive at the densities the
 * README gives, in a real daemon process started as the image starts it (its node flags: a 128 MB heap). The
 * archive is generated in SQL as the collector stores what the API sends (5-minute forecasts for the next hour,
 * 30-minute ones after; compacted after 7 days, every poll's change before: 1.6 million rows). The requests
 * are the probe's: 366 days, 90 days and the dashboard's own default (the last 7 days, the form's battery).
 * Loaded whole on the daemon's main thread, these took the process down with "JavaScript heap out of memory"
 * (and /healthz stopped answering while it ran); read a window at a time in a worker thread, the daemon
 * answers every one and /healthz keeps answering at once throughout.
 */
import { expect, it, onTestFinished } from 'vitest';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { startDaemonAsImage } from '../helpers/daemon-as-image.ts';
import { ARCHIVE_SITE as SITE, seedForecastArchive } from '../helpers/forecast-archive-sql.ts';
import { databaseForTest } from '../helpers/database.ts';

const DAYS = 366;

it('a year\'s what-if, 90 days and the dashboard\'s default, over a README-density archive: the daemon with the image\'s 128 MB heap survives and /healthz stays fast', async () => {
  const db = await databaseForTest();
  const to = addDays(nemToday(new Date()), -1);
  const from = addDays(to, -(DAYS - 1));
  const rows = await seedForecastArchive(db.pool, from, to);
  expect(rows).toBeGreaterThan(1_500_000);

  const { daemon, base } = await startDaemonAsImage('src/cli.ts', db.url, from);
  onTestFinished(async () => void (await daemon.stop()));

  const healthz: Array<{ status: number; ms: number }> = [];
  let calculating = true;
  const probing = (async () => {
    while (calculating) {
      const started = performance.now();
      const status = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0);
      healthz.push({ status, ms: performance.now() - started });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  const whatIf = async (query: string) => {
    const response = await fetch(`${base}/api/battery/what-if?site=${SITE.id}&${query}`).catch((err: unknown) => err as Error);
    // A connection cut short may be the process going: give its exit a moment to be seen.
    for (let waited = 0; response instanceof Error && daemon.ended() === null && waited < 5_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    // First: the process is still there. A crash shows here with V8's last words (its stderr).
    expect(daemon.ended(), `GET /api/battery/what-if?${query}`).toBeNull();
    return response instanceof Error ? { status: 0, body: { error: response.message } } : { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const answers: Array<{ status: number; body: Record<string, unknown> }> = [];
  try {
    // The year first: loaded whole, its rows overflow the heap well before any statement timeout, even on a
    // slow machine (where 90 days may hit the read pool's 15 s first).
    answers.push(await whatIf(`from=${from}&to=${to}`));
    answers.push(await whatIf(`from=${addDays(to, -89)}&to=${to}`));
    // The dashboard's default: the last 7 days through yesterday, the form's battery.
    answers.push(await whatIf(`from=${addDays(to, -6)}&to=${to}&capacity=13.5&power=5&efficiency=0.9&reserve=0.1`));
  } finally {
    calculating = false;
    await probing;
  }
  const [year, quarter, week] = answers;
  expect(week!.status).toBe(200);
  expect(week!.body).toMatchObject({ intervals: 7 * 288 });
  expect((week!.body['forecastDriven'] as { coveredShare: number }).coveredShare).toBeGreaterThan(0.9);
  // Answered either way: the figures, or the two-minute deadline's 504 on a slow shared machine.
  for (const answer of [year, quarter]) expect([200, 504], JSON.stringify(answer!.body)).toContain(answer!.status);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect(healthz.filter((probe) => probe.status !== 200)).toEqual([]);
  expect(Math.max(...healthz.map((probe) => probe.ms))).toBeLessThan(1_000);
}, 900_000);
