/**
 * The current price and the forecast come from the forecast archive the real collector fills from the fake
 * Amber server: the running interval and every forecast interval read back exactly as the latest
 * `/prices/current` served them, overlaps between the 5- and 30-minute forecasts of a 5-minute site
 * resolved to the newest, and a clock past the last fetch keeps showing the forecast still in force.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nemIsoInstant } from '../../src/domain/nem-time.ts';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { get as getFake, rowsOf } from '../fake-amber/http-get.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';

const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE';
const THIRTY_MINUTE_SITE = '01JB2WXYZ3M4N5P6Q7R8S9T0VA'; // general only, no feed-in
const FIRST_FETCH = new Date('2025-11-20T03:12:30Z'); // 13:12:30 NEM time
const MINUTE = 60_000;

let h: Harness;
let server: HttpServer;
const readClock = { now: FIRST_FETCH };

beforeAll(async () => {
  h = await startHarness({ now: FIRST_FETCH });
  const collector = h.newCollector({ historicalStartDate: '2025-11-18' });
  await collector.discoverSites(AbortSignal.timeout(10_000));
  await collector.backfill(AbortSignal.timeout(60_000));
  await collector.runCycle(AbortSignal.timeout(30_000));
  // 75 minutes later: intervals first forecast at 30 minutes are now forecast at 5.
  h.clock.now = new Date(FIRST_FETCH.getTime() + 75 * MINUTE);
  await collector.runCycle(AbortSignal.timeout(30_000));
  await collector.settle();
  server = await startHttpServer({ port: 0, host: '127.0.0.1', routes: readRoutes({ pool: h.pool, status: DEFAULT_STATUS_SETTINGS, now: () => readClock.now }), apiToken: null, logger: silentLogger() });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

async function current(siteId: string): Promise<any> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api/prices/current?site=${siteId}`);
  expect(response.status).toBe(200);
  return response.json();
}

/** What the fake serves right now as the running interval and the next 48 hours, in the read API's shape. */
async function served(siteId: string, resolution: number): Promise<Array<Record<string, unknown>>> {
  const rows = rowsOf(await getFake(h.fake, `/sites/${siteId}/prices/current`, { next: (48 * 60) / resolution, resolution }));
  return rows.map((row) => ({
    channelType: row['channelType'],
    start: nemIsoInstant(Date.parse(row['nemTime'] as string) - (row['duration'] as number) * MINUTE),
    duration: row['duration'],
    perKwh: row['perKwh'],
    intervalType: row['type'],
  }));
}

const shape = (price: any) => ({ channelType: price.channelType, start: price.start, duration: price.duration, perKwh: price.perKwh, intervalType: price.intervalType });

describe('GET /api/prices/current from the forecast archive', () => {
  it('a 5-minute site: the running interval and the whole forecast as the latest fetch served them', async () => {
    readClock.now = h.clock.now;
    const body = await current(FIVE_MINUTE_SITE);
    const expected = await served(FIVE_MINUTE_SITE, 5);
    expect(body.forecastFetchedAt).toBe(h.clock.now.toISOString());
    expect(body.channels.map((c: any) => c.channelType)).toEqual(['general', 'controlledLoad', 'feedIn']);
    for (const channel of body.channels) {
      expect(shape(channel.current)).toEqual(expected.find((e) => e.channelType === channel.channelType && e.intervalType === 'CurrentInterval'));
      expect(channel.current.fetchedAt).not.toBeNull();
      expect(channel.latestActual).toMatchObject({ intervalType: 'ActualInterval', fetchedAt: null });
    }
    const forecast = expected.filter((e) => e.intervalType === 'ForecastInterval');
    const byStart = (a: any, b: any) => a.start.localeCompare(b.start) || a.channelType.localeCompare(b.channelType);
    expect(body.forecast.map(shape).sort(byStart)).toEqual(forecast.sort(byStart));
    // 5-minute intervals for the first hour, then 30-minute ones, none overlapping.
    expect(new Set(body.forecast.map((p: any) => p.duration))).toEqual(new Set([5, 30]));
  });

  it('a 30-minute site without feed-in', async () => {
    readClock.now = h.clock.now;
    const body = await current(THIRTY_MINUTE_SITE);
    const expected = await served(THIRTY_MINUTE_SITE, 30);
    expect(body.channels.map((c: any) => [c.channelType, shape(c.current)])).toEqual([['general', expected[0]]]);
    expect(body.forecast.map(shape)).toEqual(expected.slice(1));
    expect(body.forecast.every((p: any) => p.duration === 30)).toBe(true);
  });

  it('past the last fetch, the forecast in force is shown, still as a forecast', async () => {
    readClock.now = new Date(h.clock.now.getTime() + 12 * MINUTE);
    const body = await current(FIVE_MINUTE_SITE);
    const general = body.channels[0];
    expect(general.current.intervalType).toBe('ForecastInterval');
    expect(Date.parse(general.current.start)).toBeLessThanOrEqual(readClock.now.getTime());
    expect(Date.parse(general.current.end)).toBeGreaterThan(readClock.now.getTime());
    expect(body.forecast.every((p: any) => Date.parse(p.start) > readClock.now.getTime())).toBe(true);
  });

  it('before any forecast was fetched, nothing is made up', async () => {
    readClock.now = new Date(FIRST_FETCH.getTime() - 10 * MINUTE);
    const body = await current(FIVE_MINUTE_SITE);
    expect(body.forecastFetchedAt).toBeNull();
    expect(body.forecast).toEqual([]);
    expect(body.channels.every((c: any) => c.current === null)).toBe(true);
  });
});
