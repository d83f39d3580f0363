/**
 * The dashboard in headless Chromium, over data a real collector backfilled from the fake Amber server:
 * the page loads with the token it was opened with, every chart draws, the console stays clean, and the
 * layout fits a phone. Screenshots go to test-artifacts/ (gitignored) for a person to look at.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { batteryRoutes } from '../../src/http/battery-api.ts';
import { dashboardRoutes } from '../../src/http/dashboard.ts';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const TOKEN = 'dashboard-test-token';

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

  beforeAll(async () => {
    // Real time as the data clock: the page computes "today" from the browser's clock.
    h = await startHarness({ now: new Date() });
    const collector = h.newCollector({ historicalStartDate: addDays(nemToday(new Date()), -9) });
    const sites = await collector.discoverSites(AbortSignal.timeout(10_000));
    await collector.backfill(AbortSignal.timeout(60_000));
    // One incremental cycle archives the current prices and the forecast, as the daemon's first cycle does.
    await collector.runCycle(AbortSignal.timeout(30_000));
    await collector.settle();
    fiveMinuteSite = sites.find((s) => s.intervalLength === 5 && s.status === 'active')!.id;
    thirtyMinuteSite = sites.find((s) => s.intervalLength === 30 && s.status === 'active')!.id;
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      routes: [
        ...readRoutes({ pool: h.pool, status: DEFAULT_STATUS_SETTINGS }),
        ...batteryRoutes({ pool: h.pool, defaults: { capacityKwh: 13.5, powerKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null } }),
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
    const page = await browser.newPage({ viewport });
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
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
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

  it('loads at desktop size with every chart drawn and a clean console', async () => {
    const { page, problems } = await open({ width: 1280, height: 900 });
    // The 5-minute site has general, controlled load and feed-in.
    await page.selectOption('#site', fiveMinuteSite);
    await page.locator('#now-cards .card.controlledLoad').waitFor({ timeout: 10_000 });
    await page.waitForSelector('#prices-chart canvas');
    for (const chart of ['prices-chart', 'energy-chart', 'cost-chart']) {
      expect(await paintedPixels(page, chart), chart).toBeGreaterThan(5_000);
    }
    const cards = await page.locator('#now-cards .card h3').allTextContents();
    expect(cards).toEqual(['General', 'Controlled load', 'Feed-in']);
    expect(await page.locator('#now-cards .price').first().textContent()).toMatch(/^-?\d+\.\d c\/kWh$/);
    // The running interval and the forecast come from the archived snapshot.
    for (const meta of await page.locator('#now-cards .card .meta:last-child').allTextContents()) expect(meta).toMatch(/· current, (estimate|final)$/);
    const forecastHead = await page.locator('#forecast thead th').allTextContents();
    expect(forecastHead).toEqual(['From', 'General', 'Controlled load', 'Feed-in']);
    expect(await page.locator('#forecast tbody tr').count()).toBe(24);
    expect(await page.locator('#forecast-meta').textContent()).toMatch(/^From the forecast fetched (just now|\d+ min ago)/);
    expect(await page.locator('#prices-meta').textContent()).toContain('5-minute intervals · dashed: forecast');
    const legend = await page.locator('#prices-chart .u-legend th').allTextContents();
    expect(legend).toContain('General forecast');
    // The battery panel: the strategies side by side and one day's state of charge against the price.
    await page.locator('#battery-results tbody tr').nth(3).waitFor({ timeout: 20_000 });
    expect(await page.locator('#battery-results tbody td:first-child').allTextContents()).toEqual(['No battery', 'Self-consumption', 'Perfect foresight', 'Forecast-driven']);
    expect(await page.locator('#battery-meta').textContent()).toMatch(/\d+ intervals, \d+ skipped .* state of charge on \d{4}-\d{2}-\d{2}$/);
    await page.waitForSelector('#battery-chart canvas');
    expect(await paintedPixels(page, 'battery-chart')).toBeGreaterThan(5_000);
    await page.fill('#battery-form input[name=capacity]', '0');
    await page.click('#battery-form button');
    await page.locator('#battery-results .error').waitFor({ timeout: 10_000 });
    expect(await page.locator('#battery-results').textContent()).toContain('capacity: expected');
    problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('/api/battery/what-if') && !p.includes('status of 400'))); // the refused request above
    const coverage = await page.locator('#coverage tbody tr').allTextContents();
    expect(coverage).toHaveLength(2);
    expect(coverage[0]).toMatch(/^price100\.0%/);
    expect(await page.locator('#usage-totals').textContent()).toMatch(/^Total: imported \d+\.\d kWh for \$\d+\.\d\d/);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-desktop.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it("names a 30-minute site's interval length, not the 5-minute window", async () => {
    const { page, problems } = await open({ width: 1280, height: 900 });
    await page.selectOption('#site', thirtyMinuteSite);
    await page.locator('#prices-meta', { hasText: '30-minute intervals' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#prices-meta').textContent()).not.toContain('5m');
    expect(await page.locator('#now-cards .card h3').allTextContents()).toEqual(['General']);
    expect(await page.locator('#forecast thead th').allTextContents()).toEqual(['From', 'General']);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('fits a 390×844 phone screen without horizontal scrolling', async () => {
    const { page, problems } = await open({ width: 390, height: 844 });
    // The 5-minute site: three channels and their forecasts make the longest legend.
    await page.selectOption('#site', fiveMinuteSite);
    await page.locator('#prices-chart .u-legend th', { hasText: 'Controlled load forecast' }).waitFor({ timeout: 10_000 });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const chartWidth = await page.evaluate<number>("document.querySelector('#prices-chart canvas').getBoundingClientRect().width");
    expect(chartWidth).toBeGreaterThan(300);
    expect(chartWidth).toBeLessThanOrEqual(390);
    expect(await paintedPixels(page, 'prices-chart')).toBeGreaterThan(5_000);
    // Every legend entry of the price chart stays on screen, also while a finger on the chart shows values.
    const plot = page.locator('#prices-chart .u-over');
    const box = (await plot.boundingBox())!;
    await plot.hover({ position: { x: box.width * 0.9, y: box.height / 2 } });
    await expect.poll(() => page.locator('#prices-chart .u-legend .u-value').first().textContent()).not.toBe('--');
    const outside = await page.evaluate<string[]>(`[...document.querySelectorAll('#prices-chart .u-legend tr')]
      .filter((tr) => { const box = tr.getBoundingClientRect(); return box.left < 0 || box.right > 390; })
      .map((tr) => tr.textContent)`);
    expect(outside).toEqual([]);
    await page.locator('#prices').screenshot({ path: `${ARTIFACTS}dashboard-phone-prices.png` });
    await page.screenshot({ path: `${ARTIFACTS}dashboard-phone.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
