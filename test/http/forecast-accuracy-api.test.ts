/**
 * GET /api/forecast-accuracy over what the real collector archived from the fake Amber server: cycles at
 * lead times from minutes to a day and a half before a set of intervals, then the settled prices, and the
 * API answers with every lead bucket that has data. Hostile and malformed parameters get a 400 that says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';

const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE';
const FIRST_FETCH = new Date('2025-11-20T03:12:30Z');
const MINUTE = 60_000;
/** Minutes after the first fetch of each cycle: the interval starting at +40 h is seen ~40 h, ~20 h, ... ahead. */
const CYCLES_AT_MINUTES = [0, 4 * 60, 10 * 60, 20 * 60, 30 * 60, 36 * 60, 38 * 60, 39 * 60 + 30, 39 * 60 + 55, 39 * 60 + 58, 42 * 60];
const TARGET_FROM = new Date(FIRST_FETCH.getTime() + 39 * 60 * MINUTE);
const TARGET_TO = new Date(FIRST_FETCH.getTime() + 41 * 60 * MINUTE);

let h: Harness;
let server: HttpServer;

beforeAll(async () => {
  h = await startHarness({ now: FIRST_FETCH });
  const collector = h.newCollector({ historicalStartDate: '2025-11-19' });
  await collector.discoverSites(AbortSignal.timeout(10_000));
  await collector.backfill(AbortSignal.timeout(60_000));
  for (const minutes of CYCLES_AT_MINUTES) {
    h.clock.now = new Date(FIRST_FETCH.getTime() + minutes * MINUTE);
    await collector.runCycle(AbortSignal.timeout(30_000));
  }
  await collector.settle();
  server = await startHttpServer({ port: 0, host: '127.0.0.1', routes: readRoutes({ pool: h.pool, status: DEFAULT_STATUS_SETTINGS, now: () => h.clock.now }), apiToken: null, logger: silentLogger() });
}, 240_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

async function get(query: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api/forecast-accuracy${query}`);
  return { status: response.status, body: await response.json() };
}

describe('GET /api/forecast-accuracy', () => {
  it('answers with every lead bucket the archived forecasts of settled intervals fall in', async () => {
    const { status, body } = await get(`?site=${FIVE_MINUTE_SITE}&from=${TARGET_FROM.toISOString()}&to=${TARGET_TO.toISOString()}&channel=general`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ siteId: FIVE_MINUTE_SITE, unit: 'c/kWh' });
    // What the archive holds for those intervals, bucketed by hand from fetch times.
    const archived = await h.pool.query<{ bucket: string; n: number }>(
      `SELECT CASE WHEN lead < 5 THEN '0-5m' WHEN lead < 30 THEN '5-30m' WHEN lead < 120 THEN '30m-2h' WHEN lead < 360 THEN '2-6h'
                   WHEN lead < 720 THEN '6-12h' WHEN lead < 1440 THEN '12-24h' ELSE '24-48h' END AS bucket, count(*)::int AS n
       FROM (SELECT f.*, extract(epoch FROM f.nem_time - make_interval(mins => f.duration) - f.fetched_at) / 60 AS lead FROM price_forecasts f) f
       WHERE f.site_id = $1 AND f.channel_type = 'general' AND f.lead >= 0 AND f.lead < 2880
         AND f.nem_time - make_interval(mins => f.duration) >= $2 AND f.nem_time - make_interval(mins => f.duration) < $3
         AND EXISTS (SELECT 1 FROM price_data p WHERE p.site_id = f.site_id AND p.channel_type = 'general' AND p.interval_type = 'ActualInterval'
                     AND p.nem_time > f.nem_time - make_interval(mins => f.duration) AND p.nem_time <= f.nem_time)
       GROUP BY 1`,
      [FIVE_MINUTE_SITE, TARGET_FROM, TARGET_TO],
    );
    const buckets = body.buckets.map((b: any) => b.bucket);
    expect(new Set(buckets)).toEqual(new Set(archived.rows.map((r) => r.bucket)));
    expect(buckets.length).toBeGreaterThanOrEqual(5);
    for (const bucket of body.buckets) {
      expect(bucket.channelType).toBe('general');
      expect(bucket.forecasts).toBeGreaterThan(0);
      expect(bucket.perKwh.count).toBe(bucket.forecasts);
      expect(bucket.perKwh.mae).toBeGreaterThanOrEqual(Math.abs(bucket.perKwh.bias));
    }
  });

  it('by=time-of-day adds the figures per NEM hour, which add up to the lead buckets', async () => {
    const { status, body } = await get(`?site=${FIVE_MINUTE_SITE}&from=${TARGET_FROM.toISOString()}&to=${TARGET_TO.toISOString()}&by=time-of-day`);
    expect(status).toBe(200);
    const hours = body.timeOfDay.filter((h: any) => h.channelType === 'general');
    // Two hours of intervals from 04:12:30 NEM time: the hours 4, 5 and 6.
    expect(hours.map((h: any) => h.hour)).toEqual([4, 5, 6]);
    const total = (rows: any[]) => rows.reduce((sum, r) => sum + r.forecasts, 0);
    expect(total(hours)).toBe(total(body.buckets.filter((b: any) => b.channelType === 'general')));
    expect((await get(`?site=${FIVE_MINUTE_SITE}`)).body).not.toHaveProperty('timeOfDay');
  });

  it('without parameters: the first site over the last 30 days', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(body.siteId).not.toBeNull();
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(30 * 24 * 60 * MINUTE);
  });

  it.each([
    ['?channel=spot', /channel: expected channel types/],
    ['?channel=general,%27;DROP%20TABLE%20price_data;--', /channel: expected channel types/],
    ['?channel=', /channel/],
    ['?from=2025-11-21&to=2025-11-20', /from: must be before to/],
    ['?from=2024-01-01&to=2025-11-20', /at most 366 days/],
    ['?from=9999-01-01', /from: expected a date in the years 2000 to 2100/],
    ['?from=yesterday', /from: expected a NEM date/],
    ['?site=%00', /control characters/],
    ['?site=a&site=b', /site: given more than once/],
    ['?window=1d', /Unrecognized key|window/],
    ['?by=hour', /by: expected one of lead, time-of-day/],
    ['?site=NOSUCHSITE', /no site "NOSUCHSITE"/],
  ])('%s is refused with a 400 that says why', async (query, problem) => {
    const { status, body } = await get(query);
    expect(status).toBe(400);
    expect(body.problems.join('\n')).toMatch(problem);
  });
});
