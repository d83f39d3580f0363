/**
 * The fake's `/usage` (API-NOTES §2.4, §4.7, §8): publication lag, revisions over a moving data clock, the
 * arithmetic and signs of kWh and cost, the price fields usage rows carry, and the spec's Usage schema.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get, rowsOf } from './http-get.ts';
import { createOpenApiValidator } from './openapi-validator.ts';
import { type FakeAmber, type FakeSiteSpec, type UsageJson, defaultSites, startFakeAmber } from './server.ts';

const START = new Date('2026-11-20T03:12:34Z');
const SITES = defaultSites(START);
const [FIVE_MIN, THIRTY_MIN, CLOSED, PENDING] = SITES as [FakeSiteSpec, FakeSiteSpec, FakeSiteSpec, FakeSiteSpec];
/** NEM day D under test; it ends at 2026-11-18T14:00:00Z (D+1 00:00+10:00). */
const DAY = '2026-11-18';
const DAY_END_MS = Date.parse('2026-11-18T14:00:00Z');
const HOUR_MS = 3_600_000;
const USAGE_KEYS = [
  'type,duration,date,endTime,quality,kwh,nemTime,perKwh,channelType,channelIdentifier,cost',
  'renewables,spotPerKwh,startTime,spikeStatus,tariffInformation,descriptor',
].join(',');

const spec = createOpenApiValidator();
const clock = { now: START };
let fake: FakeAmber;

beforeAll(async () => {
  // Default timing: usage lands 4 h after the day ends, is final 30 h after it.
  fake = await startFakeAmber({ now: () => clock.now, rateLimit: null, sites: SITES });
});
afterAll(async () => {
  await fake.close();
});

const usagePath = (site: FakeSiteSpec) => `/sites/${site.id}/usage`;

async function usageAt(hoursAfterDayEnd: number, site: FakeSiteSpec = THIRTY_MIN, from = DAY, to = DAY): Promise<UsageJson[]> {
  clock.now = new Date(DAY_END_MS + hoursAfterDayEnd * HOUR_MS);
  const result = await get(fake, usagePath(site), { startDate: from, endDate: to });
  expect(result.status).toBe(200);
  return rowsOf(result) as unknown as UsageJson[];
}

const quality = (rows: UsageJson[]) => rows.map((row) => row.quality);
const estimatedEnds = (rows: UsageJson[]) => rows.filter((row) => row.quality === 'estimated').map((row) => row.endTime);

describe('publication and revisions over a moving clock (API-NOTES §8)', () => {
  test('nothing until usageLagHours after the day ends, then a mix of estimated and billable', async () => {
    expect(await usageAt(-1)).toEqual([]);
    expect(await usageAt(3.99)).toEqual([]);
    const first = await usageAt(4);
    expect(first).toHaveLength(48);
    expect(quality(first)).toContain('estimated');
    expect(quality(first)).toContain('billable');
    expect(fake.expectedUsage(THIRTY_MIN.id, DAY, DAY)).toEqual(first);
  });

  test('revised later (a different estimated set, different kWh), then final and all billable', async () => {
    const first = await usageAt(5);
    const revised = await usageAt(20);
    const final = await usageAt(30);
    const muchLater = await usageAt(24 * 90);
    expect(estimatedEnds(revised)).not.toEqual(estimatedEnds(first));
    expect(estimatedEnds(revised).length).toBeGreaterThan(0);
    expect(quality(final).every((q) => q === 'billable')).toBe(true);
    expect(muchLater).toEqual(final);
    // Billable rows already carry their final reading; estimated ones differ in kWh and so in cost.
    for (const stage of [first, revised]) {
      stage.forEach((row, i) => {
        const settled = final[i];
        if (row.quality === 'billable') expect(row).toEqual(settled);
      });
      const changed = stage.filter((row, i) => row.quality === 'estimated' && row.kwh !== final[i]?.kwh);
      expect(changed.length).toBeGreaterThan(0);
      // (Cost follows kWh; it can round to the same cents when the price is near zero.)
      expect(changed.some((row) => row.cost !== final[stage.indexOf(row)]?.cost)).toBe(true);
    }
    // The served rows always are the ground truth of the moment.
    expect(fake.expectedUsage(THIRTY_MIN.id, DAY, DAY)).toEqual(muchLater);
  });

  test("today is always empty, even with no lag; a range mixes days at different stages", async () => {
    const eager = await startFakeAmber({ now: () => new Date('2026-11-19T14:00:00Z'), rateLimit: null, sites: SITES, usageLagHours: 0 });
    try {
      const rows = rowsOf(await get(eager, usagePath(THIRTY_MIN), { startDate: '2026-11-18', endDate: '2026-11-20' }));
      expect(new Set(rows.map((row) => row['date']))).toEqual(new Set(['2026-11-18', '2026-11-19']));
      expect(rowsOf(await get(eager, usagePath(THIRTY_MIN), { startDate: '2026-11-20', endDate: '2026-11-20' }))).toEqual([]);
    } finally {
      await eager.close();
    }
  });

  test('usageFinalHours moves the final stage', async () => {
    const now = new Date(DAY_END_MS + 2 * HOUR_MS);
    const quick = await startFakeAmber({ now: () => now, rateLimit: null, sites: SITES, usageLagHours: 1, usageFinalHours: 2 });
    try {
      const rows = rowsOf(await get(quick, usagePath(THIRTY_MIN), { startDate: DAY, endDate: DAY }));
      expect(rows.every((row) => row['quality'] === 'billable')).toBe(true);
    } finally {
      await quick.close();
    }
  });
});

describe('rows (API-NOTES §4.7, §5)', () => {
  test('the spec accepts usage at every stage and for every site shape', async () => {
    for (const hours of [4, 20, 48]) {
      for (const site of [FIVE_MIN, THIRTY_MIN, CLOSED]) {
        const day = site === CLOSED ? (CLOSED.closedOn ?? '') : DAY;
        clock.now = new Date(site === CLOSED ? Date.parse(`${day}T14:00:00Z`) + hours * HOUR_MS : DAY_END_MS + hours * HOUR_MS);
        const rows = rowsOf(await get(fake, usagePath(site), { startDate: day, endDate: day }));
        expect(rows.length).toBeGreaterThan(0);
        // Exemption (API-NOTES §9): the spec says generated kWh "will be negative", the live API sends
        // feed-in kWh ≥ 0; the schema itself has no sign constraint, so validation is unaffected.
        expect(spec.problems('Usage', rows)).toEqual([]);
      }
    }
  });

  test('exactly the observed keys in order; no estimate, range or advancedPrice', async () => {
    const rows = await usageAt(48, FIVE_MIN);
    expect(new Set(rows.map((row) => Object.keys(row).join(',')))).toEqual(new Set([USAGE_KEYS]));
    clock.now = new Date('2025-01-01T00:00:00Z');
    const closed = rowsOf(await get(fake, usagePath(CLOSED), { startDate: '2024-06-01', endDate: '2024-06-01' }));
    expect(new Set(closed.map((row) => Object.keys(row).join(',')))).toEqual(new Set([USAGE_KEYS.replace(',tariffInformation', '')]));
  });

  test('one record per channel per billing interval, channel by channel across the whole range', async () => {
    const rows = await usageAt(48, FIVE_MIN, '2026-11-17', DAY);
    expect(rows).toHaveLength(2 * 288 * 3);
    const order = rows.map((row) => row.channelIdentifier);
    expect([order.indexOf('E2'), order.indexOf('B1')]).toEqual([576, 1152]);
    expect(rows.slice(0, 576).map((row) => row.date)).toEqual([...Array(288).fill('2026-11-17'), ...Array(288).fill(DAY)]);
    expect(new Set(rows.map((row) => `${row.channelIdentifier}:${row.channelType}`))).toEqual(
      new Set(['E1:general', 'E2:controlledLoad', 'B1:feedIn']),
    );
    expect(rows.every((row) => row.duration === 5)).toBe(true);
  });

  test('cost = kWh × perKwh; general and feed-in kWh ≥ 0; feed-in cost ≤ 0; solar and hot water show up', async () => {
    const rows = await usageAt(48, FIVE_MIN, '2026-11-12', DAY);
    for (const row of rows) {
      expect(row.cost).toBe(Math.round(row.kwh * row.perKwh * 10_000) / 10_000 || 0);
      expect(row.kwh).toBeGreaterThanOrEqual(0);
    }
    const feedIn = rows.filter((row) => row.channelType === 'feedIn');
    expect(feedIn.every((row) => row.cost <= 0)).toBe(true);
    expect(feedIn.some((row) => row.kwh > 0 && row.cost < 0)).toBe(true);
    const hotWater = rows.filter((row) => row.channelType === 'controlledLoad' && row.kwh > 0);
    expect(hotWater.every((row) => row.nemTime.slice(11, 13) <= '04')).toBe(true);
    expect(hotWater.length).toBeGreaterThan(0);
  });

  test('each row carries the actual price fields of its interval and channel', async () => {
    const rows = await usageAt(48, FIVE_MIN);
    const prices = new Map(fake.expectedPrices(FIVE_MIN.id, DAY, DAY).map((row) => [`${row.channelType}|${row.endTime}`, row]));
    for (const row of rows) {
      const price = prices.get(`${row.channelType}|${row.endTime}`);
      expect(price).toBeDefined();
      const { type: _priceType, ...priceFields } = price ?? {};
      const { type: _usageType, quality: _q, kwh: _k, cost: _c, channelIdentifier: _id, ...usageFields } = row;
      expect(usageFields).toEqual(priceFields);
    }
  });

  test('30-minute billing gives 48 rows a day; the deprecated resolution parameter is ignored', async () => {
    clock.now = new Date(DAY_END_MS + 48 * HOUR_MS);
    const plain = await get(fake, usagePath(THIRTY_MIN), { startDate: DAY, endDate: DAY });
    const withResolution = await get(fake, usagePath(THIRTY_MIN), { startDate: DAY, endDate: DAY, resolution: 5 });
    expect(rowsOf(plain)).toHaveLength(48);
    expect(withResolution.text).toBe(plain.text);
  });
});

describe('parameters and site lifecycle (API-NOTES §2.4)', () => {
  test('both dates required (400); more than 7 days apart 422; malformed 500', async () => {
    clock.now = START;
    expect((await get(fake, usagePath(THIRTY_MIN), { startDate: DAY })).status).toBe(400);
    expect((await get(fake, usagePath(THIRTY_MIN), { endDate: DAY })).status).toBe(400);
    const long = await get(fake, usagePath(THIRTY_MIN), { startDate: '2026-11-01', endDate: '2026-11-09' });
    expect(long.status).toBe(422);
    expect(long.json).toEqual({ message: 'Requested date range is greater than 7 days' });
    expect((await get(fake, usagePath(THIRTY_MIN), { startDate: '2026/11/01', endDate: DAY })).status).toBe(500);
  });

  test('a closed site has usage up to closedOn and none after; a pending site has none', async () => {
    clock.now = START;
    const closedOn = CLOSED.closedOn ?? '';
    const next = new Date(Date.parse(`${closedOn}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const rows = rowsOf(await get(fake, usagePath(CLOSED), { startDate: closedOn, endDate: next }));
    expect(rows).toHaveLength(2 * 48);
    expect(new Set(rows.map((row) => row['date']))).toEqual(new Set([closedOn]));
    const pendingFrom = PENDING.activeFrom ?? '';
    expect(rowsOf(await get(fake, usagePath(PENDING), { startDate: '2026-11-12', endDate: '2026-11-19' }))).toEqual([]);
    expect(fake.expectedUsage(PENDING.id, pendingFrom, pendingFrom)).toEqual([]);
  });
});
