/**
 * Users' own SQL against the schema, verbatim. Their answers follow the session's TimeZone (months,
 * hours and dates of a timestamptz are taken in it); the collector's sessions use UTC, and a user who
 * wants NEM days sets `Australia/Brisbane` (UTC+10, no daylight saving), as the last test shows.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertPriceIntervals } from '../../src/db/prices.ts';
import { upsertSites } from '../../src/db/sites-store.ts';
import { upsertUsageIntervals } from '../../src/db/usage.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { priceInterval, site, usageInterval } from '../helpers/intervals.ts';

const MONTHLY_COST = `SELECT DATE_TRUNC('month', nem_time) AS month, SUM(CASE WHEN cost > 0 THEN cost/100 ELSE 0 END) AS total_cost FROM usage_data GROUP BY month ORDER BY month DESC;`;
const HOURLY_PRICE = `SELECT EXTRACT(hour FROM nem_time) AS hour, AVG(per_kwh) AS avg_price_cents FROM price_data GROUP BY hour ORDER BY hour;`;
const DAILY_ENERGY = `SELECT DATE(nem_time) AS date, SUM(CASE WHEN kwh > 0 THEN kwh ELSE 0 END) AS consumed, SUM(CASE WHEN kwh < 0 THEN ABS(kwh) ELSE 0 END) AS generated FROM usage_data WHERE channel_id IN ('E1', 'B1') GROUP BY date ORDER BY date DESC;`;

const SITE = site({ channels: [
  { identifier: 'E1', type: 'general', tariff: 'EA116' },
  { identifier: 'E2', type: 'controlledLoad', tariff: 'EA030' },
  { identifier: 'B1', type: 'feedIn', tariff: 'EA116' },
] });
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await upsertSites(db.pool, [SITE]);
  const e1 = (end: string, kwh: number, cost: number) => usageInterval({ end, channelIdentifier: 'E1', channelType: 'general', kwh, cost });
  const b1 = (end: string, kwh: number, cost: number) => usageInterval({ end, channelIdentifier: 'B1', channelType: 'feedIn', kwh, cost });
  await upsertUsageIntervals(db.pool, SITE.id, [
    e1('2024-12-15T10:00:00Z', 1, 20),
    e1('2025-01-31T23:30:00Z', 1.5, 45.123),
    // Feed-in kWh arrive positive, as the live API sends them; they are stored as generation (negative).
    b1('2025-01-31T23:30:00Z', 0.5, -3.25),
    e1('2025-02-01T00:30:00Z', 2.25, 60.5),
    e1('2025-02-01T01:00:00Z', 0.25, 7.1),
    b1('2025-02-01T00:30:00Z', 1.125, -8.1),
    // Controlled load: in the monthly cost, not in the E1/B1 daily energy.
    usageInterval({ end: '2025-02-01T00:30:00Z', channelIdentifier: 'E2', channelType: 'controlledLoad', kwh: 3, cost: 30 }),
  ]);
  const price = (end: string, perKwh: number, channelType = 'general') => priceInterval({ end, perKwh, channelType });
  await upsertPriceIntervals(db.pool, SITE.id, [
    price('2025-01-01T01:00:00Z', 10),
    price('2025-01-01T01:30:00Z', 20),
    price('2025-01-01T01:00:00Z', -5, 'feedIn'),
    price('2025-01-02T05:00:00Z', 31.185000000000002),
    price('2025-01-02T05:30:00Z', 30),
  ]);
});
afterAll(async () => {
  await db.drop();
});

/** pg turns a `date` into local midnight; read it back the same way. */
function localDate(value: Date): string {
  return `${value.getFullYear()}-${String(value.getMonth() + 1).padStart(2, '0')}-${String(value.getDate()).padStart(2, '0')}`;
}

describe('the users\' queries', () => {
  it('monthly cost: positive costs only, in dollars', async () => {
    const result = await db.pool.query(MONTHLY_COST);
    expect(result.rows.map((r) => [(r.month as Date).toISOString(), r.total_cost as string])).toEqual([
      ['2025-02-01T00:00:00.000Z', expect.stringMatching(/^0\.976(0*)$/)], // (60.5 + 7.1 + 30) / 100
      ['2025-01-01T00:00:00.000Z', expect.stringMatching(/^0\.45123(0*)$/)], // 45.123 / 100; the feed-in credit is left out
      ['2024-12-01T00:00:00.000Z', expect.stringMatching(/^0\.2(0*)$/)],
    ]);
  });

  it('average price by hour of the day, exact to the last digit', async () => {
    const result = await db.pool.query(HOURLY_PRICE);
    expect(result.rows.map((r) => [Number(r.hour), r.avg_price_cents as string])).toEqual([
      [1, expect.stringMatching(/^8\.3333333333333333/)], // (10 + 20 - 5) / 3
      [5, expect.stringMatching(/^30\.592500000000001(0*)$/)], // (31.185000000000002 + 30) / 2, no float rounding
    ]);
  });

  it('daily consumption and generation on the E1 and B1 channels', async () => {
    const result = await db.pool.query(DAILY_ENERGY);
    expect(result.rows.map((r) => [localDate(r.date as Date), r.consumed as string, r.generated as string])).toEqual([
      ['2025-02-01', '2.50', '1.125'],
      ['2025-01-31', '1.5', '0.5'],
      ['2024-12-15', '1', '0'],
    ]);
  });

  it('answers in NEM time for a session in Australia/Brisbane', async () => {
    const client: pg.PoolClient = await db.pool.connect();
    try {
      await client.query(`SET TimeZone = 'Australia/Brisbane'`);
      const hours = await client.query(HOURLY_PRICE);
      expect(hours.rows.map((r) => Number(r.hour))).toEqual([11, 15]);
      const days = await client.query(DAILY_ENERGY);
      // 2025-01-31T23:30Z is 09:30 on 1 February in NEM time.
      expect(days.rows.map((r) => [localDate(r.date as Date), r.consumed as string, r.generated as string])).toEqual([
        ['2025-02-01', '4.00', '1.625'],
        ['2024-12-15', '1', '0'],
      ]);
    } finally {
      await client.query('RESET TimeZone');
      client.release();
    }
  });
});
