/**
 * `compare` over data the real collector gathered from the fake Amber server: a flat plan equals the
 * metered kWh (summed in SQL) × its rates + days × its supply charge, to the cent; a time-of-use plan across
 * the start of daylight saving (NSW, 2025-10-05) equals the same usage classified by PostgreSQL's own time
 * zone rules; a 30-minute Victorian site; Amber's column equals `query costs`; the battery lowers no bill;
 * the command and `GET /api/compare` agree, with the battery too (run in the battery worker, refused while
 * it is busy), and hostile requests are refused with clear text.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCommand, renderComparison } from '../../src/commands/compare.ts';
import type { BatteryParams } from '../../src/domain/battery-limits.ts';
import type { FixedCharges } from '../../src/domain/fixed-charges.ts';
import { batteryRunner } from '../../src/http/battery-thread.ts';
import { compareRoutes } from '../../src/http/compare-api.ts';
import { ReadGate } from '../../src/http/read-gate.ts';
import { startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { comparePlans, type CompareReport } from '../../src/plans/plan-comparison.ts';
import { parsePlans } from '../../src/plans/plan-file.ts';
import { requireSite } from '../../src/query/site-selection.ts';
import { defaultSites } from '../fake-amber/server.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { captureIo } from '../helpers/command-io.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { everyCommand } from '../readme/readme-text.ts';

const FIVE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE'; // NSW (NMI 4…), 5-minute: general E1, controlled load E2, feed-in B1
const THIRTY = '01JB2WXYZ3M4N5P6Q7R8S9T0VA'; // VIC (NMI 6…), 30-minute: general E1 only
const START = new Date('2025-10-10T02:00:00Z');
const FROM = '2025-09-28';
const TO = '2025-10-09';
const EXAMPLE_PLANS = new URL('../../examples/compare-plans.yaml', import.meta.url).pathname;
const BATTERY: BatteryParams = { capacityKwh: 10, chargeKw: 5, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null };

const PLANS_YAML = `plans:
  - name: Flat
    general: 30
    controlledLoad: 15
    feedIn: 5
    dailySupplyCents: 100
    controlledLoadDailySupplyCents: 10
    monthlyFeeDollars: 30
  - name: TOU
    general:
      - { name: peak, centsPerKwh: 50, days: weekdays, from: "14:00", to: "20:00" }
      - { name: off-peak, centsPerKwh: 20 }
    feedIn:
      - { centsPerKwh: 8, from: "17:00", to: "19:00" }
      - { centsPerKwh: 1 }
    dailySupplyCents: 90
`;
const plans = parsePlans(PLANS_YAML, 'plans.yaml');

let h: Harness;
let server: HttpServer;
let base: string;
let plansFile: string;
/** The battery runner's one-at-a-time gate, held by a test to see the refusal while a calculation runs. */
const batteryGate = new ReadGate({ concurrency: 1, queueLength: 0, maxWaitMs: 5_000 });

beforeAll(async () => {
  h = await startHarness({ now: START, fake: { sites: defaultSites(START).slice(0, 2) } });
  const collector = h.newCollector({ historicalStartDate: FROM });
  await collector.discoverSites(AbortSignal.timeout(10_000));
  await collector.backfill(AbortSignal.timeout(120_000));
  await collector.settle();
  plansFile = join(mkdtempSync(join(tmpdir(), 'compare-')), 'plans.yaml');
  writeFileSync(plansFile, PLANS_YAML);
  const battery = { defaults: BATTERY, runner: batteryRunner({ pool: h.pool, gate: batteryGate }) };
  server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    routes: [
      ...compareRoutes({ pool: h.pool, plansFile, battery, now: () => h.clock.now }),
      ...compareRoutes({ pool: h.pool, plansFile: null, battery }).map((r) => ({ ...r, path: '/api/compare-unset' })),
    ],
    apiToken: null,
    logger: captureLogger().logger,
  });
  base = `http://127.0.0.1:${server.port}`;
}, 300_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

/** Metered kWh per NEM month and channel type, and the days with usage, straight from the table. */
async function meteredByMonth(siteId: string) {
  const result = await h.pool.query<{ month: string; channel_type: string; kwh: number; days: number }>(
    `SELECT to_char(nem_date, 'YYYY-MM') AS month, channel_type, sum(abs(kwh))::float8 AS kwh, count(DISTINCT nem_date)::int AS days
     FROM usage_data WHERE site_id = $1 AND nem_date BETWEEN $2 AND $3 GROUP BY 1, 2 ORDER BY 1, 2`,
    [siteId, FROM, TO],
  );
  const months = new Map<string, { days: number; kwh: Record<string, number> }>();
  for (const row of result.rows) {
    const entry = months.get(row.month) ?? { days: row.days, kwh: {} };
    entry.days = Math.max(entry.days, row.days);
    entry.kwh[row.channel_type] = row.kwh;
    months.set(row.month, entry);
  }
  return months;
}

async function compare(siteId: string, battery: BatteryParams | null = null, fixedCharges: FixedCharges | null = null): Promise<CompareReport> {
  return comparePlans(h.pool, { site: await requireSite(h.pool, siteId), from: FROM, to: TO, plans, battery, fixedCharges });
}

describe('compare', () => {
  it('a flat plan equals metered kWh × rate + days × supply + the monthly fee pro rata, by hand, per month and in total', async () => {
    const report = await compare(FIVE);
    const metered = await meteredByMonth(FIVE);
    expect(report.months.map((m) => m.month)).toEqual(['2025-09', '2025-10']);
    let total = 0;
    for (const month of report.months) {
      const hand = metered.get(month.month)!;
      expect(month.days).toBe(hand.days);
      const daysInMonth = month.month === '2025-09' ? 30 : 31;
      const expected = hand.kwh.general! * 30 + hand.kwh.controlledLoad! * 15 - hand.kwh.feedIn! * 5 + hand.days * (100 + 10) + (3000 * hand.days) / daysInMonth;
      const flat = month.plans.find((p) => p.name === 'Flat')!;
      expect(Math.abs(flat.totalCents - expected)).toBeLessThan(0.01);
      expect(flat.energyCents.feedIn).toBeLessThan(0); // exporting earns
      expect(month.usageKwh.general).toBeCloseTo(hand.kwh.general!, 2);
      total += expected;
    }
    expect(Math.abs(report.total.plans[0]!.totalCents - total)).toBeLessThan(0.02);
    expect(report.plans.map((p) => p.timeZone)).toEqual(['Australia/Sydney', 'Australia/Sydney']);
  });

  it('a time-of-use plan reads its periods in local time across the start of daylight saving, as PostgreSQL classifies them', async () => {
    const report = await compare(FIVE);
    // Independently: each interval's start in Sydney time by PostgreSQL's own zone rules, classified in SQL.
    const hand = await h.pool.query<{ month: string; cents: number; days: number }>(
      `WITH u AS (
         SELECT nem_date, channel_type, abs(kwh) AS kwh, (nem_time - make_interval(mins => duration)) AT TIME ZONE 'Australia/Sydney' AS local
         FROM usage_data WHERE site_id = $1 AND nem_date BETWEEN $2 AND $3
       )
       SELECT to_char(nem_date, 'YYYY-MM') AS month, count(DISTINCT nem_date)::int AS days,
              sum(CASE
                    WHEN channel_type = 'feedIn' THEN -kwh * CASE WHEN local::time >= '17:00' AND local::time < '19:00' THEN 8 ELSE 1 END
                    ELSE kwh * CASE WHEN extract(isodow FROM local) <= 5 AND local::time >= '14:00' AND local::time < '20:00' THEN 50 ELSE 20 END
                  END)::float8 AS cents
       FROM u GROUP BY 1 ORDER BY 1`,
      [FIVE, FROM, TO],
    );
    for (const row of hand.rows) {
      const tou = report.months.find((m) => m.month === row.month)!.plans.find((p) => p.name === 'TOU')!;
      expect(Math.abs(tou.totalCents - (row.cents + row.days * 90))).toBeLessThan(0.01);
    }
    // Daylight saving matters: the same periods read in Brisbane time (no daylight saving) price October differently.
    const brisbane = parsePlans(PLANS_YAML.replace('  - name: TOU\n', '  - name: TOU\n    timeZone: Australia/Brisbane\n'), 'plans.yaml');
    const priced = async (from: string, to: string, p: typeof plans) =>
      (await comparePlans(h.pool, { site: await requireSite(h.pool, FIVE), from, to, plans: p, battery: null, fixedCharges: null })).total.plans[1]!.totalCents;
    expect(await priced('2025-10-06', TO, brisbane)).not.toBeCloseTo(await priced('2025-10-06', TO, plans), 0);
    // Before daylight saving the two zones agree (both UTC+10).
    expect(await priced('2025-09-26', '2025-10-03', brisbane)).toBeCloseTo(await priced('2025-09-26', '2025-10-03', plans), 6);
  });

  it('a 30-minute Victorian site: flat and time-of-use by hand, in Melbourne time, no controlled-load supply without a controlled-load channel', async () => {
    const report = await compare(THIRTY);
    expect(report.intervalMinutes).toBe(30);
    expect(report.plans.map((p) => p.timeZone)).toEqual(['Australia/Melbourne', 'Australia/Melbourne']);
    const metered = await meteredByMonth(THIRTY);
    for (const month of report.months) {
      const hand = metered.get(month.month)!;
      const daysInMonth = month.month === '2025-09' ? 30 : 31;
      const flat = month.plans[0]!;
      expect(Math.abs(flat.totalCents - (hand.kwh.general! * 30 + hand.days * 100 + (3000 * hand.days) / daysInMonth))).toBeLessThan(0.01);
      expect(month.usageKwh.feedIn).toBe(0);
    }
    const hand = await h.pool.query<{ cents: number; days: number }>(
      `SELECT sum(kwh * CASE WHEN extract(isodow FROM l) <= 5 AND l::time >= '14:00' AND l::time < '20:00' THEN 50 ELSE 20 END)::float8 AS cents,
              count(DISTINCT nem_date)::int AS days
       FROM (SELECT nem_date, kwh, (nem_time - make_interval(mins => duration)) AT TIME ZONE 'Australia/Melbourne' AS l
             FROM usage_data WHERE site_id = $1 AND nem_date BETWEEN $2 AND $3) u`,
      [THIRTY, FROM, TO],
    );
    expect(Math.abs(report.total.plans[1]!.totalCents - (hand.rows[0]!.cents + hand.rows[0]!.days * 90))).toBeLessThan(0.02);
  });

  it('a site whose NMI names no state needs the plan to name its time zone', async () => {
    const site = { ...(await requireSite(h.pool, FIVE)), nmi: 'X000000001' };
    await expect(comparePlans(h.pool, { site, from: FROM, to: TO, plans, battery: null, fixedCharges: null })).rejects.toThrow(
      'plan "Flat": site 01HQ7ZV3K8D4N5XWB2C9R6T1AE\'s NMI X000000001 does not say which state it is in: give the plan a timeZone',
    );
    const named = parsePlans(PLANS_YAML.replace('  - name: Flat\n', '  - name: Flat\n    timeZone: Australia/Sydney\n').replace('  - name: TOU\n', '  - name: TOU\n    timeZone: Australia/Sydney\n'), 'plans.yaml');
    const report = await comparePlans(h.pool, { site, from: FROM, to: TO, plans: named, battery: null, fixedCharges: null });
    expect(report.total.plans.map((p) => p.totalCents)).toEqual((await compare(FIVE)).total.plans.map((p) => p.totalCents));
  });

  it("Amber's column is the cost model's energy per channel, labelled energy only without fixed charges; differences then compare energy", async () => {
    const report = await compare(FIVE);
    expect(report.basis).toBe('energy only');
    // By hand: each register × its own price, summed per month and meter channel, each rounded to the cent as a bill line.
    const hand = await h.pool.query<{ month: string; cents: number }>(
      `SELECT month, sum(round(cents))::float8 AS cents FROM (
         SELECT to_char(nem_date, 'YYYY-MM') AS month, channel_id, sum(abs(kwh) * per_kwh * CASE WHEN channel_type = 'feedIn' THEN 1 ELSE sign(kwh) END) AS cents
         FROM usage_data WHERE site_id = $1 AND nem_date BETWEEN $2 AND $3 GROUP BY 1, 2) c
       GROUP BY month ORDER BY month`,
      [FIVE, FROM, TO],
    );
    expect(report.months.map((m) => m.amber.totalCents)).toEqual(hand.rows.map((r) => r.cents));
    expect(report.total.amber.fixedCents).toBeNull();
    for (const month of report.months) {
      for (const plan of month.plans) {
        const energy = plan.energyCents.general + plan.energyCents.controlledLoad + plan.energyCents.feedIn;
        const amberEnergy = month.amber.energyCents.general + month.amber.energyCents.controlledLoad + month.amber.energyCents.feedIn;
        expect(plan.differenceCents).toBeCloseTo(energy - amberEnergy, 1);
      }
    }
  });

  it("with FIXED_CHARGES_FILE's charges Amber's column adds supply and membership as the statement bills them, and differences compare totals", async () => {
    const fixedCharges: FixedCharges = new Map([[FIVE, [{ from: '2025-09-01', supplyCentsPerDay: { E1: 90, E2: 5 }, membershipDollarsPerMonth: 15, otherFees: [] }]]]);
    const report = await compare(FIVE, null, fixedCharges);
    expect(report.basis).toBe('energy and fixed charges');
    for (const month of report.months) {
      const daysInMonth = month.month === '2025-09' ? 30 : 31;
      expect(month.amber.fixedCents).toBe(Math.round(month.days * 90) + Math.round(month.days * 5) + Math.round((1500 * month.days) / daysInMonth));
      for (const plan of month.plans) expect(plan.differenceCents).toBeCloseTo(plan.totalCents - month.amber.totalCents, 1);
    }
    expect(report.total.amber.fixedCents).toBeCloseTo(report.months.reduce((sum, m) => sum + m.amber.fixedCents!, 0), 6);
  });

  it('with the battery: every tariff costs no more than without it, month by month', async () => {
    const report = await compare(FIVE, BATTERY);
    expect(report.battery).toMatchObject({ capacityKwh: 10, skippedIntervals: 0 });
    expect(report.battery!.intervals).toBe(12 * 288);
    for (const row of [...report.months, report.total]) {
      for (const costs of [row.amber, ...row.plans]) {
        expect(costs.withBatteryCents).not.toBeNull();
        expect(costs.withBatteryCents!).toBeLessThanOrEqual(costs.totalCents + 0.01);
      }
    }
    // On Amber's prices a battery saves something over days of solar and price swings.
    expect(report.total.amber.withBatteryCents!).toBeLessThan(report.total.amber.totalCents);
    expect(renderComparison(report)).toContain('With a battery (10 kWh, 5 kW, 90% round trip, 10% reserve)');
  });
});

describe('the command and the API', () => {
  function environment() {
    const { out, err, io } = captureIo();
    const config = { database: { url: h.dbUrl, ssl: false as const }, battery: BATTERY, comparePlansFile: plansFile as string | null, fixedCharges: null };
    return { out, err, env: { ...io, now: h.clock.now, readConfig: () => config, openDatabase: async () => ({ pool: h.pool, close: async () => {} }) } };
  }

  async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('--json prints what the API returns; the text shows each month, each plan and the energy-only label', async () => {
    const json = environment();
    expect(await compareCommand.run(['--site', FIVE, '--from', FROM, '--to', TO, '--json'], json.env)).toBe(0);
    const api = await get(`/api/compare?site=${FIVE}&from=${FROM}&to=${TO}`);
    expect(api.status).toBe(200);
    expect(JSON.parse(json.out.join(''))).toEqual(api.body);
    const text = environment();
    expect(await compareCommand.run(['--site', FIVE, '--from', FROM, '--to', TO, '--plans', plansFile], text.env)).toBe(0);
    const printed = text.out.join('');
    for (const expected of ['2025-09', '2025-10', 'total', 'Flat', 'TOU', 'Amber (energy only)', 'vs Amber']) expect(printed).toContain(expected);
    expect(printed).toMatch(/-?\$\d[\d,]*\.\d\d/);
  });

  it('battery=1 is `compare --battery --json`, worked out in the battery worker; its parameters set the battery', async () => {
    const json = environment();
    expect(await compareCommand.run(['--site', FIVE, '--from', FROM, '--to', TO, '--battery', '--json'], json.env)).toBe(0);
    const api = await get(`/api/compare?site=${FIVE}&from=${FROM}&to=${TO}&battery=1`);
    expect(api.status).toBe(200);
    expect(api.body).toEqual(JSON.parse(json.out.join('')));
    expect(api.body.battery).toMatchObject({ capacityKwh: 10, intervals: 12 * 288 });
    const smaller = await get(`/api/compare?site=${FIVE}&from=${FROM}&to=${TO}&battery=1&capacity=5&chargePower=2.5&reserve=0`);
    expect(smaller.status).toBe(200);
    expect(smaller.body.battery).toMatchObject({ capacityKwh: 5, chargeKw: 2.5, dischargeKw: 5, reserve: 0 });
    const total = (body: Record<string, unknown>) => (body as unknown as CompareReport).total.amber;
    // Half the battery saves less than the whole one, and more than none.
    expect(total(smaller.body).withBatteryCents!).toBeGreaterThan(total(api.body).withBatteryCents!);
    expect(total(smaller.body).withBatteryCents!).toBeLessThan(total(smaller.body).totalCents);
    // battery=0 is the plain comparison.
    expect((await get(`/api/compare?site=${FIVE}&from=${FROM}&to=${TO}&battery=0`)).body).toMatchObject({ battery: null });
  });

  it('battery=1 while a battery calculation runs: 503 with Retry-After, and the plain comparison still answers', async () => {
    let release!: () => void;
    const held = batteryGate.run(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      const busy = await fetch(`${base}/api/compare?site=${FIVE}&from=${FROM}&to=${TO}&battery=1`);
      expect(busy.status).toBe(503);
      expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await get(`/api/compare?site=${FIVE}&from=${FROM}&to=${TO}`)).status).toBe(200);
    } finally {
      release();
      await held;
    }
  });

  it('compare runs as the README shows it: each optional part alone, each alternative, with the example plans', async () => {
    const values: Record<string, string> = { ID: FIVE, FILE: EXAMPLE_PLANS, 'examples/compare-plans.yaml': EXAMPLE_PLANS, '2025-07-01': FROM, '2026-06-30': TO, DATE: TO, N: '2' };
    const synopses = everyCommand().filter((command) => command.startsWith('amber-collector compare '));
    expect(synopses).toHaveLength(2);
    for (const synopsis of synopses) {
      const groups = [...synopsis.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!);
      const bare = synopsis.replace(/\s*\[[^\]]*\]/g, '');
      const forms = [bare, ...groups.flatMap((group) => group.split(' | ').map((choice) => `${bare} ${choice}`))];
      for (const form of forms) {
        const args = form.split(' ').slice(2).map((token) => values[token] ?? token);
        const run = environment();
        expect({ form, status: await compareCommand.run(args, run.env), err: run.err.join('') }).toEqual({ form, status: 0, err: '' });
        if (args.includes('--json')) expect(() => JSON.parse(run.out.join('')), form).not.toThrow();
      }
    }
  });

  it.each([
    [['--months', '13'], '--months: expected a whole number from 1 to 12'],
    [['--months', '3', '--from', '2025-10-01'], '--months: give either --from or --months, not both'],
    [['--from', '2025-10-09', '--to', '2025-10-01'], '--from: 2025-10-09 is after --to 2025-10-01'],
    [['--from', '2024-01-01', '--to', '2025-10-01'], '--from/--to: at most 366 days at a time'],
    [['--from', '2025-13-01'], '--from: expected a date as YYYY-MM-DD'],
    [['--site', 'NOPE'], 'no site "NOPE"'],
    [['--plans', '/nonexistent/plans.yaml'], '/nonexistent/plans.yaml: no such file'],
  ])('%j is refused: %s', async (args, problem) => {
    const run = environment();
    const status = await compareCommand.run(args, run.env);
    expect(status).toBeGreaterThan(0);
    expect(run.err.join('')).toContain(problem);
  });

  it('without --plans or COMPARE_PLANS_FILE the command says how to give plans', async () => {
    const run = environment();
    const env = { ...run.env, readConfig: () => ({ ...run.env.readConfig(), comparePlansFile: null }) };
    expect(await compareCommand.run([], env)).toBe(2);
    expect(run.err.join('')).toContain('give --plans FILE or set COMPARE_PLANS_FILE');
  });

  it('GET /api/compare: 404 without a plans file, 500 naming the mistakes of an invalid one, 400 for hostile parameters', async () => {
    expect(await get('/api/compare-unset')).toMatchObject({ status: 404, body: { error: expect.stringContaining('set COMPARE_PLANS_FILE') } });
    for (const [query, problem] of [
      ['from=2025-10-09&to=2025-10-01', 'from: 2025-10-09 is after to 2025-10-01'],
      ['from=0000-01-01', 'expected a date in the years 2000 to 2100'],
      ['from=9999-12-31&to=9999-12-31', 'expected a date in the years 2000 to 2100'],
      ['from=2024-01-01&to=2025-10-01', 'from/to: at most 366 days at a time'],
      ['months=0', 'expected a whole number of months from 1 to 12'],
      ['months=1e3', 'expected a whole number of months from 1 to 12'],
      ['months=2&from=2025-10-01', 'months: give either from or months, not both'],
      ['site=NOPE', 'known sites: '],
      ['site=', 'expected a site id'],
      ['plans=/etc/passwd', 'Unrecognized key'],
      ['site=a&site=b', 'site: given more than once'],
      ['site=%00', 'control characters are not allowed'],
      [`from=${'9'.repeat(5000)}`, 'expected a date as YYYY-MM-DD'],
      ['battery=2', 'battery: expected 1 (with the battery) or 0, got \\"2\\"'],
      ['battery=true', 'battery: expected 1 (with the battery) or 0'],
      ['battery=1&battery=1', 'battery: given more than once'],
      ['capacity=5', 'capacity: only with battery=1'],
      ['battery=0&capacity=5&reserve=0.2', 'capacity, reserve: only with battery=1'],
      ['battery=1&capacity=-1', 'capacity: expected a number of kWh greater than 0 and at most 10000'],
      ['battery=1&capacity=1e999', 'capacity: expected a number of kWh greater than 0'],
      ['battery=1&power=abc', 'power: expected a number of kW greater than 0'],
      ['battery=1&efficiency=2', 'efficiency: expected a round-trip efficiency'],
      ['battery=1&reserve=1', 'reserve: expected a share of the capacity'],
      ['battery=1&exportLimit=-5', 'exportLimit: expected a number of kW from 0 to 10000'],
      [`battery=1&capacity=${'9'.repeat(5000)}`, 'capacity: expected a number of kWh'],
      ['battery=1&soc=50%25', 'Unrecognized key'],
      ['battery=1&from=2024-01-01&to=2025-10-01', 'from/to: at most 366 days at a time'],
      ['battery=1&from=2025-10-09&to=2025-10-01', 'from: 2025-10-09 is after to 2025-10-01'],
    ] as const) {
      const answer = await get(`/api/compare?${query}`);
      expect(answer.status, query).toBe(400);
      expect(JSON.stringify(answer.body), query).toContain(problem);
    }
    writeFileSync(plansFile, 'plans:\n  - name: Broken\n    general: "thirty"\n');
    try {
      const broken = await get('/api/compare');
      expect(broken.status).toBe(500);
      expect(broken.body.problems).toEqual([expect.stringContaining('plans.yaml: plan "Broken" (plans[0]): general: expected a flat rate')]);
    } finally {
      writeFileSync(plansFile, PLANS_YAML);
    }
    const months = await get(`/api/compare?site=${THIRTY}&months=1&to=2025-10-09`);
    expect(months.status).toBe(200);
    expect(months.body).toMatchObject({ from: '2025-10-01', to: '2025-10-09', months: [{ month: '2025-10' }] });
  });
});
