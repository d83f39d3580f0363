/**
 * The battery what-if and schedule over data the real collector gathered from the fake Amber server: the
 * dynamic programme against HiGHS's exact mixed-integer optimum (never below it, within 1% of the
 * savings; the LP relaxation below both), the strategies side by side over the read API and the command,
 * the forecast archive replayed for the forecast-driven strategy, a 30-minute site without feed-in, a site
 * without usage, and hostile input.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { baselineCost, score, type BatteryParams, type Series } from '../../src/battery/model.ts';
import { optimalSchedule } from '../../src/battery/optimal.ts';
import { batteryCommand } from '../../src/commands/battery.ts';
import { addDays, nemDayStart } from '../../src/domain/nem-time.ts';
import { batteryRoutes, MAX_BODY_BYTES } from '../../src/http/battery-api.ts';
import { sendJson, startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { loadBatteryHistory } from '../../src/query/battery-data.ts';
import { defaultSites } from '../fake-amber/server.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { solveExactly } from './exact-solver.ts';

const FIVE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE'; // general, controlled load, feed-in
const THIRTY = '01JB2WXYZ3M4N5P6Q7R8S9T0VA'; // general only
const NEW_SITE = '01NEWSITE0000000000000000P'; // pending, active from the last day: no usage yet
const START = new Date('2025-11-20T00:00:00Z'); // 10:00 NEM time
const HOUR = 3_600_000;
const DEFAULTS: BatteryParams = { capacityKwh: 13.5, chargeKw: 5, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null };
/** The battery as reports echo it: the single power too, while both directions are the same. */
const ECHOED = { ...DEFAULTS, powerKw: 5 };

let h: Harness;
let server: HttpServer;
let base: string;
const log = captureLogger();
/** The day the collector ran through hour by hour, archiving forecasts. */
const ARCHIVED_DAY = '2025-11-20';

beforeAll(async () => {
  const sites = [...defaultSites(START), { ...defaultSites(START)[1]!, id: NEW_SITE, nmi: '6305110000', status: 'pending' as const, activeFrom: '2025-11-22' }];
  h = await startHarness({ now: START, fake: { sites } });
  const collector = h.newCollector({ historicalStartDate: '2025-11-08' });
  await collector.discoverSites(AbortSignal.timeout(10_000));
  await collector.backfill(AbortSignal.timeout(120_000));
  // A day of hourly cycles archives the forecasts in force through it; then usage for it arrives.
  for (let hour = 0; hour <= 24; hour += 1) {
    h.clock.now = new Date(nemDayStart(ARCHIVED_DAY).getTime() + hour * HOUR + 60_000);
    await collector.runCycle(AbortSignal.timeout(30_000));
  }
  h.clock.now = new Date('2025-11-22T02:00:00Z'); // 12:00 on the 22nd: the 20th's usage is in
  await collector.runCycle(AbortSignal.timeout(30_000));
  await collector.settle();
  server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    routes: batteryRoutes({ pool: h.pool, defaults: DEFAULTS, now: () => h.clock.now }),
    apiToken: null,
    logger: log.logger,
  });
  base = `http://127.0.0.1:${server.port}`;
}, 300_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

async function history(siteId: string, intervalMinutes: number, hasFeedIn: boolean, from: string, to: string): Promise<Series> {
  const loaded = await loadBatteryHistory(h.pool, {
    siteId,
    intervalMinutes,
    hasFeedIn,
    from: nemDayStart(from),
    to: nemDayStart(addDays(to, 1)),
    historyFrom: nemDayStart(from),
  });
  return loaded.series;
}

describe('perfect foresight against the exact optimum (HiGHS)', () => {
  const cases: Array<[string, string, number, boolean, Partial<BatteryParams>]> = [
    ['5-minute site with feed-in, 3 days', FIVE, 5, true, {}],
    ['30-minute site without feed-in, 3 days', THIRTY, 30, false, {}],
    ['5-minute site, export limit 1 kW, small slow battery', FIVE, 5, true, { exportLimitKw: 1, capacityKwh: 5, chargeKw: 2.5, dischargeKw: 2.5, efficiency: 0.85, reserve: 0.2 }],
  ];
  it.each(cases)('%s: never below the MIP optimum, within 1 percent of its savings', (_name, siteId, minutes, hasFeedIn, overrides) => {
    return (async () => {
      const params = { ...DEFAULTS, ...overrides };
      const series = await history(siteId, minutes, hasFeedIn, '2025-11-15', '2025-11-17');
      expect(series.length).toBe((3 * 24 * 60) / minutes);
      const exact = solveExactly(series, params);
      const dp = score(series, params, optimalSchedule(series, params)).costCents;
      const baseline = baselineCost(series);
      expect(exact.lpCents).toBeLessThanOrEqual(exact.mipCents + 1e-6);
      expect(dp).toBeGreaterThanOrEqual(exact.mipCents - 1e-6);
      expect(dp - exact.mipCents).toBeLessThanOrEqual(0.01 * (baseline - exact.mipCents));
    })();
  }, 180_000);
});

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.json() };
}

describe('GET /api/battery/what-if', () => {
  it('a 5-minute site with feed-in: every strategy side by side; forecast-driven withheld where forecasts cover too little', async () => {
    const { status, body } = await get(`/api/battery/what-if?site=${FIVE}&from=2025-11-14&to=${ARCHIVED_DAY}&day=${ARCHIVED_DAY}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ siteId: FIVE, from: '2025-11-14', to: ARCHIVED_DAY, intervalMinutes: 5, hasFeedIn: true, battery: ECHOED, startSocKwh: 1.35 });
    expect(body.intervals + body.skippedIntervals.total).toBe(7 * 288);
    expect(body.intervals).toBe(7 * 288);
    const { baselineCostCents: baseline, selfConsumptionCostCents: self, perfectForesightCostCents: perfect, forecastDrivenCostCents: driven } = body;
    expect(perfect).toBeLessThan(self);
    expect(self).toBeLessThan(baseline);
    expect(body.savingsCents.perfectForesight).toBeCloseTo(baseline - perfect, 1);
    // Forecasts were archived only through the 20th (and reach 48 hours ahead of the last fetch): under 80%, no figure.
    expect(body.forecastDriven.coveredShare).toBeGreaterThan(0.1);
    expect(body.forecastDriven.coveredShare).toBeLessThan(0.2);
    expect(body.forecastDriven).toMatchObject({ minimumShare: 0.8, withheld: true });
    expect(driven).toBeNull();
    expect(body.savingsCents.forecastDriven).toBeNull();
    // The archived day alone is covered: the figure is given.
    const covered = (await get(`/api/battery/what-if?site=${FIVE}&from=${ARCHIVED_DAY}&to=${ARCHIVED_DAY}`)).body;
    expect(covered.forecastDriven.coveredShare).toBeGreaterThanOrEqual(0.8);
    expect(covered.forecastDriven.withheld).toBe(false);
    expect(covered.forecastDrivenCostCents).toBeGreaterThanOrEqual(covered.perfectForesightCostCents);
    expect(body.day.date).toBe(ARCHIVED_DAY);
    expect(body.day.intervals).toHaveLength(288);
    for (const interval of body.day.intervals) {
      for (const soc of Object.values(interval.socKwh) as number[]) {
        expect(soc).toBeGreaterThanOrEqual(1.35 - 1e-6);
        expect(soc).toBeLessThanOrEqual(13.5 + 1e-6);
      }
    }
  }, 60_000);

  it('a 30-minute site without feed-in; days without archived forecasts give null; missing usage is skipped and counted', async () => {
    const { status, body } = await get(`/api/battery/what-if?site=${THIRTY}&from=2025-11-12&to=2025-11-22&capacity=10&power=3&efficiency=1&reserve=0`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ intervalMinutes: 30, hasFeedIn: false, battery: { capacityKwh: 10, powerKw: 3, chargeKw: 3, dischargeKw: 3, efficiency: 1, reserve: 0, exportLimitKw: null } });
    // Usage of the 21st and 22nd has not arrived by noon on the 22nd (it lands about a day late).
    expect(body.skippedIntervals.missingUsage).toBeGreaterThanOrEqual(48);
    expect(body.intervals + body.skippedIntervals.total).toBe(11 * 48);
    expect(body.perfectForesightCostCents).toBeLessThan(body.baselineCostCents);
    const early = await get(`/api/battery/what-if?site=${THIRTY}&from=2025-11-12&to=2025-11-14`);
    expect(early.body.forecastDrivenCostCents).toBeNull();
    expect(early.body.forecastDriven).toEqual({ coveredIntervals: 0, coveredShare: 0, minimumShare: 0.8, withheld: false });
  });

  it('a charge power apart from the discharge power, and a starting charge, through the API and the command', async () => {
    const query = `site=${THIRTY}&from=2025-11-18&to=2025-11-20&day=2025-11-18`;
    const plain = (await get(`/api/battery/what-if?${query}&chargePower=3&dischargePower=5`)).body;
    const { status, body } = await get(`/api/battery/what-if?${query}&chargePower=3&dischargePower=5&soc=100%25`);
    expect(status).toBe(200);
    expect(body.battery).toEqual({ capacityKwh: 13.5, powerKw: null, chargeKw: 3, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null });
    expect(body.startSocKwh).toBe(13.5);
    // Starting full, each strategy has a battery's worth of energy more to use.
    expect(body.perfectForesightCostCents).toBeLessThan(plain.perfectForesightCostCents);
    expect(body.selfConsumptionCostCents).toBeLessThan(plain.selfConsumptionCostCents);
    expect(body.day.intervals[0].socKwh.selfConsumption).toBeLessThanOrEqual(13.5);
    expect(body.day.intervals[0].socKwh.selfConsumption).toBeGreaterThan(13.5 - 5 * 0.5 / Math.sqrt(0.9) - 1e-3);
    const byKwh = (await get(`/api/battery/what-if?${query}&chargePower=3&dischargePower=5&soc=13.5`)).body;
    expect(byKwh).toEqual(body);
  });

  it('defaults to the 30 days ending yesterday and the first site', async () => {
    const { status, body } = await get('/api/battery/what-if');
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: '2025-10-23', to: '2025-11-21' });
    expect([FIVE, THIRTY]).toContain(body.siteId);
  });

  it('a site without usage says so', async () => {
    const { status, body } = await get(`/api/battery/what-if?site=${NEW_SITE}`);
    expect(status).toBe(400);
    expect(body.problems[0]).toMatch(/has no usage stored yet/);
  });

  const bad: Array<[string, string]> = [
    ['capacity=0', 'capacity: expected a number of kWh greater than 0'],
    ['capacity=-3', 'capacity: expected'],
    ['power=abc', 'power: expected a number of kW greater than 0'],
    ['power=0', 'power: expected'],
    ['efficiency=0', 'efficiency: expected a round-trip efficiency from 0.5 to 1'],
    ['efficiency=0.0001', 'efficiency: expected a round-trip efficiency from 0.5 to 1, got "0.0001"'],
    ['power=28', 'power: the power may be at most 2 kW per kWh of capacity (27 kW for 13.5 kWh), got 28 kW'],
    ['capacity=1', 'capacity: the power may be at most 2 kW per kWh of capacity (2 kW for 1 kWh), got 5 kW'],
    ['efficiency=1.01', 'efficiency: expected'],
    ['reserve=1', 'reserve: expected a share of the capacity from 0 up to (not including) 1'],
    ['reserve=-0.1', 'reserve: expected'],
    ['exportLimit=-1', 'exportLimit: expected'],
    ['capacity=1e3', 'capacity: expected'],
    ['capacity=NaN', 'capacity: expected'],
    ['capacity=Infinity', 'capacity: expected'],
    ['from=2025-11-20&to=2025-11-10', 'from: 2025-11-20 is after to 2025-11-10'],
    ['from=2024-01-01&to=2025-11-10', 'from/to: at most 366 days at a time'],
    ['from=2025-13-01', 'from: expected a date as YYYY-MM-DD'],
    ['from=2025-11-10&to=2025-11-12&day=2025-11-13', 'day: 2025-11-13 is not between 2025-11-10 and 2025-11-12'],
    ['site=NOPE', 'no site "NOPE"'],
    ['capacity=1&capacity=2', 'capacity: given more than once'],
    ['volts=240', 'Unrecognized key: "volts"'],
    ['chargePower=0', 'chargePower: expected a number of kW greater than 0'],
    ['dischargePower=abc', 'dischargePower: expected a number of kW greater than 0'],
    ['dischargePower=28', 'dischargePower: the power may be at most 2 kW per kWh of capacity (27 kW for 13.5 kWh), got 28 kW'],
    ['capacity=2&chargePower=1', 'capacity: the power may be at most 2 kW per kWh of capacity (4 kW for 2 kWh), got 5 kW'],
    ['soc=150%25', 'soc: expected a percentage of the capacity from the reserve (10%) to 100%, got 150%'],
    ['soc=5%25', 'soc: expected a percentage of the capacity from the reserve (10%) to 100%, got 5%'],
    ['soc=14', 'soc: expected kWh from the reserve (1.35) to the capacity (13.5), or a percentage such as 50%, got 14'],
    ['soc=half', 'soc: expected kWh or a percentage of the capacity such as 50%, got "half"'],
    ['soc=%25', 'soc: expected kWh or a percentage'],
  ];
  it.each(bad)('%s → 400 naming the parameter', async (query, problem) => {
    const { status, body } = await get(`/api/battery/what-if?${query}`);
    expect(status).toBe(400);
    expect(body.problems.join('\n')).toContain(problem);
  });
});

describe('the calculation runs in a worker thread with a deadline', () => {
  async function serverWith(limits: { deadlineMs: number; maxHeapMb: number }): Promise<string> {
    const ping = { method: 'GET' as const, path: '/ping', handle: (_req: unknown, res: ServerResponse) => sendJson(res, 200, { ok: true }) };
    const other = await startHttpServer({ port: 0, host: '127.0.0.1', routes: [ping, ...batteryRoutes({ pool: h.pool, defaults: DEFAULTS, limits })], apiToken: null, logger: log.logger });
    onTestFinished(() => other.close());
    return `http://127.0.0.1:${other.port}`;
  }
  const heavy = `site=${FIVE}&from=2025-11-08&to=2025-11-21&efficiency=0.5&power=27`;

  it('the server answers other requests at once while a what-if computes', async () => {
    const url = await serverWith({ deadlineMs: 120_000, maxHeapMb: 96 });
    const whatIf = fetch(`${url}/api/battery/what-if?${heavy}`);
    let done = false;
    void whatIf.finally(() => (done = true));
    const latencies: number[] = [];
    while (!done) {
      const started = performance.now();
      expect((await fetch(`${url}/ping`)).status).toBe(200);
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await whatIf).status).toBe(200);
    expect(latencies.length).toBeGreaterThan(5);
    // On the main thread the calculation held every ping for seconds.
    expect(Math.max(...latencies)).toBeLessThan(500);
  }, 120_000);

  it('past its deadline the worker is stopped and the answer is a 504 saying so; the next request works', async () => {
    const url = await serverWith({ deadlineMs: 300, maxHeapMb: 96 });
    const response = await fetch(`${url}/api/battery/what-if?${heavy}`);
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: string }).error).toBe('the battery calculation took longer than 0.3 s and was stopped: ask for a shorter range');
    const plan = await fetch(`${url}/api/optimize/${FIVE}?horizon=1`);
    // A one-hour plan may now fit in 0.3 s: what matters is that it is answered, not refused as busy by a stuck worker.
    expect([200, 504]).toContain(plan.status);
    expect((await get(`/api/optimize/${FIVE}?horizon=1`)).status).toBe(200);
  }, 60_000);

  it('a worker that runs out of its heap ends alone: a 503 saying so', async () => {
    const url = await serverWith({ deadlineMs: 120_000, maxHeapMb: 4 });
    const response = await fetch(`${url}/api/battery/what-if?${heavy}`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: string }).error).toMatch(/needed more than its 4 MB of memory and was stopped/);
    expect((await fetch(`${url}/ping`)).status).toBe(200);
  }, 60_000);
});

describe('the schedule ahead', () => {
  async function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; body: any }> {
    const response = await fetch(`${base}/api/optimize`, { method: 'POST', headers, body });
    return { status: response.status, body: await response.json() };
  }

  it('GET /api/optimize/{siteId}: a plan over the latest archived forecast with the configured defaults', async () => {
    const { status, body } = await get(`/api/optimize/${FIVE}`);
    expect(status).toBe(200);
    expect(body.battery).toEqual(ECHOED);
    expect(body.startSocKwh).toBeCloseTo(1.35);
    expect(body.intervals.length).toBeGreaterThan(20);
    const first = body.intervals[0];
    expect(Date.parse(first.start)).toBeLessThanOrEqual(h.clock.now.getTime());
    expect(Date.parse(first.end)).toBeGreaterThan(h.clock.now.getTime());
    for (const i of body.intervals) {
      expect(['charge', 'discharge', 'idle']).toContain(i.action);
      expect(i.chargeKwh === 0 || i.dischargeKwh === 0).toBe(true);
      expect(i.socKwh).toBeGreaterThanOrEqual(1.35 - 1e-3);
      expect(i.socKwh).toBeLessThanOrEqual(13.5 + 1e-3);
      expect(Object.keys(i).sort()).toEqual(['action', 'chargeKwh', 'demandKwh', 'dischargeKwh', 'end', 'feedInPrice', 'gridKwh', 'importPrice', 'socKwh', 'start']);
    }
    expect(body.expectedCostCents).toBeLessThanOrEqual(body.noBatteryCostCents);
    expect(body.savingsCents).toBeCloseTo(body.noBatteryCostCents - body.expectedCostCents, 1);
  });

  it('POST /api/optimize: site, battery, state of charge and horizon from the body', async () => {
    const { status, body } = await post(JSON.stringify({ site: THIRTY, battery: { capacityKwh: 10, powerKw: 3, efficiency: 0.95, reserve: 0 }, socKwh: 10, horizonHours: 6 }));
    expect(status).toBe(200);
    expect(body.battery).toEqual({ capacityKwh: 10, powerKw: 3, chargeKw: 3, dischargeKw: 3, efficiency: 0.95, reserve: 0, exportLimitKw: null });
    expect(body.startSocKwh).toBe(10);
    expect(body.intervals.length).toBeGreaterThan(0);
    expect(body.intervals.length).toBeLessThanOrEqual(13);
    expect(body.intervals.every((i: any) => i.feedInPrice === 0 && i.end.endsWith('+10:00'))).toBe(true);
  });

  const hostile: Array<[string, number, string, string]> = [
    ['bad JSON', 400, '{"site": ', 'body: not valid JSON'],
    ['an array', 400, '[1,2,3]', 'expected object'],
    ['no site', 400, '{}', 'site: expected a site id'],
    ['an unknown site', 400, JSON.stringify({ site: 'NOPE' }), 'no site "NOPE"'],
    ['an explicit null export limit', 200, JSON.stringify({ site: FIVE, battery: { exportLimitKw: null }, horizonHours: 1 }), 'savingsCents'],
    ['a string capacity', 400, JSON.stringify({ site: FIVE, battery: { capacityKwh: '13.5' } }), 'battery.capacityKwh: expected a number'],
    ['zero power', 400, JSON.stringify({ site: FIVE, battery: { powerKw: 0 } }), 'battery.powerKw: expected a number of kW greater than 0'],
    ['efficiency over 1', 400, JSON.stringify({ site: FIVE, battery: { efficiency: 2 } }), 'battery.efficiency: expected'],
    ['reserve 1', 400, JSON.stringify({ site: FIVE, battery: { reserve: 1 } }), 'battery.reserve: expected'],
    ['an efficiency of 1e-300', 400, JSON.stringify({ site: FIVE, battery: { efficiency: 1e-300 } }), 'battery.efficiency: expected a round-trip efficiency from 0.5 to 1'],
    ['a power of 10000 kW', 400, JSON.stringify({ site: FIVE, battery: { powerKw: 10_000 } }), 'battery.powerKw: the power may be at most 2 kW per kWh'],
    ['a huge number', 400, '{"site": "x", "socKwh": 1e999}', 'socKwh: expected a number'],
    ['both a charge in kWh and in percent', 400, JSON.stringify({ site: FIVE, socKwh: 5, socPercent: 50 }), 'socKwh/socPercent: give the starting charge one way, not both'],
    ['a percentage over 100', 400, JSON.stringify({ site: FIVE, socPercent: 101 }), 'socPercent: expected a percentage of the capacity from the reserve (10%) to 100%, got 101%'],
    ['a string charge power', 400, JSON.stringify({ site: FIVE, battery: { chargeKw: '3' } }), 'battery.chargeKw: expected a number'],
    ['a discharge power over 2 kW per kWh', 400, JSON.stringify({ site: FIVE, battery: { capacityKwh: 2, chargeKw: 1, dischargeKw: 5 } }), 'battery.dischargeKw: the power may be at most 2 kW per kWh'],
    ['a charge power, a discharge power and a percentage', 200, JSON.stringify({ site: FIVE, battery: { chargeKw: 3, dischargeKw: 5 }, socPercent: 50, horizonHours: 1 }), ':6.75,'],
    ['a state of charge below the reserve', 400, JSON.stringify({ site: FIVE, socKwh: 0.5 }), 'socKwh: expected kWh from the reserve (1.35) to the capacity (13.5), or a percentage such as 50%, got 0.5'],
    ['a horizon of 100 hours', 400, JSON.stringify({ site: FIVE, horizonHours: 100 }), 'horizonHours: expected hours greater than 0 and at most 48'],
    ['an unknown field', 400, JSON.stringify({ site: FIVE, volts: 240 }), 'Unrecognized key: "volts"'],
    ['a body over the limit', 413, JSON.stringify({ site: FIVE, pad: 'x'.repeat(MAX_BODY_BYTES) }), 'at most'],
  ];
  it.each(hostile)('POST with %s → %i', async (_name, expected, body, text) => {
    const response = await post(body);
    expect(response.status).toBe(expected);
    expect(JSON.stringify(response.body)).toContain(text.replaceAll('"', '\\"'));
  });

  it('refuses a body that is not JSON, and one streamed past the limit without a length', async () => {
    expect((await post('site=x', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const response = await fetch(`${base}/api/optimize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunks, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    // The server still answers.
    expect((await get(`/api/optimize/${FIVE}?horizon=1`)).status).toBe(200);
  });

  it.each(['/api/optimize/%ff', '/api/optimize/%E0%A4%A', '/api/battery/%C0%80'])('%s (a malformed percent-encoding) → 400, and no error logged', async (path) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body.error).toBe('malformed request target');
    expect(log.lines.filter((line) => line['level'] === 50)).toEqual([]);
  });

  it('the running interval counts for the time it has left: at 12:12:30 the 12:00–12:30 step has 17.5 minutes', async () => {
    const at = (iso: string) => {
      const other = batteryRoutes({ pool: h.pool, defaults: DEFAULTS, now: () => new Date(iso) });
      return startHttpServer({ port: 0, host: '127.0.0.1', routes: other, apiToken: null, logger: log.logger });
    };
    const query = `/api/optimize/${THIRTY}?capacity=100&power=0.5&soc=50%25&horizon=3`;
    const plans: any[] = [];
    for (const iso of ['2025-11-22T02:00:00Z', '2025-11-22T02:12:30Z']) {
      const other = await at(iso);
      onTestFinished(() => other.close());
      const response = await fetch(`http://127.0.0.1:${other.port}${query}`);
      expect(response.status).toBe(200);
      plans.push(await response.json());
    }
    const [whole, running] = plans;
    expect(running.intervals[0]).toMatchObject({ start: '2025-11-22T12:00:00+10:00', end: '2025-11-22T12:30:00+10:00' });
    // The load forecast and the energy limits are 17.5 minutes' worth, not 30 (0.5 kW for 17.5 minutes: 0.146 kWh).
    expect(running.intervals[0].demandKwh).toBeCloseTo((whole.intervals[0].demandKwh * 17.5) / 30, 2);
    expect(running.intervals[0].chargeKwh).toBeLessThanOrEqual((0.5 * 17.5) / 60 + 1e-3);
    expect(running.intervals[0].dischargeKwh).toBeLessThanOrEqual((0.5 * 17.5) / 60 + 1e-3);
    expect(running.intervals[0].socKwh).toBeCloseTo(50 + running.intervals[0].chargeKwh * Math.sqrt(0.9) - running.intervals[0].dischargeKwh / Math.sqrt(0.9), 2);
    expect(running.intervals.slice(1).map((i: any) => i.start)).toEqual(whole.intervals.slice(1).map((i: any) => i.start));
    // The command plans the same from the same instant.
    const run = environmentAt(new Date('2025-11-22T02:12:30Z'));
    expect(await batteryCommand.run(['plan', '--site', THIRTY, '--capacity', '100', '--power', '0.5', '--soc', '50%', '--horizon', '3', '--json'], run.env)).toBe(0);
    expect(JSON.parse(run.out.join(''))).toEqual(running);
  });

  it('GET /api/optimize with bad numbers names them', async () => {
    const { status, body } = await get(`/api/optimize/${FIVE}?soc=lots&horizon=0&capacity=0`);
    expect(status).toBe(400);
    expect(body.problems).toEqual(expect.arrayContaining([expect.stringContaining('soc: expected kWh or a percentage of the capacity such as 50%'), expect.stringContaining('horizon: expected hours'), expect.stringContaining('capacity: expected')]));
  });
});

function environmentAt(now: Date) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    env: {
      out: { write: async (text: string) => void out.push(text) },
      err: { write: async (text: string) => void err.push(text) },
      now,
      readConfig: () => ({ database: { url: h.dbUrl, ssl: false as const }, battery: DEFAULTS }),
      openDatabase: async () => ({ pool: h.pool, close: async () => {} }),
    },
  };
}

describe('amber-collector battery', () => {
  const environment = () => environmentAt(h.clock.now);

  it('what-if --json prints what the API returns; the text names every strategy', async () => {
    const json = environment();
    const args = ['what-if', '--site', THIRTY, '--from', '2025-11-18', '--to', '2025-11-20'];
    expect(await batteryCommand.run([...args, '--json'], json.env)).toBe(0);
    const api = await get(`/api/battery/what-if?site=${THIRTY}&from=2025-11-18&to=2025-11-20`);
    expect(JSON.parse(json.out.join(''))).toEqual(api.body);
    const text = environment();
    expect(await batteryCommand.run(args, text.env)).toBe(0);
    const printed = text.out.join('');
    for (const name of ['No battery', 'Self-consumption', 'Perfect foresight', 'Forecast-driven']) expect(printed).toContain(name);
    expect(printed).toContain('144 scored, 0 skipped');
    expect(printed).toContain('Forecast-driven: not given: archived forecasts cover only');
    const asymmetric = environment();
    expect(await batteryCommand.run([...args, '--charge-power', '3', '--discharge-power', '5', '--soc', '100%'], asymmetric.env)).toBe(0);
    expect(asymmetric.out.join('')).toContain('Battery: 13.5 kWh, 3 kW charge / 5 kW discharge, 90% round trip, 10% reserve, starting at 13.5 kWh');
  });

  it('plan prints the schedule', async () => {
    const run = environment();
    expect(await batteryCommand.run(['plan', '--site', FIVE, '--soc', '5', '--horizon', '2'], run.env)).toBe(0);
    expect(run.out.join('')).toMatch(/Expected cost -?\$\d+\.\d\d against -?\$\d+\.\d\d without a battery/);
  });

  it.each([
    [['what-if', '--capacity', '0'], '--capacity: expected a number of kWh greater than 0'],
    [['what-if', '--efficiency', '1.5', '--reserve', '1'], '--efficiency: expected'],
    [['what-if', '--efficiency', '0.0001'], '--efficiency: expected a round-trip efficiency from 0.5 to 1'],
    [['plan', '--power', '100'], '--power: the power may be at most 2 kW per kWh of capacity'],
    [['what-if', '--from', '2025-11-20', '--to', '2025-11-01'], '--from: 2025-11-20 is after --to 2025-11-01'],
    [['what-if', '--site', 'NOPE'], 'no site "NOPE"'],
    [['plan', '--soc', '20'], '--soc: expected kWh from the reserve'],
    [['what-if', '--soc', '101%'], '--soc: expected a percentage of the capacity from the reserve (10%) to 100%, got 101%'],
    [['what-if', '--soc', 'full'], '--soc: expected kWh or a percentage of the capacity such as 50%, got "full"'],
    [['plan', '--charge-power', '0'], '--charge-power: expected a number of kW greater than 0'],
    [['what-if', '--capacity', '2', '--charge-power', '1', '--discharge-power', '4.5'], '--discharge-power: the power may be at most 2 kW per kWh of capacity'],
    [['plan', '--from', '2025-11-01'], '--from: not an option of battery plan'],
    [['simulate'], 'unknown subcommand "simulate"'],
  ])('%j → exit 2 naming the parameter', async (args, problem) => {
    const run = environment();
    expect(await batteryCommand.run(args, run.env)).toBe(2);
    expect(run.err.join('')).toContain(problem);
  });
});
