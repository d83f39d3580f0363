/**
 * The dashboard in headless Chromium, over data a real collector backfilled from the fake Amber server
 * (with a forced 900 c/kWh spike): the page loads with the token it was opened with, every chart draws, the
 * console stays clean, it reads like an Australian bill at desktop and phone widths (dates day-first in NEM
 * time, money as the CLI prints it, everyday prices readable beside the spike, legend values without hover,
 * the richest site first, forecast error by lead time), and nothing runs off a phone's screen. Screenshots go to test-artifacts/
 * (gitignored) for a person to look at.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, nemDayStart, nemToday } from '../../src/domain/nem-time.ts';
import { batteryRoutes } from '../../src/http/battery-api.ts';
import { batteryRunner } from '../../src/http/battery-thread.ts';
import { compareRoutes } from '../../src/http/compare-api.ts';
import { dashboardRoutes } from '../../src/http/dashboard.ts';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { money } from '../../src/commands/output/format.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const TOKEN = 'dashboard-test-token';
const BATTERY_DEFAULTS = { capacityKwh: 13.5, chargeKw: 5, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null };
// Far from NEM time, so a date or time taken from the browser's own zone shows.
const BROWSER_ZONE = 'America/New_York';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/** `2026-12-03` as an Australian reads it on an axis: `3 Dec`. */
const dayMonth = (date: string) => `${Number(date.slice(8, 10))} ${MONTHS[Number(date.slice(5, 7)) - 1]}`;
/** An API instant (ISO at +10:00) as the legend names it: `Thu 3 Dec 18:05`. */
const legendMoment = (iso: string) => `${WEEKDAYS[new Date(`${iso.slice(0, 10)}T00:00:00Z`).getUTCDay()]} ${dayMonth(iso)} ${iso.slice(11, 16)}`;

/** Records the text each chart's canvas drew since it was last cleared (uPlot draws axis labels there, not in the DOM). */
const RECORD_CANVAS_TEXT = `(() => {
  const context = CanvasRenderingContext2D.prototype;
  const { fillText, clearRect } = context;
  const texts = (canvas) => ((window.drawnText ??= {})[canvas.closest('.chart')?.id ?? ''] ??= []);
  context.clearRect = function (...args) { texts(this.canvas).length = 0; return clearRect.apply(this, args); };
  context.fillText = function (text, ...args) { texts(this.canvas).push(String(text)); return fillText.call(this, text, ...args); };
})()`;

describe('dashboard assets', () => {
  let server: HttpServer;
  let base: string;
  beforeAll(async () => {
    server = await startHttpServer({ port: 0, host: '127.0.0.1', routes: dashboardRoutes(), apiToken: TOKEN, logger: silentLogger() });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => server.close());

  it('serves the page (with the token) under a strict content security policy that keeps the token out of Referer', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401);
    const page = await fetch(`${base}/?token=${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('<script src="/dashboard/app.js" defer></script>');
  });

  it('serves its own files and uPlot from node_modules without a token, revalidated by ETag', async () => {
    for (const [path, type] of [
      ['/dashboard/helpers.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/charts.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/battery.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/bill.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/accuracy.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/compare.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/app.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/app.css', 'text/css; charset=utf-8'],
      ['/dashboard/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/uPlot.min.css', 'text/css; charset=utf-8'],
    ] as const) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      const etag = response.headers.get('etag')!;
      expect((await fetch(`${base}${path}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    }
  });
});

describe.skipIf(!existsSync(CHROMIUM))('dashboard in headless Chromium', () => {
  let h: Harness;
  let server: HttpServer;
  let browser: Browser;
  let base: string;
  let fiveMinuteSite: string;
  let thirtyMinuteSite: string;
  const today = nemToday(new Date());

  beforeAll(async () => {
    // Real time as the data clock: the page computes "today" from the browser's clock. A first cycle three hours
    // earlier archives a forecast that has settled by now, for the forecast-accuracy chart.
    h = await startHarness({ now: new Date(Date.now() - 3 * 3600_000) });
    // One evening spike of about 900 c/kWh three days ago, beside prices of tens of c/kWh.
    h.fake.forceSpike({ start: new Date(nemDayStart(addDays(today, -3)).getTime() + 18 * 3600_000), minutes: 30, magnitude: 900 });
    const collector = h.newCollector({ historicalStartDate: addDays(today, -9) });
    const sites = await collector.discoverSites(AbortSignal.timeout(10_000));
    await collector.runCycle(AbortSignal.timeout(30_000));
    h.clock.now = new Date();
    await collector.backfill(AbortSignal.timeout(60_000));
    // One incremental cycle archives the current prices and the forecast, as the daemon's first cycle does.
    await collector.runCycle(AbortSignal.timeout(30_000));
    await collector.settle();
    fiveMinuteSite = sites.find((s) => s.intervalLength === 5 && s.status === 'active')!.id;
    thirtyMinuteSite = sites.find((s) => s.intervalLength === 30 && s.status === 'active')!.id;
    const runner = batteryRunner({ pool: h.pool });
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      routes: [
        ...readRoutes({ pool: h.pool, status: DEFAULT_STATUS_SETTINGS }),
        ...batteryRoutes({ pool: h.pool, defaults: BATTERY_DEFAULTS, runner }),
        ...compareRoutes({ pool: h.pool, plansFile: fileURLToPath(new URL('../../examples/compare-plans.yaml', import.meta.url)), battery: { defaults: BATTERY_DEFAULTS, runner } }),
        ...dashboardRoutes(),
      ],
      apiToken: TOKEN,
      logger: silentLogger(),
    });
    base = `http://127.0.0.1:${server.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await h?.close();
  });

  /** Opens the dashboard and records every console error, page error and failed or refused request. */
  async function open(viewport: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
    // The server runs one battery calculation at a time and answers another meanwhile with a 503. A page closed by
    // the test before may have left its calculation running (on a busy machine it outlasts the page), so this page
    // opens once the server takes a calculation again: a one-day one, answered before the page asks for its own.
    const oneDay = `/api/battery/what-if?site=${fiveMinuteSite}&from=${addDays(today, -1)}&to=${addDays(today, -1)}`;
    const idle = () => fetch(`${base}${oneDay}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((response) => response.status);
    await expect.poll(idle, { timeout: 120_000, interval: 500 }).not.toBe(503);
    const page = await browser.newPage({ viewport, timezoneId: BROWSER_ZONE });
    await page.addInitScript(RECORD_CANVAS_TEXT);
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    await page.goto(`${base}/?token=${TOKEN}`);
    // A generous wait: it measures nothing, and a busy shared machine can take its time to start a browser page.
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    return { page, problems };
  }

  /** Pixels a chart's canvas actually painted (uPlot draws series and axes onto one canvas). */
  function paintedPixels(page: Page, chartId: string): Promise<number> {
    // A string, because this runs in the browser and the project's TypeScript has no DOM types.
    return page.evaluate<number>(`(() => {
      const canvas = document.querySelector('#${chartId} canvas');
      if (!canvas) return 0;
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
      return painted;
    })()`);
  }

  async function apiGet(path: string): Promise<any> {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status, path).toBe(200);
    return response.json();
  }

  /**
   * What makes the page read like an Australian bill, at any width: the richest site first, dates day-first in
   * NEM time, legend values without hover, everyday prices readable beside the spike, money as the CLI prints it.
   */
  async function expectAustralianBill(page: Page): Promise<void> {
    // The default site is the richest: the active 5-minute one with general, controlled load and feed-in.
    expect(await page.inputValue('#site')).toBe(fiveMinuteSite);
    await page.locator('#now-cards .card.controlledLoad').waitFor({ timeout: 10_000 });
    await page.waitForSelector('#prices-chart canvas');
    const drawn = await page.evaluate<Record<string, string[]>>('window.drawnText');
    const prices = await apiGet(`/api/prices?site=${fiveMinuteSite}&from=${addDays(today, -6)}&to=${addDays(today, 1)}`);
    const general = prices.series.find((s: { channelType: string }) => s.channelType === 'general').points.filter((p: { forecasts: number }) => p.forecasts === 0);

    // Dates day-first in NEM time: a time axis names days `3 Dec` and hours `18:00`, never `12/3`.
    const timeLabels = drawn['prices-chart']!.filter((text) => /[A-Za-z:/]/.test(text) && text !== 'c/kWh');
    expect(timeLabels.length).toBeGreaterThan(3);
    for (const label of timeLabels) expect(label).toMatch(/^(\d{1,2} [A-Z][a-z]{2}|\d{2}:\d{2})$/);
    const daysShown = timeLabels.filter((label) => /[A-Z]/.test(label));
    expect(daysShown.length).toBeGreaterThanOrEqual(2);
    expect(Array.from({ length: 9 }, (_, i) => dayMonth(addDays(today, i - 7)))).toEqual(expect.arrayContaining(daysShown));
    for (const label of drawn['battery-chart'] ?? []) expect(label).not.toMatch(/\d\/\d/);
    for (const from of await page.locator('#forecast tbody td:first-child').allTextContents()) expect(from).toMatch(/^(\d{1,2} [A-Z][a-z]{2} )?\d{2}:\d{2}$/);

    // Legend values without hover: the newest actual price, at its NEM time.
    const legend = async (chart: string) =>
      page.evaluate<string[][]>(`[...document.querySelectorAll('#${chart} .u-legend tr')].map((tr) => [tr.querySelector('th').textContent, tr.querySelector('.u-value').textContent])`);
    const newest = general[general.length - 1];
    const resting = Object.fromEntries(await legend('prices-chart'));
    expect(resting['NEM time']).toBe(legendMoment(newest.start));
    expect(resting['General']).toBe(newest.perKwh.toFixed(1));
    expect(resting['Spike']).toMatch(/^(none|\d+\.\d)$/);
    for (const chart of ['prices-chart', 'energy-chart', 'cost-chart']) for (const [name, value] of await legend(chart)) expect(value, `${chart} ${name}`).not.toBe('--');

    // The normal price range readable with a spike present: the spike is there, yet the middle 90 % of general
    // prices fill at least a quarter of the price axis (on an axis scaled to the spike they fill 2 %).
    const sorted = general.map((p: { perKwh: number }) => p.perKwh).sort((a: number, b: number) => a - b);
    const highest = sorted[sorted.length - 1];
    expect(highest).toBeGreaterThan(500);
    const everyday = sorted[Math.floor(sorted.length * 0.95)] - sorted[Math.floor(sorted.length * 0.05)];
    const priceTicks = drawn['prices-chart']!.filter((text) => /^-?[\d,.]+$/.test(text)).map((text) => Number(text.replace(/,/g, '')));
    expect(everyday / (Math.max(...priceTicks) - Math.min(...priceTicks))).toBeGreaterThan(0.25);
    expect(await page.locator('#prices-meta').textContent()).toContain(`to ${highest.toFixed(1)}; markers beyond sit on the edge`);

    // One money format everywhere: the CLI's (`-$69.36`), in the totals, the legends and the battery table.
    const samples = [-69.356, -47.9, -0.004, 0, 0.5, 1234.567];
    expect(samples.map(money)).toEqual(['-$69.36', '-$47.90', '$0.00', '$0.00', '$0.50', '$1,234.57']);
    expect(await page.evaluate<string[]>(`${JSON.stringify(samples)}.map(dashboardHelpers.money)`)).toEqual(samples.map(money));
    const costs = await apiGet(`/api/costs?site=${fiveMinuteSite}&from=${addDays(today, -7)}&to=${addDays(today, -1)}`);
    const net = costs.days.filter((d: { intervals: number }) => d.intervals > 0).reduce((sum: number, d: { netDollars: number }) => sum + d.netDollars, 0);
    expect(await page.locator('#usage-totals').textContent()).toContain(`; net ${money(net)}`);
    await page.locator('#battery-results tbody tr').nth(3).waitFor({ timeout: 60_000 });
    // The Bill panel: last month's statement, energy only without FIXED_CHARGES_FILE, and says so.
    await page.locator('#bill-statement tbody tr.total').nth(2).waitFor({ timeout: 30_000 });
    expect(await page.locator('#bill-statement').textContent()).toContain('Total (energy only)');
    expect(await page.locator('#usage-meta').textContent()).toContain('energy only');
    const amounts = [
      ...(await page.locator('#bill-statement tr td:last-child').allTextContents()),
      ...(await page.locator('#cost-chart .u-legend .u-value').allTextContents()).slice(1),
      ...(await page.locator('#battery-results td.num').allTextContents()).filter((text) => text !== '' && text !== '–'), // – : no forecasts archived
      ...(await page.locator('#usage-totals').textContent())!.match(/\S*\$\S*/g)!.map((text) => text.replace(/[,;]$/, '')),
    ];
    expect(amounts.length).toBeGreaterThan(8);
    for (const amount of amounts) expect(amount).toMatch(/^-?\$\d{1,3}(,\d{3})*\.\d\d$/);
  }

  /**
   * Nothing wider than its section, no table or chart that needs sideways scrolling, nothing off the screen, once
   * the page has settled: a chart is drawn at once and fitted to its card when the browser next lays the page out,
   * which on a busy machine can come a while later, so the layout is looked at until it fits (or 15 s have passed).
   */
  async function expectNoHorizontalOverflow(page: Page, width: number): Promise<void> {
    await expect.poll(() => page.evaluate<number>('document.documentElement.scrollWidth'), { timeout: 15_000 }).toBeLessThanOrEqual(width);
    await expect.poll(() => overflowingElements(page), { timeout: 15_000 }).toEqual([]);
  }

  /** Each element wider than its section or scrolling sideways, as `section TAG.class: text`. */
  function overflowingElements(page: Page): Promise<string[]> {
    return page.evaluate<string[]>(`[...document.querySelectorAll('main section')].flatMap((section) => {
      const box = section.getBoundingClientRect();
      return [...section.querySelectorAll('*')]
        .filter((node) => {
          const r = node.getBoundingClientRect();
          if (r.width === 0 && r.height === 0) return false;
          return r.left < box.left - 0.5 || r.right > box.right + 0.5 || node.scrollWidth > node.clientWidth + 1 && getComputedStyle(node).overflowX !== 'visible';
        })
        .map((node) => section.id + ' ' + node.tagName + '.' + node.className + ': ' + (node.textContent || '').slice(0, 40));
    })`);
  }

  it('loads at desktop size with every chart drawn and a clean console', async () => {
    const { page, problems } = await open({ width: 1400, height: 900 });
    await expectAustralianBill(page);
    await expectNoHorizontalOverflow(page, 1400);
    await page.waitForSelector('#prices-chart canvas');
    for (const chart of ['prices-chart', 'energy-chart', 'cost-chart']) {
      expect(await paintedPixels(page, chart), chart).toBeGreaterThan(5_000);
    }
    const cards = await page.locator('#now-cards .card h3').allTextContents();
    expect(cards).toEqual(['General', 'Controlled load', 'Feed-in']);
    expect(await page.locator('#now-cards .price').first().textContent()).toMatch(/^-?\d+\.\d c\/kWh$/);
    // The running interval and the forecast come from the archived snapshot (still its forecast when a 5-minute
    // boundary passed between the collector's cycle and the page load, as it can on a busy machine).
    for (const meta of await page.locator('#now-cards .card .meta:last-child').allTextContents()) expect(meta).toMatch(/· current, (estimate|final|still the forecast)$/);
    const forecastHead = await page.locator('#forecast thead th').allTextContents();
    expect(forecastHead).toEqual(['From', 'General', 'Controlled load', 'Feed-in']);
    expect(await page.locator('#forecast tbody tr').count()).toBe(24);
    expect(await page.locator('#forecast-meta').textContent()).toMatch(/^From the forecast fetched (just now|\d+ min ago)/);
    expect(await page.locator('#prices-meta').textContent()).toContain('5-minute intervals · dashed: forecast');
    const legend = await page.locator('#prices-chart .u-legend th').allTextContents();
    expect(legend).toContain('General forecast');
    // The battery panel: the strategies side by side and one day's state of charge against the price.
    await page.locator('#battery-results tbody tr').nth(3).waitFor({ timeout: 60_000 });
    expect(await page.locator('#battery-results tbody td:first-child').allTextContents()).toEqual(['No battery', 'Self-consumption', 'Perfect foresight', 'Forecast-driven']);
    expect(await page.locator('#battery-meta').textContent()).toMatch(/\d+ intervals, \d+ skipped .* state of charge on \d{4}-\d{2}-\d{2}$/);
    await page.waitForSelector('#battery-chart canvas');
    expect(await paintedPixels(page, 'battery-chart')).toBeGreaterThan(5_000);
    await page.fill('#battery-form input[name=capacity]', '0');
    await page.click('#battery-form button');
    await page.locator('#battery-results .error').waitFor({ timeout: 10_000 });
    expect(await page.locator('#battery-results').textContent()).toContain('capacity: expected');
    problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('/api/battery/what-if') && !p.includes('status of 400'))); // the refused request above
    // Forecast accuracy: error by lead time, one line per price source, over the forecast archived three hours ago.
    await page.waitForSelector('#accuracy-chart canvas');
    expect(await paintedPixels(page, 'accuracy-chart')).toBeGreaterThan(5_000);
    expect(await page.locator('#accuracy-chart .u-legend th').allTextContents()).toEqual(['Lead time', 'perKwh', 'Advanced predicted']);
    expect(await page.locator('#accuracy-meta').textContent()).toMatch(/^General channel, \d{4}-\d{2}-\d{2} to now · \d+ archived forecasts against the settled price/);
    const accuracyAxis = (await page.evaluate<Record<string, string[]>>('window.drawnText'))['accuracy-chart'] ?? [];
    expect(accuracyAxis).toEqual(expect.arrayContaining(['0-5m', '30m-2h', '2-6h']));
    // The same error by hour of the day.
    await page.waitForSelector('#accuracy-hour-chart canvas');
    expect(await page.locator('#accuracy-hour-chart .u-legend th').allTextContents()).toEqual(['Hour', 'perKwh', 'Advanced predicted']);
    // Other plans: the example plans beside Amber, per month and in total, money as on a bill.
    await page.locator('#compare-table tbody tr').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('#compare-table thead th').allTextContents()).toEqual(['Month', 'Amber (energy only)', 'Example flat rate', 'vs Amber', 'Example time of use', 'vs Amber']);
    expect(await page.locator('#compare-table tbody tr:last-child td:first-child').textContent()).toBe('Total');
    for (const cell of await page.locator('#compare-table tbody td.num').allTextContents()) expect(cell).toMatch(/^-?\$[\d,]+\.\d\d$/);
    expect(await page.locator('#compare-meta').textContent()).toContain('Amber is energy only');
    // With the battery (the form's, a valid one again): each figure has its "with battery" one beside it.
    await page.fill('#battery-form input[name=capacity]', '13.5');
    await page.locator('#compare-battery').check();
    await page.locator('#compare-table th:text("Example time of use with battery"), #compare-table .error').first().waitFor({ timeout: 60_000 });
    expect(await page.locator('#compare-table thead th').allTextContents(), await page.locator('#compare-table').textContent() ?? '').toContain('Example time of use with battery');
    const coverage = await page.locator('#coverage tbody tr').allTextContents();
    expect(coverage).toHaveLength(2);
    expect(coverage[0]).toMatch(/^price100\.0%/);
    expect(await page.locator('#usage-totals').textContent()).toMatch(/^Total: imported \d+\.\d kWh for \$[\d,]+\.\d\d/);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-desktop.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 240_000);

  it("names a 30-minute site's interval length, not the 5-minute window", async () => {
    const { page, problems } = await open({ width: 1280, height: 900 });
    await page.selectOption('#site', thirtyMinuteSite);
    await page.locator('#prices-meta', { hasText: '30-minute intervals' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#prices-meta').textContent()).not.toContain('5m');
    expect(await page.locator('#now-cards .card h3').allTextContents()).toEqual(['General']);
    expect(await page.locator('#forecast thead th').allTextContents()).toEqual(['From', 'General']);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('fits a 390×844 phone screen without horizontal scrolling', async () => {
    const { page, problems } = await open({ width: 390, height: 844 });
    // The 5-minute site, the default: three channels and their forecasts make the longest legend.
    await expectAustralianBill(page);
    await page.locator('#prices-chart .u-legend th', { hasText: 'Controlled load forecast' }).waitFor({ timeout: 10_000 });
    await expectNoHorizontalOverflow(page, 390);
    // The Collection table keeps every column: each row stacks into lines labelled with the column's name.
    const collection = await page.evaluate<string[][]>(`[...document.querySelectorAll('#coverage tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].filter((td) => td.getBoundingClientRect().width > 0).map((td) => getComputedStyle(td, '::before').content))`);
    expect(collection).toEqual([0, 1].map(() => ['"Data"', '"Complete"', '"Collected"', '"Intervals"', '"Last success"', '"Last error"']));
    const chartWidth = await page.evaluate<number>("document.querySelector('#prices-chart canvas').getBoundingClientRect().width");
    expect(chartWidth).toBeGreaterThan(300);
    expect(chartWidth).toBeLessThanOrEqual(390);
    expect(await paintedPixels(page, 'prices-chart')).toBeGreaterThan(5_000);
    // Every legend entry of the price chart stays on screen, also while a finger on the chart shows values.
    const plot = page.locator('#prices-chart .u-over');
    const box = (await plot.boundingBox())!;
    const resting = await page.locator('#prices-chart .u-legend .u-value').first().textContent();
    await plot.hover({ position: { x: box.width * 0.9, y: box.height / 2 } });
    // Under the finger the legend follows it (into tomorrow's forecast), away from it the newest actual comes back.
    // Waited for rather than read once: the browser answers a hover in its own time, slower on a busy machine.
    await expect.poll(() => page.locator('#prices-chart .u-legend .u-value').first().textContent(), { timeout: 15_000 }).not.toBe(resting);
    const outside = () => page.evaluate<string[]>(`[...document.querySelectorAll('#prices-chart .u-legend tr')]
      .filter((tr) => { const box = tr.getBoundingClientRect(); return box.left < 0 || box.right > 390; })
      .map((tr) => tr.textContent)`);
    await expect.poll(outside, { timeout: 15_000 }).toEqual([]);
    await page.locator('#prices').screenshot({ path: `${ARTIFACTS}dashboard-phone-prices.png` });
    await page.mouse.move(1, 1);
    await expect.poll(() => page.locator('#prices-chart .u-legend .u-value').first().textContent(), { timeout: 15_000 }).toBe(resting);
    await page.locator('#collection').screenshot({ path: `${ARTIFACTS}dashboard-phone-collection.png` });
    await page.screenshot({ path: `${ARTIFACTS}dashboard-phone.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 240_000);
});
