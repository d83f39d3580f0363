/**
 * The read API over real loopback HTTP against a database with known data: NEM-time buckets (the interval
 * ending at midnight is in the previous day), 5- and 30-minute sites, windows and aggregates, the point
 * limit, parameter validation, and the bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { dailyCosts, dailyPrices } from '../../src/query/reports.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { loadFixture, NOW, SITE_30, SITE_5 } from '../query/fixtures.ts';

let db: TestDatabase;
let server: HttpServer;
let guarded: HttpServer;
const TOKEN = 'correct-horse-battery-staple';

beforeAll(async () => {
  db = await createTestDatabase();
  await loadFixture(db.pool);
  const routes = readRoutes({ pool: db.pool, status: DEFAULT_STATUS_SETTINGS, now: () => NOW });
  server = await startHttpServer({ port: 0, host: '127.0.0.1', routes, apiToken: null, logger: silentLogger() });
  guarded = await startHttpServer({ port: 0, host: '127.0.0.1', routes, apiToken: TOKEN, logger: silentLogger() });
});
afterAll(async () => {
  await server.close();
  await guarded.close();
  await db.drop();
});

async function get(path: string, options: { on?: HttpServer; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${(options.on ?? server).port}${path}`, { headers: options.headers ?? {} });
  return { status: response.status, body: await response.json() };
}

describe('GET /api/prices', () => {
  it('without a window, picks the finest one that fits and returns one series per site and channel type', async () => {
    const { status, body } = await get('/api/prices');
    expect(status).toBe(200);
    // Defaults: the 7 NEM days before tomorrow's end.
    expect(body).toMatchObject({ from: '2025-11-16T00:00:00+10:00', to: '2025-11-23T00:00:00+10:00', window: '5m', windowChosen: 'auto', agg: 'avg', maxPoints: 20_000, unit: 'c/kWh' });
    expect(body.series.map((s: any) => `${s.siteId} ${s.channelType}`)).toEqual([
      `${SITE_5.id} general`,
      `${SITE_5.id} controlledLoad`,
      `${SITE_5.id} feedIn`,
      `${SITE_30.id} general`,
      `${SITE_30.id} feedIn`,
    ]);
    const general5 = body.series[0];
    expect(general5.points).toHaveLength(3 * 288);
    expect(general5.points[0]).toEqual({
      start: '2025-11-19T00:00:00+10:00',
      perKwh: 20,
      spotPerKwh: 10,
      renewables: 40,
      intervals: 1,
      spikes: 0,
      potentialSpikes: 0,
      forecasts: 0,
    });
    // Forecasts are included and flagged: 13:05 onwards on the 21st.
    expect(general5.points.find((p: any) => p.start === '2025-11-21T13:05:00+10:00').forecasts).toBe(1);
    expect(general5.points.find((p: any) => p.start === '2025-11-21T13:00:00+10:00').forecasts).toBe(0);
  });

  it('1d buckets are NEM days and agree with the daily report (time-weighted average, spikes)', async () => {
    const { body } = await get('/api/prices?window=1d&from=2025-11-19&to=2025-11-20&channel=general');
    const report = await dailyPrices(db.pool, { siteIds: [SITE_5.id, SITE_30.id], from: '2025-11-19', to: '2025-11-20' });
    expect(body.window).toBe('1d');
    expect(body.series).toHaveLength(2);
    for (const series of body.series) {
      expect(series.points.map((p: any) => p.start)).toEqual(['2025-11-19T00:00:00+10:00', '2025-11-20T00:00:00+10:00']);
      for (const point of series.points) {
        const day = report.find((r) => r.siteId === series.siteId && r.channelType === 'general' && point.start.startsWith(r.date))!;
        expect(point.perKwh).toBeCloseTo(day.avg, 4);
        expect(point).toMatchObject({ intervals: day.intervals, spikes: day.spikes, potentialSpikes: day.potentialSpikes });
      }
    }
  });

  it('1h with agg=max shows the spike; 1mo buckets start on the NEM month', async () => {
    const hourly = await get(`/api/prices?site=${SITE_5.id}&channel=general&window=1h&agg=max&from=2025-11-20&to=2025-11-20`);
    expect(hourly.body.series[0].points).toHaveLength(24);
    expect(hourly.body.series[0].points[18]).toMatchObject({ start: '2025-11-20T18:00:00+10:00', perKwh: 300, spikes: 1, intervals: 12 });
    const monthly = await get(`/api/prices?site=${SITE_30.id}&window=1mo&from=2025-11-01&to=2025-11-30`);
    expect(monthly.body.series.map((s: any) => s.points.map((p: any) => [p.start, p.intervals]))).toEqual([
      [['2025-11-01T00:00:00+10:00', 144]],
      [['2025-11-01T00:00:00+10:00', 144]],
    ]);
  });
});

describe('GET /api/usage', () => {
  it('puts the interval ending at 00:00+10:00 in the bucket of its start, on the previous day', async () => {
    const around = await get(`/api/usage?site=${SITE_30.id}&channel=E1&window=30m&from=2025-11-19T23:30:00%2B10:00&to=2025-11-20T00:30:00%2B10:00`);
    expect(around.status).toBe(200);
    expect(around.body.series[0].points.map((p: any) => p.start)).toEqual(['2025-11-19T23:30:00+10:00', '2025-11-20T00:00:00+10:00']);
    const day = await get(`/api/usage?site=${SITE_30.id}&channel=E1&window=1d&from=2025-11-19&to=2025-11-19`);
    expect(day.body.series[0].points).toEqual([{ start: '2025-11-19T00:00:00+10:00', kwh: 28.8, costCents: expect.any(Number), intervals: 48, estimated: 0, billable: 48 }]);
    // The same day given as instants: identical.
    const instants = await get(`/api/usage?site=${SITE_30.id}&channel=E1&window=1d&from=2025-11-19T00:00:00%2B10:00&to=2025-11-20T00:00:00%2B10:00`);
    expect(instants.body.series).toEqual(day.body.series);
  });

  it('aggregates a 5-minute site into 30-minute buckets, and channel takes meter ids and types', async () => {
    const { body } = await get(`/api/usage?site=${SITE_5.id}&channel=E2,feedIn&window=30m&from=2025-11-20&to=2025-11-20`);
    expect(body.agg).toBe('sum');
    expect(body.series.map((s: any) => `${s.channelId} ${s.channelType}`)).toEqual(['E2 controlledLoad', 'B1 feedIn']);
    const [controlled, feedIn] = body.series;
    expect(controlled.points).toHaveLength(48);
    expect(controlled.points[0]).toMatchObject({ start: '2025-11-20T00:00:00+10:00', kwh: 0.3, costCents: 4.5, intervals: 6 });
    // Feed-in kWh stays positive; its cost is negative (income). 21:00 onwards is estimated.
    // Generation is stored (and served) negative, the spec's sign convention.
    expect(feedIn.points[0]).toMatchObject({ kwh: -1.2, costCents: -6 });
    expect(feedIn.points[42]).toMatchObject({ start: '2025-11-20T21:00:00+10:00', estimated: 6, billable: 0 });
  });
});

describe('validation', () => {
  const cases: Array<[string, string]> = [
    ['/api/prices?window=2h', 'window: expected one of 5m, 30m, 1h, 1d, 1mo, got "2h"'],
    ['/api/usage?agg=median', 'agg: expected one of min, max, avg, sum, got "median"'],
    ['/api/prices?from=yesterday', 'from: expected a NEM date (YYYY-MM-DD) or an ISO 8601 instant with an offset'],
    ['/api/prices?from=2025-11-20T10:00:00', 'from: expected a NEM date (YYYY-MM-DD) or an ISO 8601 instant with an offset'],
    ['/api/prices?windw=5m', 'Unrecognized key: "windw"'],
    ['/api/prices?site=NOPE', `no site "NOPE" (known sites: ${SITE_5.id}, ${SITE_30.id})`],
    ['/api/prices?from=2025-11-20&to=2025-11-19', 'from: must be before to'],
    ['/api/prices?site=a&site=b', 'site: given more than once'],
    ['/api/prices?channel=,', 'channel: expected channel types or meter ids'],
    ['/api/costs?from=2025-11-20T00:00:00Z', 'from: expected a date as YYYY-MM-DD'],
    ['/api/prices?window=5m&from=2024-11-01&to=2025-10-31', 'window: window=5m over this range could return up to'],
    ['/api/prices?from=9999-01-01&to=9999-12-31', 'from: expected a date in the years 2000 to 2100, got "9999-01-01"'],
    ['/api/usage?to=9999-12-31T23:59:59Z', 'to: expected a date in the years 2000 to 2100'],
    ['/api/prices?from=1999-12-31', 'from: expected a date in the years 2000 to 2100'],
    ['/api/costs?from=1900-01-01&to=9999-12-31', 'to: expected a date in the years 2000 to 2100'],
    ['/api/usage?channel=%00', '"channel": control characters are not allowed in parameters'],
    ['/api/prices/current?site=a%1Bb', '"site": control characters are not allowed in parameters'],
    ['/api/sites?%0A=1', '"\\n": control characters are not allowed in parameters'],
  ];
  it.each(cases)('%s → 400 saying what is wrong', async (path, problem) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body.error).toBe('invalid query parameters');
    expect(body.problems.join('\n')).toContain(problem);
  });

  it('a range too long for a fine window suggests one that fits, and auto mode widens by itself', async () => {
    const refused = await get('/api/prices?window=5m&from=2024-11-01&to=2025-10-31');
    expect(refused.body.problems[0]).toMatch(/more than the limit of 20000: use window=1d or wider, or a shorter range$/);
    const auto = await get('/api/prices?from=2024-11-01&to=2025-10-31');
    expect(auto.body).toMatchObject({ window: '1d', windowChosen: 'auto' });
  });
});

describe('other endpoints', () => {
  it('/api/sites and /api/summary', async () => {
    const sites = await get('/api/sites');
    expect(sites.body.sites.map((s: any) => [s.id, s.intervalLength])).toEqual([
      [SITE_5.id, 5],
      [SITE_30.id, 30],
    ]);
    const summary = await get(`/api/summary?site=${SITE_30.id}`);
    expect(summary.body.sites).toHaveLength(1);
    expect(summary.body.stored.map((r: any) => [r.dataType, r.rows])).toEqual([
      ['price', 144 * 2],
      ['usage', 96 * 2],
    ]);
  });

  it('/api/status reports coverage per site and data type', async () => {
    const { body } = await get('/api/status');
    expect(body.now).toBe(NOW.toISOString());
    expect(body.streams).toHaveLength(4);
    expect(body.streams.find((s: any) => s.siteId === SITE_30.id && s.dataType === 'usage')).toMatchObject({
      percentComplete: 100,
      intervals: { stored: 96, expected: 96 },
      consecutiveFailures: 1,
      lastError: { message: 'AMBER_SERVER: 502 from /usage', current: true },
    });
  });

  it('/api/prices/current defaults to the first active site', async () => {
    const { body } = await get('/api/prices/current');
    expect(body.siteId).toBe(SITE_5.id);
    expect(body.channels[0]).toMatchObject({ channelType: 'general', current: { perKwh: 33, intervalType: 'CurrentInterval' } });
    expect(body.forecast.length).toBeGreaterThan(0);
  });

  it('/api/costs defaults to 30 days ending yesterday and matches the daily report', async () => {
    const { body } = await get('/api/costs');
    expect(body).toMatchObject({ from: '2025-10-22', to: '2025-11-20' });
    expect(body.days).toEqual(await dailyCosts(db.pool, { siteIds: [SITE_5.id, SITE_30.id], from: '2025-10-22', to: '2025-11-20' }));
  });
});

describe('authentication', () => {
  it('with HTTP_API_TOKEN set, needs the bearer token or ?token=', async () => {
    expect((await get('/api/sites', { on: guarded })).status).toBe(401);
    expect((await get('/api/sites', { on: guarded, headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await get('/api/sites', { on: guarded, headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    // ?token= is authentication, not a query parameter the strict validation would refuse.
    const viaQuery = await get(`/api/prices?window=1d&token=${TOKEN}`, { on: guarded });
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.body.window).toBe('1d');
  });
});

describe('database not ready', () => {
  it('answers 503 with Retry-After while the schema is missing or the database is unreachable', async () => {
    const empty = await createTestDatabase({ migrated: false });
    const unreachable = createPool({ url: 'postgres://postgres@127.0.0.1:1/nothing', ssl: false }, silentLogger());
    const servers = [
      await startHttpServer({ port: 0, host: '127.0.0.1', routes: readRoutes({ pool: empty.pool, status: DEFAULT_STATUS_SETTINGS }), apiToken: null, logger: silentLogger() }),
      await startHttpServer({ port: 0, host: '127.0.0.1', routes: readRoutes({ pool: unreachable, status: DEFAULT_STATUS_SETTINGS }), apiToken: null, logger: silentLogger() }),
    ];
    try {
      for (const on of servers) {
        const response = await fetch(`http://127.0.0.1:${on.port}/api/status`);
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('30');
      }
    } finally {
      for (const on of servers) await on.close();
      await unreachable.end();
      await empty.drop();
    }
  });
});
