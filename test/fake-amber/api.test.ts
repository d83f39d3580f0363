/**
 * The fake Amber server against the spec (`openapi.yaml`) and the observed API (`API-NOTES.md`): shapes,
 * NEM-day semantics, limits and their error bodies, auth, current prices, determinism, the request log.
 * Usage is in `usage.test.ts`; rate limiting and faults in `faults.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get, rowsOf } from './http-get.ts';
import { createOpenApiValidator } from './openapi-validator.ts';
import { type FakeAmber, type FakeSiteSpec, defaultSites, startFakeAmber } from './server.ts';

/** 13:12:34 NEM time on Friday 2026-11-20. */
const NOW = new Date('2026-11-20T03:12:34Z');
const TODAY = '2026-11-20';
const SITES = defaultSites(NOW);
const [FIVE_MIN, THIRTY_MIN, CLOSED, PENDING] = SITES as [FakeSiteSpec, FakeSiteSpec, FakeSiteSpec, FakeSiteSpec];

const spec = createOpenApiValidator();
let fake: FakeAmber;

beforeAll(async () => {
  fake = await startFakeAmber({ now: () => NOW, rateLimit: null });
});
afterAll(async () => {
  await fake.close();
});

const pricesPath = (site: FakeSiteSpec) => `/sites/${site.id}/prices`;
const currentPath = (site: FakeSiteSpec) => `/sites/${site.id}/prices/current`;

function byType(rows: Array<Record<string, unknown>>, channelType: string) {
  return rows.filter((row) => row['channelType'] === channelType);
}

describe('the spec (openapi.yaml) accepts every response', () => {
  test('/sites', async () => {
    const sites = rowsOf(await get(fake, '/sites'));
    expect(sites).toHaveLength(4);
    expect(spec.problems('Site', sites)).toEqual([]);
  });

  test.each([
    ['5-min site, default resolution, past week', FIVE_MIN, { startDate: '2026-11-12', endDate: '2026-11-18' }],
    ['5-min site, resolution 30, today and tomorrow', FIVE_MIN, { startDate: TODAY, endDate: '2026-11-21', resolution: 30 }],
    ['30-min site, today', THIRTY_MIN, { startDate: TODAY, endDate: TODAY }],
    ['30-min site, resolution 5, a day a year ago', THIRTY_MIN, { startDate: '2025-11-20', endDate: '2025-11-20', resolution: 5 }],
    ['closed site, before it closed', CLOSED, { startDate: '2024-01-01', endDate: '2024-01-03' }],
  ])('/prices: %s', async (_name, site, query) => {
    const rows = rowsOf(await get(fake, pricesPath(site), query));
    expect(rows.length).toBeGreaterThan(0);
    expect(spec.problems('Interval', rows)).toEqual([]);
  });

  test.each([
    ['defaults', FIVE_MIN, {}],
    ['previous and next, 5-min', FIVE_MIN, { previous: 12, next: 288 }],
    ['previous and next at resolution 30', FIVE_MIN, { previous: 6, next: 48, resolution: 30 }],
    ['30-min site', THIRTY_MIN, { previous: 48, next: 96 }],
  ])('/prices/current: %s', async (_name, site, query) => {
    const rows = rowsOf(await get(fake, currentPath(site), query));
    expect(rows.length).toBeGreaterThan(0);
    expect(spec.problems('Interval', rows)).toEqual([]);
  });

  test('/state/{state}/renewables/current', async () => {
    const rows = rowsOf(await get(fake, '/state/vic/renewables/current', { previous: 6, next: 3, resolution: 5 }, { apiKey: null }));
    expect(rows.map((row) => row['type'])).toEqual([
      ...Array(6).fill('ActualRenewable'),
      'CurrentRenewable',
      ...Array(3).fill('ForecastRenewable'),
    ]);
    // Exemption: the spec's `Renewable` is a oneOf whose three members differ only in an un-enumerated
    // `type` string, so every element matches all three and oneOf always fails. Validate per member.
    for (const kind of ['ActualRenewable', 'CurrentRenewable', 'ForecastRenewable'] as const) {
      expect(spec.problems(kind, rows.filter((row) => row['type'] === kind))).toEqual([]);
    }
  });
});

describe('NEM days (API-NOTES §3)', () => {
  test('a 5-minute day has 288 intervals per channel, from 00:05 to the next midnight, starting at :01', async () => {
    const rows = rowsOf(await get(fake, pricesPath(FIVE_MIN), { startDate: '2026-11-18', endDate: '2026-11-18' }));
    expect(rows).toHaveLength(3 * 288);
    const general = byType(rows, 'general');
    expect(general).toHaveLength(288);
    expect(general[0]).toMatchObject({
      date: '2026-11-18',
      duration: 5,
      startTime: '2026-11-17T14:00:01Z',
      endTime: '2026-11-17T14:05:00Z',
      nemTime: '2026-11-18T00:05:00+10:00',
    });
    // The interval ending at midnight belongs to the day before.
    expect(general[287]).toMatchObject({
      date: '2026-11-18',
      startTime: '2026-11-18T13:55:01Z',
      endTime: '2026-11-18T14:00:00Z',
      nemTime: '2026-11-19T00:00:00+10:00',
    });
    for (const row of rows) {
      expect(row['startTime']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:01Z$/);
      expect(row['nemTime']).toMatch(/\+10:00$/);
      expect(Date.parse(row['endTime'] as string) - Date.parse(row['startTime'] as string)).toBe(5 * 60_000 - 1000);
      expect(Date.parse(row['nemTime'] as string)).toBe(Date.parse(row['endTime'] as string));
    }
  });

  test('a 30-minute day has 48 intervals per channel and dates never follow local daylight saving', async () => {
    // 2026-10-05 is after the NSW/VIC daylight-saving change; NEM time ignores it.
    const rows = rowsOf(await get(fake, pricesPath(THIRTY_MIN), { startDate: '2026-10-05', endDate: '2026-10-05' }));
    expect(rows).toHaveLength(48);
    expect(rows[0]).toMatchObject({ endTime: '2026-10-04T14:30:00Z', nemTime: '2026-10-05T00:30:00+10:00', duration: 30 });
    expect(rows[47]).toMatchObject({ endTime: '2026-10-05T14:00:00Z', date: '2026-10-05' });
  });

  test('channels come general, then controlled load, then feed-in, each covering the whole range', async () => {
    const rows = rowsOf(await get(fake, pricesPath(FIVE_MIN), { startDate: '2026-11-16', endDate: '2026-11-17' }));
    const order = rows.map((row) => row['channelType']);
    expect(order.indexOf('controlledLoad')).toBe(576);
    expect(order.indexOf('feedIn')).toBe(1152);
    expect(order.lastIndexOf('general')).toBe(575);
    // spotPerKwh is the same on every channel of an interval (API-NOTES §5).
    const spotByEnd = new Map(byType(rows, 'general').map((row) => [row['endTime'], row['spotPerKwh']]));
    for (const row of rows) expect(row['spotPerKwh']).toBe(spotByEnd.get(row['endTime']));
  });

  test('resolution 30 on a 5-minute site averages the six 5-minute intervals', async () => {
    const query = { startDate: '2026-11-17', endDate: '2026-11-17' };
    const five = byType(rowsOf(await get(fake, pricesPath(FIVE_MIN), query)), 'general');
    const thirty = byType(rowsOf(await get(fake, pricesPath(FIVE_MIN), { ...query, resolution: 30 })), 'general');
    expect(thirty).toHaveLength(48);
    thirty.forEach((row, i) => {
      expect(row['endTime']).toBe(five[i * 6 + 5]?.['endTime']);
      const mean = five.slice(i * 6, i * 6 + 6).reduce((sum, r) => sum + (r['spotPerKwh'] as number), 0) / 6;
      // The 5-minute values are rounded (a few to integers), hence the tolerance.
      expect(Math.abs((row['spotPerKwh'] as number) - mean)).toBeLessThan(0.1);
    });
  });

  test('today mixes Actual, Current and Forecast intervals in time order', async () => {
    const rows = byType(rowsOf(await get(fake, pricesPath(THIRTY_MIN), { startDate: TODAY, endDate: TODAY })), 'general');
    const types = rows.map((row) => row['type']);
    // 13:12 NEM: 26 finished half-hours, the 13:00–13:30 one running, 21 to come.
    expect(types.filter((t) => t === 'ActualInterval')).toHaveLength(26);
    expect(rows[26]).toMatchObject({ type: 'CurrentInterval', nemTime: '2026-11-20T13:30:00+10:00', estimate: true });
    expect(types.filter((t) => t === 'ForecastInterval')).toHaveLength(21);
    expect(rows[27]?.['advancedPrice']).toBeDefined();
  });

  test('forecasts: some carry a spot range; advancedPrice only within 24 h and never on feed-in', async () => {
    const rows = rowsOf(await get(fake, pricesPath(FIVE_MIN), { startDate: TODAY, endDate: '2026-11-21' }));
    const forecasts = rows.filter((row) => row['type'] === 'ForecastInterval');
    expect(forecasts.some((row) => 'range' in row)).toBe(true);
    for (const row of forecasts) {
      const leadMs = Date.parse(row['startTime'] as string) - 1000 - NOW.getTime();
      expect('advancedPrice' in row).toBe(row['channelType'] !== 'feedIn' && leadMs < 24 * 3_600_000);
    }
  });

  test('forecasts reach the end of tomorrow and no further', async () => {
    const rows = rowsOf(await get(fake, pricesPath(THIRTY_MIN), { startDate: '2026-11-21', endDate: '2026-11-23' }));
    expect(rows).toHaveLength(48);
    expect(rows.every((row) => row['type'] === 'ForecastInterval' && row['date'] === '2026-11-21')).toBe(true);
  });
});

describe('limits and errors (API-NOTES §2.2, §7)', () => {
  test('a difference of 7 days is served; 8 is 422', async () => {
    const eight = await get(fake, pricesPath(THIRTY_MIN), { startDate: '2026-11-01', endDate: '2026-11-08' });
    expect(eight.status).toBe(200);
    expect(rowsOf(eight)).toHaveLength(8 * 48);
    const nine = await get(fake, pricesPath(THIRTY_MIN), { startDate: '2026-11-01', endDate: '2026-11-09' });
    expect(nine.status).toBe(422);
    expect(nine.json).toEqual({ message: 'Requested date range is greater than 7 days' });
  });

  test('start after end is 400; malformed or impossible dates are 500 with the gateway body', async () => {
    expect((await get(fake, pricesPath(THIRTY_MIN), { startDate: '2026-11-10', endDate: '2026-11-09' })).status).toBe(400);
    for (const bad of ['20221120', '2026-02-30', '2026-11-1', 'yesterday']) {
      const result = await get(fake, pricesPath(THIRTY_MIN), { startDate: bad, endDate: '2026-11-10' });
      expect(result.status).toBe(500);
      expect(result.text).toBe('{"message": "Internal server error"}');
    }
  });

  test('dates default to today; endDate without startDate fails in the last minutes before NEM midnight', async () => {
    const defaults = rowsOf(await get(fake, pricesPath(THIRTY_MIN)));
    expect(new Set(defaults.map((row) => row['date']))).toEqual(new Set([TODAY]));
    const late = await startFakeAmber({ now: () => new Date('2026-11-20T13:55:00Z'), rateLimit: null });
    try {
      expect((await get(late, pricesPath(THIRTY_MIN), { endDate: '2026-11-20' })).status).toBe(500);
      expect((await get(late, pricesPath(THIRTY_MIN), { startDate: '2026-11-20', endDate: '2026-11-20' })).status).toBe(200);
    } finally {
      await late.close();
    }
  });

  test('an invalid resolution is 422', async () => {
    expect((await get(fake, pricesPath(FIVE_MIN), { resolution: 15 })).status).toBe(422);
    expect((await get(fake, currentPath(FIVE_MIN), { resolution: 'x' })).status).toBe(422);
  });

  test('previous + next above 2048 is 422; exactly 2048 is served', async () => {
    const over = await get(fake, currentPath(FIVE_MIN), { previous: 1024, next: 1025 });
    expect(over.status).toBe(422);
    expect(over.json).toEqual({ message: 'Requested number of intervals is greater than 2048' });
    expect((await get(fake, currentPath(FIVE_MIN), { previous: 1000, next: 1048 })).status).toBe(200);
    expect((await get(fake, currentPath(FIVE_MIN), { next: -1 })).status).toBe(422);
  });

  test('auth: no header 401, wrong key 403 Forbidden, renewables open; unknown site 404', async () => {
    expect((await get(fake, '/sites', {}, { apiKey: null })).status).toBe(401);
    const wrong = await get(fake, '/sites', {}, { apiKey: 'psk_wrong' });
    expect(wrong.status).toBe(403);
    expect(wrong.json).toEqual({ message: 'Forbidden' });
    expect((await get(fake, '/state/nsw/renewables/current', {}, { apiKey: null })).status).toBe(200);
    expect((await get(fake, '/state/wa/renewables/current', {}, { apiKey: null })).status).toBe(404);
    expect((await get(fake, '/sites/01NOTASITE0000000000000000/prices')).status).toBe(404);
    expect((await get(fake, '/nothing/here')).status).toBe(404);
  });
});

describe('sites (API-NOTES §2.1, §4.1)', () => {
  test('the default account: 5-min, 30-min, a closed site sharing its NMI, and a pending one', async () => {
    const sites = rowsOf(await get(fake, '/sites'));
    for (const site of sites) expect(site['id']).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(sites.map((site) => [site['status'], site['intervalLength']])).toEqual([
      ['active', 5],
      ['active', 30],
      ['closed', 30],
      ['pending', 5],
    ]);
    expect(sites[2]?.['nmi']).toBe(sites[1]?.['nmi']);
    expect(String(sites[2]?.['closedOn']) < String(sites[1]?.['activeFrom'])).toBe(true);
    expect(String(sites[3]?.['activeFrom']) > TODAY).toBe(true);
    // Undefined dates are omitted, not null; keys in the API's order.
    expect(Object.keys(sites[0] ?? {})).toEqual(['id', 'nmi', 'channels', 'network', 'status', 'activeFrom', 'intervalLength']);
    expect(Object.keys(sites[2] ?? {})).toEqual(['id', 'nmi', 'channels', 'network', 'status', 'activeFrom', 'closedOn', 'intervalLength']);
  });

  test('no data before activeFrom, after closedOn, or for a pending site', async () => {
    const closedOn = CLOSED.closedOn ?? '';
    const around = rowsOf(await get(fake, pricesPath(CLOSED), { startDate: shiftDate(closedOn, -1), endDate: shiftDate(closedOn, 2) }));
    expect(new Set(around.map((row) => row['date']))).toEqual(new Set([shiftDate(closedOn, -1), closedOn]));
    expect(rowsOf(await get(fake, currentPath(CLOSED), { previous: 3 }))).toEqual([]);
    expect(rowsOf(await get(fake, pricesPath(PENDING)))).toEqual([]);
    const activeFrom = THIRTY_MIN.activeFrom ?? '';
    const start = rowsOf(await get(fake, pricesPath(THIRTY_MIN), { startDate: shiftDate(activeFrom, -2), endDate: activeFrom }));
    expect(new Set(start.map((row) => row['date']))).toEqual(new Set([activeFrom]));
  });

  test('tariffInformation: demand on the 5-min site, time-of-use on the 30-min site, absent on the closed one', async () => {
    const query = { startDate: '2024-03-01', endDate: '2024-03-01' };
    const five = rowsOf(await get(fake, pricesPath(FIVE_MIN), query));
    expect(new Set(five.map((row) => JSON.stringify(row['tariffInformation'])))).toEqual(new Set(['{"demandWindow":false}']));
    const thirty = rowsOf(await get(fake, pricesPath(THIRTY_MIN), { startDate: TODAY, endDate: TODAY }));
    expect(new Set(thirty.map((row) => (row['tariffInformation'] as { period: string }).period))).toEqual(
      new Set(['offPeak', 'shoulder', 'solarSponge', 'peak']),
    );
    const closed = rowsOf(await get(fake, pricesPath(CLOSED), query));
    expect(closed.some((row) => 'tariffInformation' in row)).toBe(false);
  });

  test('historyDays hides older days', async () => {
    const shallow = await startFakeAmber({ now: () => NOW, rateLimit: null, historyDays: 30 });
    try {
      expect(rowsOf(await get(shallow, pricesPath(THIRTY_MIN), { startDate: '2026-10-19', endDate: '2026-10-19' }))).toEqual([]);
      expect(rowsOf(await get(shallow, pricesPath(THIRTY_MIN), { startDate: '2026-10-21', endDate: '2026-10-21' }))).toHaveLength(48);
    } finally {
      await shallow.close();
    }
  });
});

describe('price data looks like the live API (API-NOTES §4, §5)', () => {
  // 120 days of actuals of the 5-minute site, straight from the ground truth (computed once).
  let cached: ReturnType<FakeAmber['expectedPrices']> | undefined;
  const actuals = () => (cached ??= fake.expectedPrices(FIVE_MIN.id, '2026-07-01', '2026-10-28'));

  test('actual rows have exactly the observed keys, in order', () => {
    const rows = actuals();
    expect(rows).toHaveLength(120 * 288 * 3);
    expect(new Set(rows.map((row) => Object.keys(row).join(',')))).toEqual(
      new Set([
        'type,date,duration,startTime,endTime,nemTime,perKwh,renewables,spotPerKwh,channelType,spikeStatus,tariffInformation,descriptor',
      ]),
    );
  });

  test('negative midday spot, spikes, feed-in sign, renewables 0..100', () => {
    const rows = actuals();
    const general = rows.filter((row) => row.channelType === 'general');
    expect(general.some((row) => row.spotPerKwh < 0)).toBe(true);
    expect(general.some((row) => row.perKwh < 0)).toBe(true);
    expect(general.some((row) => row.spikeStatus === 'spike' && row.descriptor === 'spike')).toBe(true);
    expect(general.some((row) => row.spikeStatus === 'potential')).toBe(true);
    expect(new Set(general.map((row) => row.descriptor))).toEqual(new Set(['extremelyLow', 'veryLow', 'low', 'neutral', 'high', 'spike']));
    expect(rows.every((row) => row.renewables >= 0 && row.renewables <= 100)).toBe(true);
    // Feed-in perKwh is negative when the customer is paid (spot > 0), positive when spot is negative.
    for (const row of rows.filter((r) => r.channelType === 'feedIn' && Math.abs(r.spotPerKwh) > 0.5)) {
      expect(Math.sign(row.perKwh)).toBe(-Math.sign(row.spotPerKwh));
    }
  });

  test('numbers come as ints, short floats and long binary tails', () => {
    const values = actuals().flatMap((row) => [row.perKwh, row.spotPerKwh, row.renewables]);
    expect(values.some((v) => Number.isInteger(v))).toBe(true);
    expect(values.some((v) => !Number.isInteger(v) && String(v).length <= 9)).toBe(true);
    expect(values.some((v) => /\.\d*0000000\d+$|\.\d*9999999\d+$/.test(String(v)))).toBe(true);
  });

  test('actual prices of past days never change as time moves on', async () => {
    const before = fake.expectedPrices(THIRTY_MIN.id, '2026-11-18', '2026-11-19');
    const later = await startFakeAmber({ now: () => new Date('2027-01-05T00:00:00Z'), rateLimit: null, sites: SITES });
    try {
      expect(later.expectedPrices(THIRTY_MIN.id, '2026-11-18', '2026-11-19')).toEqual(before);
      const served = rowsOf(await get(later, pricesPath(THIRTY_MIN), { startDate: '2026-11-18', endDate: '2026-11-19' }));
      expect(served).toEqual(before);
    } finally {
      await later.close();
    }
  });
});

describe('/prices/current (API-NOTES §2.3, §4.6)', () => {
  test('previous actuals, one current, next forecasts per channel; 30-min forecasts after the first hour', async () => {
    const rows = rowsOf(await get(fake, currentPath(FIVE_MIN), { previous: 3, next: 20 }));
    expect(rows).toHaveLength(3 * 24);
    const general = byType(rows, 'general');
    expect(general.map((row) => row['type'])).toEqual([
      ...Array(3).fill('ActualInterval'),
      'CurrentInterval',
      ...Array(20).fill('ForecastInterval'),
    ]);
    expect(general[3]).toMatchObject({ endTime: '2026-11-20T03:15:00Z' });
    const durations = general.slice(4).map((row) => row['duration']);
    // 03:15 → 04:30 in 5-minute steps (15 intervals), then half-hours from the boundary.
    expect(durations).toEqual([...Array(15).fill(5), ...Array(5).fill(30)]);
    for (let i = 1; i < general.length; i++) {
      expect(Date.parse(general[i]?.['endTime'] as string) - Number(general[i]?.['duration']) * 60_000).toBe(
        Date.parse(general[i - 1]?.['endTime'] as string),
      );
    }
    // advancedPrice only on general and controlled load, never on feed-in.
    expect(byType(rows, 'feedIn').some((row) => 'advancedPrice' in row)).toBe(false);
    expect(byType(rows, 'controlledLoad').slice(4).every((row) => 'advancedPrice' in row)).toBe(true);
  });

  test('mixedDurations: false gives uniform 5-minute forecasts', async () => {
    const uniform = await startFakeAmber({ now: () => NOW, rateLimit: null, mixedDurations: false });
    try {
      const rows = byType(rowsOf(await get(uniform, currentPath(FIVE_MIN), { next: 30 })), 'general');
      expect(new Set(rows.map((row) => row['duration']))).toEqual(new Set([5]));
    } finally {
      await uniform.close();
    }
  });

  test('a 30-minute current price is an estimate until its last 5 minutes, then the actual', async () => {
    const clock = { now: new Date('2026-11-20T03:10:00Z') };
    const moving = await startFakeAmber({ now: () => clock.now, rateLimit: null, sites: SITES });
    try {
      const early = rowsOf(await get(moving, currentPath(THIRTY_MIN)));
      expect(early).toHaveLength(1);
      expect(early[0]).toMatchObject({ type: 'CurrentInterval', estimate: true });
      expect(early[0]?.['advancedPrice']).toBeDefined();
      clock.now = new Date('2026-11-20T03:26:00Z');
      const locked = rowsOf(await get(moving, currentPath(THIRTY_MIN)))[0];
      expect(locked).toMatchObject({ type: 'CurrentInterval', estimate: false });
      expect(locked).not.toHaveProperty('advancedPrice');
      clock.now = new Date('2026-11-20T04:00:00Z');
      const actual = moving.expectedPrices(THIRTY_MIN.id, TODAY, TODAY).find((row) => row.endTime === '2026-11-20T03:30:00Z');
      expect(locked?.['perKwh']).toBe(actual?.perKwh);
    } finally {
      await moving.close();
    }
  });

  test('forecasts move from minute to minute and converge on the actual price', async () => {
    const clock = { now: NOW };
    const moving = await startFakeAmber({ now: () => clock.now, rateLimit: null, sites: SITES });
    try {
      const first = byType(rowsOf(await get(moving, currentPath(THIRTY_MIN), { next: 40 })), 'general');
      clock.now = new Date(NOW.getTime() + 60_000);
      const second = byType(rowsOf(await get(moving, currentPath(THIRTY_MIN), { next: 40 })), 'general');
      expect(second.slice(1).map((row) => row['perKwh'])).not.toEqual(first.slice(1).map((row) => row['perKwh']));

      // Mean error of the forecasts for this morning's intervals, seen 20 h ahead versus 5 min ahead.
      const targets = moving.expectedPrices(THIRTY_MIN.id, TODAY, TODAY).slice(0, 26);
      const errorAt = async (leadMinutes: number) => {
        let total = 0;
        for (const target of targets) {
          clock.now = new Date(Date.parse(target.startTime) - 1000 - leadMinutes * 60_000);
          const rows = rowsOf(await get(moving, currentPath(THIRTY_MIN), { next: 48 }));
          const forecast = rows.find((row) => row['endTime'] === target.endTime);
          expect(forecast?.['type']).toBe('ForecastInterval');
          total += Math.abs((forecast?.['perKwh'] as number) - target.perKwh);
        }
        return total / targets.length;
      };
      expect(await errorAt(5)).toBeLessThan((await errorAt(20 * 60)) / 2);
    } finally {
      await moving.close();
    }
  });
});

describe('determinism and the request log', () => {
  test('the same seed and clock give byte-identical responses; another seed differs', async () => {
    const paths: Array<[string, Record<string, string | number>]> = [
      ['/sites', {}],
      [pricesPath(FIVE_MIN), { startDate: '2026-11-13', endDate: TODAY }],
      [currentPath(FIVE_MIN), { previous: 12, next: 100 }],
      [`/sites/${FIVE_MIN.id}/usage`, { startDate: '2026-11-13', endDate: '2026-11-19' }],
    ];
    const twin = await startFakeAmber({ now: () => NOW, rateLimit: null, seed: 1 });
    const other = await startFakeAmber({ now: () => NOW, rateLimit: null, seed: 2 });
    try {
      for (const [path, query] of paths) {
        const mine = (await get(fake, path, query)).text;
        expect((await get(twin, path, query)).text).toBe(mine);
        if (path !== '/sites') expect((await get(other, path, query)).text).not.toBe(mine);
      }
    } finally {
      await Promise.all([twin.close(), other.close()]);
    }
  });

  test('records every request in order with endpoint, site, query, status and fault', async () => {
    fake.resetRequestLog();
    await get(fake, '/sites');
    await get(fake, pricesPath(FIVE_MIN), { startDate: '2026-11-01', endDate: '2026-11-02' });
    await get(fake, currentPath(THIRTY_MIN), { next: 3 });
    await get(fake, `/sites/${THIRTY_MIN.id}/usage`, { startDate: '2026-11-01', endDate: '2026-11-30' });
    await get(fake, '/state/sa/renewables/current', {}, { apiKey: null });
    fake.inject({ kind: 'status', status: 502, endpoint: 'sites' });
    await get(fake, '/sites');
    await get(fake, '/bogus');
    expect(fake.requests.map((r) => [r.endpoint, r.siteId, r.status, r.fault])).toEqual([
      ['sites', null, 200, null],
      ['prices', FIVE_MIN.id, 200, null],
      ['currentPrices', THIRTY_MIN.id, 200, null],
      ['usage', THIRTY_MIN.id, 422, null],
      ['renewables', null, 200, null],
      ['sites', null, 502, 'status'],
      ['unknown', null, 404, null],
    ]);
    expect(fake.requests[1]).toMatchObject({
      method: 'GET',
      path: `/v1/sites/${FIVE_MIN.id}/prices`,
      query: { startDate: '2026-11-01', endDate: '2026-11-02' },
    });
    const times = fake.requests.map((r) => r.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    fake.resetRequestLog();
    expect(fake.requests).toEqual([]);
  });

  test('figure: serving a 7-day range of the 5-minute 3-channel site', async () => {
    const query = { startDate: '2026-11-10', endDate: '2026-11-16' };
    await get(fake, pricesPath(FIVE_MIN), query); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      expect(rowsOf(await get(fake, pricesPath(FIVE_MIN), query))).toHaveLength(6048);
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    const [fastest, , median] = samples.map((ms) => ms.toFixed(1));
    console.log(`fake-amber: 7-day 5-min 3-channel /prices (6,048 rows), round trip: median ${median} ms, min ${fastest} ms`);
  });
});

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
