/**
 * The optimiser feeds from the archive the real collector fills from the fake Amber server, with the clock
 * pinned the evening before Sydney's daylight-saving change (2025-10-05 02:00 AEST → 03:00 AEDT): EMHASS
 * lists as long as the horizon, steps on boundaries, feed-in as what exporting earns, the tail past Amber's
 * forecast extended from settled history and marked; the Home Assistant core forecast shape; and hostile
 * parameters refused with a 400 naming the range. Golden files in test/fixtures/feeds/ hold the shapes.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { expectGolden } from '../helpers/golden.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';
import { everyCommand } from '../readme/readme-text.ts';

const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE'; // general, controlled load, feed-in
const THIRTY_MINUTE_SITE = '01JB2WXYZ3M4N5P6Q7R8S9T0VA'; // general only
const FETCH = new Date('2025-10-04T08:07:30Z'); // 18:07:30 NEM (and Sydney, still AEST) on Saturday 4 October
/** Amber's forecast reaches the end of the next NEM day. */
const FORECAST_END = Date.parse('2025-10-06T00:00:00+10:00');
const MINUTE = 60_000;

let h: Harness;
let server: HttpServer;
const readClock = { now: FETCH };

beforeAll(async () => {
  h = await startHarness({ now: FETCH });
  // The seven complete NEM days before today are what an extension averages.
  const collector = h.newCollector({ historicalStartDate: '2025-09-27', siteIds: [FIVE_MINUTE_SITE, THIRTY_MINUTE_SITE] });
  await collector.discoverSites(AbortSignal.timeout(10_000));
  await collector.backfill(AbortSignal.timeout(60_000));
  await collector.runCycle(AbortSignal.timeout(30_000));
  await collector.settle();
  const routes = readRoutes({ pool: h.pool, status: DEFAULT_STATUS_SETTINGS, now: () => readClock.now });
  server = await startHttpServer({ port: 0, host: '127.0.0.1', routes, apiToken: null, logger: silentLogger() });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
  return { status: response.status, body: await response.json() };
}

async function emhass(query: string): Promise<any> {
  const { status, body } = await get(`/api/feeds/emhass?${query}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
}

/** Steps are consecutive instants `step` apart; extended ones are the tail and start at the forecast's end (when it ends inside). */
function expectWellFormed(body: any, steps: number, stepMinutes: number): void {
  const { load_cost_forecast: load, prod_price_forecast: prod, prediction_horizon: horizon } = body.runtimeparams;
  expect([load.length, prod.length, horizon, body.step_starts.length, body.extended.length]).toEqual([steps, steps, steps, steps, steps]);
  const starts = body.step_starts.map((s: string) => Date.parse(s));
  starts.forEach((start: number, i: number) => {
    expect(start % (stepMinutes * MINUTE)).toBe(0);
    if (i > 0) expect(start - starts[i - 1]).toBe(stepMinutes * MINUTE);
  });
  const firstExtended = body.extended.indexOf(true);
  expect(body.extended_steps).toBe(firstExtended === -1 ? 0 : steps - firstExtended);
  expect(body.extended.slice(firstExtended === -1 ? steps : firstExtended).every(Boolean)).toBe(true);
  if (firstExtended > 0) expect(starts[firstExtended]).toBe(FORECAST_END);
}

describe('GET /api/feeds/emhass', () => {
  it('a 5-minute site, 48 hours of 30-minute steps across the DST change: 96 steps, aligned, the tail extended', async () => {
    readClock.now = FETCH;
    const body = await emhass(`site=${FIVE_MINUTE_SITE}&horizon_hours=48&step_minutes=30`);
    expectWellFormed(body, 96, 30);
    expect(body.step_starts[0]).toBe('2025-10-04T18:30:00+10:00'); // the boundary at or after 18:07:30
    expect(body.extended_steps).toBe(96 - 59); // 18:30 to midnight tomorrow (NEM) is 59 half-hours
    // Sydney's clock skips 02:00–03:00 on the 5th; the list is by instant, so nothing is repeated or missing.
    const sydney = new Intl.DateTimeFormat('en-AU', { timeZone: 'Australia/Sydney', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', day: '2-digit' });
    const local = body.step_starts.map((s: string) => sydney.format(new Date(s)));
    expect(local).toContain('05, 01:30');
    expect(local).not.toContain('05, 02:00');
    expect(local).toContain('05, 03:00');
    expect(new Set(local).size).toBe(96);
    expectGolden('feeds/emhass-5min-dst.json', body);
  });

  it('each step is the time-weighted mean of its intervals, and feed-in is what exporting earns', async () => {
    readClock.now = FETCH;
    const body = await emhass(`site=${FIVE_MINUTE_SITE}&horizon_hours=2&step_minutes=30`);
    const current = (await get(`/api/prices/current?site=${FIVE_MINUTE_SITE}`)).body;
    const from = Date.parse(body.step_starts[0]);
    const inStep = (channel: string) =>
      current.forecast.filter((p: any) => p.channelType === channel && Date.parse(p.start) >= from && Date.parse(p.start) < from + 30 * MINUTE);
    const general = inStep('general');
    const feedIn = inStep('feedIn');
    expect(general.map((p: any) => p.duration)).toEqual([5, 5, 5, 5, 5, 5]);
    const mean = (prices: any[]) => prices.reduce((sum, p) => sum + p.perKwh, 0) / prices.length;
    expect(body.runtimeparams.load_cost_forecast[0]).toBeCloseTo(mean(general) / 100, 7);
    expect(body.runtimeparams.prod_price_forecast[0]).toBeCloseTo(-mean(feedIn) / 100, 7);
    // Amber's feed-in prices are negative when exporting is paid: the feed says so with a positive number.
    expect(mean(feedIn)).toBeLessThan(0);
    expect(body.runtimeparams.prod_price_forecast[0]).toBeGreaterThan(0);
    expect(body.extended_steps).toBe(0);
  });

  it('align=current starts at the step now is in; source=predicted reads the advanced price', async () => {
    readClock.now = FETCH;
    const current = await emhass(`site=${FIVE_MINUTE_SITE}&horizon_hours=1&step_minutes=15&align=current`);
    expect(current.step_starts[0]).toBe('2025-10-04T18:00:00+10:00');
    expectWellFormed(current, 4, 15);
    const perKwh = await emhass(`site=${FIVE_MINUTE_SITE}&horizon_hours=12&step_minutes=60`);
    const predicted = await emhass(`site=${FIVE_MINUTE_SITE}&horizon_hours=12&step_minutes=60&source=predicted`);
    expect(predicted.source).toBe('predicted');
    expect(predicted.runtimeparams.load_cost_forecast).not.toEqual(perKwh.runtimeparams.load_cost_forecast);
    expect(predicted.runtimeparams.prod_price_forecast).toEqual(perKwh.runtimeparams.prod_price_forecast); // no advanced price on feed-in
  });

  it('a 30-minute site without feed-in: one step per interval, export earns nothing, hour steps average two intervals', async () => {
    readClock.now = new Date(FETCH.getTime() + 30 * MINUTE);
    const body = await emhass(`site=${THIRTY_MINUTE_SITE}&horizon_hours=24&step_minutes=30`);
    expectWellFormed(body, 48, 30);
    expect(body.runtimeparams.prod_price_forecast.every((p: number) => p === 0)).toBe(true);
    expectGolden('feeds/emhass-30min.json', body);
    const hourly = await emhass(`site=${THIRTY_MINUTE_SITE}&horizon_hours=24&step_minutes=60`);
    expectWellFormed(hourly, 24, 60);
    const halves = body.runtimeparams.load_cost_forecast;
    expect(hourly.runtimeparams.load_cost_forecast[0]).toBeCloseTo((halves[0] + halves[1]) / 2, 7); // 19:00–20:00: at 18:37:30 the next boundary of both
    expect(hourly.step_starts[0]).toBe(body.step_starts[0]);
  });

  it('refuses absurd and malformed parameters with a 400 that names the range', async () => {
    const cases: Array<[string, RegExp]> = [
      ['horizon_hours=0', /horizon_hours: expected hours from 1 to 168/],
      ['horizon_hours=169', /from 1 to 168/],
      ['horizon_hours=-1', /whole number, from 1 to 168/],
      ['horizon_hours=1e3', /whole number/],
      ['horizon_hours=24.5', /whole number/],
      ['horizon_hours=99999999999999999999', /whole number/],
      ['step_minutes=7', /step_minutes: expected minutes one of 5, 10, 15, 20, 30, 60/],
      ['step_minutes=0', /one of 5, 10, 15, 20, 30, 60/],
      ['step_minutes=', /whole number/],
      ['source=spot', /source: expected one of perKwh, predicted/],
      ['align=nearest', /align: expected one of next, current/],
      ['site=nope', /no site "nope"/],
      ['horizon=24', /horizon/],
      ['step_minutes=30&step_minutes=5', /step_minutes: given more than once/],
      ['source=%00', /control characters/],
    ];
    for (const [query, problem] of cases) {
      const { status, body } = await get(`/api/feeds/emhass?${query}`);
      expect(status, query).toBe(400);
      expect(body.problems.join('\n'), query).toMatch(problem);
    }
  });
});

describe("the README's EMHASS command", () => {
  it('runs as written: the feed, piped through jq, is what EMHASS receives', async () => {
    const command = everyCommand().find((line) => line.includes('/api/feeds/emhass'))!;
    const received: Array<{ url: string; body: string }> = [];
    const emhass = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ url: req.url!, body });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => emhass.listen(0, '127.0.0.1', resolve));
    try {
      readClock.now = FETCH;
      const local = command
        .replace('http://localhost:8080', `http://127.0.0.1:${server.port}`)
        .replace('http://emhass:5000', `http://127.0.0.1:${(emhass.address() as AddressInfo).port}`);
      await promisify(execFile)('bash', ['-o', 'pipefail', '-c', local], { env: { ...process.env, HTTP_API_TOKEN: '' }, timeout: 20_000 });
      expect(received.map((r) => r.url)).toEqual(['/action/naive-mpc-optim']);
      const posted = JSON.parse(received[0]!.body);
      expect(Object.keys(posted).sort()).toEqual(['load_cost_forecast', 'prediction_horizon', 'prod_price_forecast', 'soc_init']);
      expect([posted.load_cost_forecast.length, posted.prod_price_forecast.length, posted.prediction_horizon]).toEqual([48, 48, 48]);
    } finally {
      await new Promise((resolve) => emhass.close(resolve));
    }
  });
});

describe('GET /api/feeds/forecast', () => {
  it("Home Assistant's core Amber shape from the archive: $/kWh, feed-in as earned, Amber's advanced price kept", async () => {
    readClock.now = FETCH;
    const general = (await get(`/api/feeds/forecast?site=${FIVE_MINUTE_SITE}`)).body;
    expect(general.channel_type).toBe('general');
    expect(general.forecasts.length).toBeGreaterThan(50);
    expect(Date.parse(general.forecasts[0].start_time)).toBeGreaterThan(FETCH.getTime());
    expect(general.forecasts[0]).toHaveProperty('advanced_price_predicted');
    const current = (await get(`/api/prices/current?site=${FIVE_MINUTE_SITE}`)).body;
    const amberFeedIn = current.forecast.filter((p: any) => p.channelType === 'feedIn');
    const feedIn = (await get(`/api/feeds/forecast?site=${FIVE_MINUTE_SITE}&channel=feedIn`)).body;
    expect(feedIn.forecasts.map((f: any) => f.per_kwh)).toEqual(amberFeedIn.map((p: any) => Math.round(-p.perKwh * 1e7) / 1e9 || 0));
    const thirty = (await get(`/api/feeds/forecast?site=${THIRTY_MINUTE_SITE}`)).body;
    expectGolden('feeds/forecast-30min.json', thirty);
  });

  it('refuses an unknown channel or parameter', async () => {
    for (const [query, problem] of [['channel=solar', /channel: expected one of general, controlledLoad, feedIn/], ['horizon=2', /horizon/]] as const) {
      const { status, body } = await get(`/api/feeds/forecast?${query}`);
      expect(status, query).toBe(400);
      expect(body.problems.join('\n')).toMatch(problem);
    }
  });
});
