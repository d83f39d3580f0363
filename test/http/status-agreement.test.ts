/**
 * One definition of "percent complete": after a real backfill from a fake Amber that left intervals and
 * whole days out, `amber-collector status --json`, `/api/status` and the dashboard show the same percent
 * for every stream.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusCommand } from '../../src/commands/status.ts';
import { parseMonitorConfig } from '../../src/config/config.ts';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { dashboardRoutes } from '../../src/http/dashboard.ts';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { memoryOutput } from '../../src/commands/output/output.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE';
const HALF_HOUR_SITE = '01JB2WXYZ3M4N5P6Q7R8S9T0VA';

/** Percent per stream, keyed `site dataType`; null for a stream not started. */
type Percents = Record<string, number | null>;

let h: Harness;
let server: HttpServer;

beforeAll(async () => {
  // Real time as the data clock: the dashboard computes "today" from the browser's clock.
  h = await startHarness({ now: new Date() });
  const today = nemToday(new Date());
  h.fake.inject({ kind: 'dropIntervals', fraction: 0.03, endpoint: 'prices', siteId: FIVE_MINUTE_SITE, times: 2 });
  h.fake.inject({ kind: 'dropIntervals', fraction: 0, days: [addDays(today, -6), addDays(today, -4)], endpoint: 'usage', siteId: HALF_HOUR_SITE, times: 2 });
  const collector = h.newCollector({ historicalStartDate: addDays(today, -9) });
  await collector.discoverSites(AbortSignal.timeout(10_000));
  await collector.backfill(AbortSignal.timeout(60_000));
  server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    routes: [...readRoutes({ pool: h.pool, status: DEFAULT_STATUS_SETTINGS }), ...dashboardRoutes()],
    apiToken: null,
    logger: silentLogger(),
  });
});

afterAll(async () => {
  await server?.close();
  await h?.close();
});

async function fromCommand(): Promise<Percents> {
  const out = memoryOutput();
  await statusCommand.run(['--json'], {
    out,
    err: memoryOutput(),
    now: new Date(),
    readConfig: () => parseMonitorConfig({ DATABASE_URL: h.dbUrl }),
    openDatabase: async () => ({ pool: h.pool, close: async () => undefined }),
  });
  const report = JSON.parse(out.text) as { streams: Array<{ siteId: string; dataType: string; percentComplete: number | null }> };
  return Object.fromEntries(report.streams.map((s) => [`${s.siteId} ${s.dataType}`, s.percentComplete]));
}

async function fromApi(): Promise<Percents> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api/status`);
  const body = (await response.json()) as { streams: Array<{ siteId: string; dataType: string; percentComplete: number | null }> };
  return Object.fromEntries(body.streams.map((s) => [`${s.siteId} ${s.dataType}`, s.percentComplete]));
}

/** The percent column of the dashboard's coverage table (`price99.1%…`, `usagenot started…`). */
function shownPercents(site: string, rows: readonly string[]): Percents {
  return Object.fromEntries(
    rows.map((row) => {
      const match = /^(price|usage)(?:(\d+\.\d)%|not started)/.exec(row);
      return match === null ? [row, 'unreadable'] : [`${site} ${match[1]}`, match[2] === undefined ? null : Number(match[2])];
    }),
  );
}

describe('percent complete on data with holes', () => {
  it('is the same in status --json and /api/status, and some stream has holes', async () => {
    const command = await fromCommand();
    expect(Object.keys(command).length).toBeGreaterThanOrEqual(4);
    expect(await fromApi()).toEqual(command);
    expect(command[`${FIVE_MINUTE_SITE} price`]).toBeLessThan(100);
    expect(command[`${HALF_HOUR_SITE} usage`]).toBeLessThan(100);
  });

  it.skipIf(!existsSync(CHROMIUM))('is the same on the dashboard, site by site', async () => {
    const command = await fromCommand();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${server.port}/`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      const sites = await page.locator('#site option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));
      expect(sites.length).toBeGreaterThanOrEqual(2);
      for (const site of sites) {
        await page.selectOption('#site', site);
        const expected = Object.fromEntries(Object.entries(command).filter(([key]) => key.startsWith(`${site} `)));
        // The table is redrawn when the site's /api/status answer arrives: poll until it shows this site.
        await expect.poll(async () => shownPercents(site, await page.locator('#coverage tbody tr').allTextContents()), { timeout: 10_000 }).toEqual(expected);
      }
    } finally {
      await browser.close();
    }
  });
});
