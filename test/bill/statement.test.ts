/**
 * The monthly statement and the one cost model, over a month the real collector gathered from the fake
 * Amber server (a 5-minute site with general, controlled load and feed-in with solar): statement lines
 * against sums of the fake's own usage to the cent, fixed charges by hand, the CSVs summed back, the
 * battery what-if's no-battery cost pinned to `query costs` for the same channels, FIXED_CHARGES_FILE's
 * checks, and `/api/bill` against hostile input.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billCommand, type BillEnvironment } from '../../src/commands/bill.ts';
import { loadFixedCharges, parseFixedCharges } from '../../src/config/fixed-charges-file.ts';
import type { FixedCharges } from '../../src/domain/fixed-charges.ts';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer, type HttpServer } from '../../src/http/server.ts';
import { batteryWhatIf } from '../../src/query/battery-analysis.ts';
import { dailyCosts } from '../../src/query/reports.ts';
import { requireSite } from '../../src/query/site-selection.ts';
import { monthlyStatement } from '../../src/query/statement.ts';
import { defaultSites } from '../fake-amber/server.ts';
import type { UsageJson } from '../fake-amber/usage.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';

const FIVE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE'; // general E1, controlled load E2, feed-in B1 (solar)
const NOW = new Date('2025-12-02T02:00:00Z'); // 12:00 NEM on 2 December: all of November is final
const STATUS = { intervalMinutes: 5, usagePollMinutes: 60, priceRevisionDays: 2, usageRevisionDays: 7, rateLimit: { limit: 50, windowSeconds: 300 }, siteIds: null };
const CHARGES_YAML = `
sites:
  ${FIVE}:
    - from: 2025-07-01
      supplyCentsPerDay: { E1: 98.45, E2: 4.4 }
      membershipDollarsPerMonth: 25
    - from: 2025-11-15
      supplyCentsPerDay: { E1: 101.64, E2: 4.4 }
      membershipDollarsPerMonth: 25
      otherFees: [{ name: Smart meter charge, centsPerDay: 11 }]
`;

let h: Harness;
let server: HttpServer;
let base: string;
let dir: string;
let charges: FixedCharges;
let november: UsageJson[];

beforeAll(async () => {
  h = await startHarness({ now: NOW, fake: { sites: defaultSites(NOW) } });
  const collector = h.newCollector({ historicalStartDate: '2025-11-01', siteIds: [FIVE] });
  await collector.discoverSites(AbortSignal.timeout(10_000));
  await collector.backfill(AbortSignal.timeout(120_000));
  await collector.settle();
  dir = await mkdtemp(join(tmpdir(), 'bill-'));
  await writeFile(join(dir, 'charges.yaml'), CHARGES_YAML);
  charges = loadFixedCharges(join(dir, 'charges.yaml'))!;
  november = h.fake.expectedUsage(FIVE, '2025-11-01', '2025-11-30');
  server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    routes: readRoutes({ pool: h.pool, status: STATUS, now: () => NOW, fixedCharges: charges }),
    apiToken: null,
    logger: captureLogger().logger,
  });
  base = `http://127.0.0.1:${server.port}`;
}, 180_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The fake's own rows of one channel, priced by hand: kWh × that row's price, in cents (feed-in kWh come positive from the API). */
function handCents(rows: readonly UsageJson[], channel: string): number {
  return rows.filter((r) => r.channelIdentifier === channel).reduce((sum, r) => sum + r.kwh * r.perKwh, 0);
}
const toDollars = (cents: number) => Math.round(cents) / 100;

describe('the monthly statement', () => {
  it('reproduces hand-computed energy lines and fixed charges to the cent', async () => {
    const site = await requireSite(h.pool, FIVE);
    const s = await monthlyStatement(h.pool, { site, month: '2025-11', fixedCharges: charges, now: NOW });
    expect(s).toMatchObject({ from: '2025-11-01', to: '2025-11-30', days: 30, basis: 'energy and fixed charges', energyOnlyReason: null });
    expect(s.energy.map((l) => l.channelId)).toEqual(['E1', 'E2', 'B1']);
    for (const line of s.energy) {
      const rows = november.filter((r) => r.channelIdentifier === line.channelId);
      expect(line.intervals).toBe(30 * 288);
      expect(line.dollars).toBe(toDollars(handCents(november, line.channelId)));
      expect(line.kwh).toBeCloseTo(rows.reduce((sum, r) => sum + r.kwh, 0), 6);
    }
    // Solar: feed-in earned, so its line is negative.
    expect(s.energy.find((l) => l.channelId === 'B1')!.dollars).toBeLessThan(0);
    // By hand: 14 days at the first rates, 16 at the second; membership pro rata by days (14/30 and 16/30 of $25).
    expect(s.fixed.map((l) => [l.description, l.quantity, l.dollars])).toEqual([
      ['Daily supply charge E1', 14, 13.78], // 14 × 98.45 c = 1378.3 c
      ['Daily supply charge E2', 14, 0.62], // 61.6 c
      ['Amber membership', 0.4667, 11.67], // 2500 × 14/30 = 1166.67 c
      ['Daily supply charge E1', 16, 16.26], // 16 × 101.64 c = 1626.24 c
      ['Daily supply charge E2', 16, 0.7], // 70.4 c
      ['Amber membership', 0.5333, 13.33], // 2500 × 16/30 = 1333.33 c
      ['Smart meter charge', 16, 1.76],
    ]);
    expect(s.fixedDollars).toBe(58.12);
    const energyCents = s.energy.reduce((sum, l) => sum + Math.round(l.dollars * 100), 0);
    expect(Math.round(s.totalDollars * 100)).toBe(energyCents + 5812);
  });

  it('without fixed charges every figure says energy only', async () => {
    const site = await requireSite(h.pool, FIVE);
    const s = await monthlyStatement(h.pool, { site, month: '2025-11', fixedCharges: null, now: NOW });
    expect(s).toMatchObject({ basis: 'energy only', energyOnlyReason: 'FIXED_CHARGES_FILE is not set', fixed: [], fixedDollars: 0 });
    expect(s.totalDollars).toBe(s.energyDollars);
    const text = await runBill(['--site', FIVE, '--month', '2025-11'], null);
    expect(text).toContain('energy only: FIXED_CHARGES_FILE is not set');
    expect(text).toContain('TOTAL (energy only)');
    const costs = (await (await fetch(`${base}/api/costs?site=${FIVE}&from=2025-11-01&to=2025-11-02`)).json()) as { basis: string };
    expect(costs.basis).toBe('energy only');
  });

  it('the CSV of its lines and the CSV of every interval sum back to the statement to the cent', async () => {
    const json = JSON.parse(await runBill(['--site', FIVE, '--month', '2025-11', '--json'], charges));
    const out = join(dir, 'lines.csv');
    await runBill(['--site', FIVE, '--month', '2025-11', '--csv', 'lines', '--out', out], charges);
    const lines = parseCsv(await readFile(out, 'utf8'));
    const amounts = lines.filter((r) => r.section !== 'total').map((r) => Math.round(Number(r.amount_dollars) * 100));
    expect(amounts.reduce((a, b) => a + b, 0)).toBe(Math.round(json.totalDollars * 100));
    expect(Number(lines.find((r) => r.section === 'total')!.amount_dollars)).toBe(json.totalDollars);

    const intervals = parseCsv(await runBill(['--site', FIVE, '--month', '2025-11', '--csv', 'intervals'], charges));
    expect(intervals).toHaveLength(3 * 30 * 288);
    for (const line of json.energy) {
      const cents = intervals.filter((r) => r.channel === line.channelId).reduce((sum, r) => sum + Number(r.cost_cents), 0);
      expect(Math.round(cents) / 100).toBe(line.dollars);
    }
  });

  it('bare, it shows the month of yesterday for the first site, the month in progress to date', async () => {
    const text = await runBill([], charges);
    expect(text).toMatch(/^Statement for site \S+, 2025-12: 2025-12-01 to 2025-12-01, 1 day \(/);
  });

  it('checks its arguments before touching the database', async () => {
    for (const args of [['--month', '2025-13'], ['--month', 'November'], ['--csv', 'pdf'], ['--json', '--csv', 'lines']]) {
      const err: string[] = [];
      const code = await billCommand.run(args, billEnvironment(charges, [], err));
      expect(code).toBe(2);
    }
  });
});

describe('one cost model', () => {
  it("the what-if's no-battery cost is `query costs` for general and feed-in, to the cent, and not the netted figure", async () => {
    const site = await requireSite(h.pool, FIVE);
    const params = { capacityKwh: 13.5, chargeKw: 5, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null };
    const report = await batteryWhatIf(h.pool, { site, from: '2025-11-10', to: '2025-11-16', params, day: null, startSocKwh: null });
    const days = await dailyCosts(h.pool, { siteIds: [FIVE], from: '2025-11-10', to: '2025-11-16', channels: ['general', 'feedIn'] });
    const net = days.reduce((sum, d) => sum + d.netDollars!, 0);
    expect(Math.round(report.baselineCostCents)).toBe(Math.round(net * 100));
    // And both are the fake's own rows priced by hand.
    const week = november.filter((r) => r.date >= '2025-11-10' && r.date <= '2025-11-16');
    expect(Math.round(report.baselineCostCents)).toBe(Math.round(handCents(week, 'E1') + handCents(week, 'B1')));
    // Netting import and export inside each interval first (the old baseline) prices the overlap of the
    // intervals metered on both registers at no price at all: it is short by exactly that overlap's cost.
    const byEnd = new Map<string, { a: number; x: number; p: number; f: number }>();
    for (const r of week.filter((u) => u.channelIdentifier !== 'E2')) {
      const slot = byEnd.get(r.endTime) ?? { a: 0, x: 0, p: 0, f: 0 };
      if (r.channelIdentifier === 'E1') Object.assign(slot, { a: r.kwh, p: r.perKwh });
      else Object.assign(slot, { x: r.kwh, f: r.perKwh });
      byEnd.set(r.endTime, slot);
    }
    const slots = [...byEnd.values()];
    const netted = slots.reduce((sum, { a, x, p, f }) => sum + (a - x >= 0 ? p * (a - x) : f * (x - a)), 0);
    const overlap = slots.filter(({ a, x }) => a > 0 && x > 0);
    expect(overlap.length).toBeGreaterThan(10);
    const overlapCents = overlap.reduce((sum, { a, x, p, f }) => sum + Math.min(a, x) * (p + f), 0);
    expect(report.baselineCostCents - netted).toBeCloseTo(overlapCents, 2);
    expect(Math.abs(report.baselineCostCents - netted)).toBeGreaterThan(1);
    // Controlled load is in `query costs` by default and out of the what-if by design.
    const all = await dailyCosts(h.pool, { siteIds: [FIVE], from: '2025-11-10', to: '2025-11-16' });
    expect(all.reduce((sum, d) => sum + d.netDollars!, 0)).toBeCloseTo(net + handCents(week, 'E2') / 100, 2);
  });
});

describe('FIXED_CHARGES_FILE', () => {
  it('names the file, the site, the period and the field of every mistake', () => {
    const bad = `sites:\n  ${FIVE}:\n    - from: 2025-02-30\n      supplyCentsPerDay: { E1: -5 }\n      membershipDollarsPerMonth: "25"\n      surprise: 1\n`;
    let problems: string[] = [];
    try {
      parseFixedCharges(bad, '/etc/charges.yaml');
    } catch (err) {
      problems = (err as { details: { problems: string[] } }).details.problems;
    }
    expect(problems.every((p) => p.startsWith('FIXED_CHARGES_FILE (/etc/charges.yaml): '))).toBe(true);
    const text = problems.join('\n');
    expect(text).toContain(`site ${FIVE} period 1, from: expected a date as YYYY-MM-DD, got "2025-02-30"`);
    expect(text).toContain(`site ${FIVE} period 1, supplyCentsPerDay.E1: expected cents per day ≥ 0`);
    expect(text).toContain(`site ${FIVE} period 1, membershipDollarsPerMonth: expected a number of dollars per month`);
    expect(text).toMatch(/surprise/);
    expect(() => parseFixedCharges('sites: [', 'x.yaml')).toThrow(/FIXED_CHARGES_FILE \(x\.yaml\): not YAML or JSON/);
    expect(() => loadFixedCharges(join(dir, 'missing.yaml'))).toThrow(/cannot read it: ENOENT/);
  });

  it('the example file shipped in the repository checks out', () => {
    expect(loadFixedCharges('examples/fixed-charges.yaml')!.get(FIVE)).toHaveLength(2);
  });
});

describe('GET /api/bill', () => {
  it('answers the statement, and a 400 naming the problem for bad months, absurd dates and unknown sites', async () => {
    const ok = await fetch(`${base}/api/bill?site=${FIVE}&month=2025-11`);
    expect(ok.status).toBe(200);
    const body = await ok.json();
    expect(body).toMatchObject({ siteId: FIVE, month: '2025-11', basis: 'energy and fixed charges', fixedDollars: 58.12 });
    const refusals: Array<[string, RegExp]> = [
      ['month=2025-13', /month: expected a month as YYYY-MM/],
      ['month=11-2025', /expected a month as YYYY-MM/],
      ['month=9999-01', /years 2000 to 2100/],
      ['month=0000-01', /years 2000 to 2100/],
      ['month=2099-01', /has no usage yet/],
      ['month=2025-11&month=2025-10', /given more than once/],
      [`month=${'9'.repeat(5000)}`, /expected a month/],
      ['site=NOPE&month=2025-11', /no site \\"NOPE\\" \(known sites: /],
      ['month=2025-11&from=2025-11-01', /from/],
      ['month=2025-11%00', /control characters/],
      ['site=&month=2025-11', /site: expected a site id/],
    ];
    for (const [query, problem] of refusals) {
      const response = await fetch(`${base}/api/bill?${query}`);
      expect(response.status, query).toBe(400);
      expect(JSON.stringify(await response.json()), query).toMatch(problem);
    }
  });
});

function billEnvironment(fixedCharges: FixedCharges | null, out: string[], err: string[]): BillEnvironment {
  return {
    now: NOW,
    out: { write: async (text: string) => void out.push(text) },
    err: { write: async (text: string) => void err.push(text) },
    readConfig: () => ({ database: { url: h.dbUrl, ssl: false as const }, fixedCharges }),
    openDatabase: async () => ({ pool: h.pool, close: async () => {} }),
  };
}

async function runBill(args: string[], fixedCharges: FixedCharges | null): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await billCommand.run(args, billEnvironment(fixedCharges, out, err));
  expect(code, err.join('')).toBe(0);
  return out.join('');
}

/** A plain CSV reader (no quoted commas in these files) into objects keyed by the header. */
function parseCsv(text: string): Array<Record<string, string>> {
  const [header, ...rows] = text.trim().split('\r\n').map((line) => line.split(','));
  return rows.map((cells) => Object.fromEntries(header!.map((name, i) => [name, cells[i] ?? ''])));
}
