/**
 * Property: whatever the spec allows, the collector stores it or rejects it alone. Responses mix
 * consistent intervals with random elements generated from the spec's ActualInterval, CurrentInterval,
 * ForecastInterval and Usage schemas (test/fake-amber/spec-arbitrary.ts), served over HTTP to the real
 * client and stored by the real collector. Then:
 * - nothing throws;
 * - every consistent interval is stored exactly (values and raw);
 * - every other element is in rejected_intervals, with the rule it breaks first, or `schema` when its types
 *   cannot be stored; the database never has to refuse one;
 * - every stored row keeps every consistency rule, checked by SQL written independently of the code.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmberClient } from '../../src/amber/client.ts';
import { connectAmber } from '../../src/amber/connect.ts';
import { INTERVAL_RULES } from '../../src/domain/interval-rules.ts';
import type { DataType } from '../../src/domain/models.ts';
import { nemDayStart } from '../../src/domain/nem-time.ts';
import { storableJson } from '../../src/amber/storable-text.ts';
import { ChunkCollector } from '../../src/collector/chunk.ts';
import { upsertSites } from '../../src/db/sites-store.ts';
import { silentLogger } from '../../src/logger.ts';
import { startLoopback, sendJson, type Loopback } from '../amber/loopback.ts';
import { specElement } from '../fake-amber/spec-arbitrary.ts';
import { testSite } from '../fidelity/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { brokenRowsSql, KEPT_ARRAY, RULES_SQL } from '../helpers/interval-rules-sql.ts';

const SITE = testSite('01PR0PERTYS1TE000000000000', 30, [
  ['E1', 'general'],
  ['B1', 'feedIn'],
]);
const CHUNK = { startDate: '2025-11-17', endDate: '2025-11-18' };
const NOW = new Date('2025-11-25T03:00:00Z');
const MINUTE_MS = 60_000;
const SLOTS_PER_DAY = 48;
const RUNS = 25;

type Element = Record<string, unknown>;

/** What the columns cannot take, checked on the element as sent: the reasons a spec-valid element is `schema`. */
function breaksAColumn(element: Element): boolean {
  const block = (element['tariffInformation'] as Element | null | undefined)?.['block'];
  const instants = ['startTime', 'endTime', 'nemTime'].map((k) => Date.parse(String(element[k])));
  return (
    (typeof block === 'number' && !Number.isInteger(block)) ||
    instants.some((ms) => !(ms >= Date.parse('0001-01-01T00:00:00Z'))) ||
    String(element['date']).startsWith('0000') ||
    String(element['channelIdentifier'] ?? '').length > 200
  );
}

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

/** Consistent intervals of the chunk, one per (channel, slot), with arbitrary values where the rules allow any. */
function consistentIntervals(dataType: DataType, day: 1 | 2): fc.Arbitrary<Element[]> {
  const channels = SITE.channels;
  return fc
    .uniqueArray(
      fc.record({
        channel: fc.integer({ min: 0, max: channels.length - 1 }),
        slot: fc.integer({ min: (day - 1) * SLOTS_PER_DAY + 1, max: day * SLOTS_PER_DAY }),
        perKwh: finite,
        spotPerKwh: finite,
        renewables: fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom(0, 100)),
        kwh: finite,
        cost: finite,
        tariff: fc.option(fc.record({ period: fc.constantFrom('peak', 'offPeak'), block: fc.constantFrom(1, 2) }), { nil: null }),
      }),
      { selector: (v) => `${v.channel}|${v.slot}`, maxLength: 12 },
    )
    .map((values) =>
      values.map((v) => {
        const end = nemDayStart(CHUNK.startDate).getTime() + v.slot * 30 * MINUTE_MS;
        const channel = channels[v.channel]!;
        const base: Element = {
          date: new Date(end - 1000 + 10 * 60 * MINUTE_MS).toISOString().slice(0, 10),
          duration: 30,
          startTime: new Date(end - 30 * MINUTE_MS + 1000).toISOString(),
          endTime: new Date(end).toISOString(),
          nemTime: `${new Date(end + 10 * 60 * MINUTE_MS).toISOString().slice(0, 19)}+10:00`,
          perKwh: v.perKwh,
          spotPerKwh: v.spotPerKwh,
          renewables: v.renewables,
          channelType: channel.type,
          spikeStatus: 'none',
          descriptor: 'low',
          tariffInformation: v.tariff,
        };
        return dataType === 'price'
          ? { type: 'ActualInterval', ...base }
          : { type: 'Usage', ...base, channelIdentifier: channel.identifier, kwh: v.kwh, cost: v.cost, quality: 'billable' };
      }),
    );
}

/**
 * Consistent intervals with one field replaced: by any value the spec allows for it, or by one near the
 * consistent value (a second, a day, an interval off; renewables around 0..100), where the rules' edges are.
 * Most break one rule, some none.
 */
function mutated(dataType: DataType, base: Element[]): fc.Arbitrary<Element[]> {
  const shifted = (text: unknown, ms: number): string => new Date(Date.parse(String(text)) + ms).toISOString();
  const near: Record<string, (e: Element) => fc.Arbitrary<unknown>> = {
    duration: () => fc.constantFrom(5, 15, 30),
    nemTime: (e) => fc.constantFrom(-1000, 1000, 10 * 60 * MINUTE_MS).map((ms) => shifted(e['nemTime'], ms)),
    startTime: (e) => fc.constantFrom(-1000, 1000, -30 * MINUTE_MS).map((ms) => shifted(e['startTime'], ms)),
    endTime: (e) => fc.constantFrom(-1000, 1000, 30 * MINUTE_MS).map((ms) => shifted(e['endTime'], ms)),
    date: (e) => fc.constantFrom(-1, 1, 2).map((days) => shifted(e['date'], days * 24 * 60 * MINUTE_MS).slice(0, 10)),
    renewables: () => fc.oneof(fc.double({ min: -5, max: 105, noNaN: true }), fc.constantFrom(-Number.MIN_VALUE, 100.000001)),
    tariffInformation: () => fc.constant({ block: 1.5 }),
  };
  const donor = specElement(dataType === 'price' ? 'ActualInterval' : 'Usage');
  return fc.tuple(
    ...base.map((element) =>
      fc.constantFrom(...Object.keys(near)).chain((field) =>
        fc.oneof(donor.map((d) => d[field]), near[field]!(element)).map((value) => ({ ...element, [field]: value })),
      ),
    ),
  );
}

/** Canonical JSON (keys sorted), to compare elements with what jsonb gives back. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Element)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function specElements(dataType: DataType): fc.Arbitrary<Element[]> {
  const element =
    dataType === 'price'
      ? fc.oneof(specElement('ActualInterval'), specElement('CurrentInterval'), specElement('ForecastInterval'))
      : specElement('Usage');
  return fc.array(element, { maxLength: 6 });
}

describe('random spec elements mixed with consistent intervals', () => {
  let db: TestDatabase;
  let loopback: Loopback;
  let client: AmberClient;
  let chunks: ChunkCollector;
  let body = '[]';

  beforeAll(async () => {
    db = await createTestDatabase();
    await upsertSites(db.pool, [SITE]);
    loopback = await startLoopback((_req, res) => sendJson(res, 200, body));
    ({ client } = connectAmber(
      { baseUrl: loopback.baseUrl, apiKey: 'psk_property', rateLimit: { limit: 1_000_000, windowSeconds: 1 }, requestTimeoutMs: 10_000 },
      { logger: silentLogger(), wallClock: () => NOW.getTime(), retry: { maxAttempts: 1 } },
    ));
    chunks = new ChunkCollector({ pool: db.pool, client, logger: silentLogger(), historicalStartDate: '2025-11-01', now: () => NOW });
  });
  afterAll(async () => {
    await client?.close();
    await loopback?.close();
    await db?.drop();
  });

  /** The oracle: per element (storable form), the rule it breaks first by the SQL above, `schema`, or null when consistent. */
  async function expectedRules(served: readonly Element[]): Promise<Array<string | null>> {
    const castable = served.map((e) => !breaksAColumn(e));
    const { rows } = await db.pool.query<{ kept: boolean[] }>(
      `SELECT ${KEPT_ARRAY} AS kept FROM (
         SELECT n, (e->>'duration')::int AS duration, (e->>'nemTime')::timestamptz AS nem_time, (e->>'endTime')::timestamptz AS end_time,
                (e->>'startTime')::timestamptz AS start_time, (e->>'date')::date AS nem_date, (e->>'renewables')::numeric AS renewables,
                $2::date AS requested_from, $3::date AS requested_to
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x (e, n)) r
       ORDER BY n`,
      [JSON.stringify(served.filter((_, i) => castable[i])), CHUNK.startDate, CHUNK.endDate],
    );
    let next = 0;
    return served.map((_, i) => {
      if (!castable[i]) return 'schema';
      const kept = rows[next++]!.kept;
      const broken = kept.indexOf(false);
      return broken < 0 ? null : RULES_SQL[broken]![0];
    });
  }

  async function check(dataType: DataType, elements: { consistent: Element[]; mutated: Element[]; random: Element[] }, order: number[]): Promise<void> {
    await db.pool.query('TRUNCATE price_data, usage_data, rejected_intervals, coverage');
    const all = [...elements.consistent, ...elements.mutated, ...elements.random];
    const shuffled = order.map((i) => all[i % all.length]!).filter((e, i, list) => list.indexOf(e) === i);
    const served = [...shuffled, ...all.filter((e) => !shuffled.includes(e))];
    body = JSON.stringify(served);
    const storable = served.map((e) => storableJson(e).value);
    const rules = await expectedRules(storable);

    const result = await chunks.collectDays(SITE, dataType, CHUNK, AbortSignal.timeout(20_000));

    // Consistent intervals of a stored type: stored exactly, values and raw, and nothing else is.
    const toStore = storable.filter((e, i) => rules[i] === null && (e['type'] === 'ActualInterval' || e['type'] === 'Usage'));
    expect(toStore.length).toBeGreaterThanOrEqual(elements.consistent.length);
    const table = dataType === 'price' ? 'price_data' : 'usage_data';
    const channel = dataType === 'price' ? `e->>'channelType' = t.channel_type` : `e->>'channelIdentifier' = t.channel_id`;
    const values =
      dataType === 'price'
        ? ''
        : ` AND t.kwh = CASE WHEN e->>'channelType' = 'feedIn' THEN -abs((e->>'kwh')::numeric) ELSE (e->>'kwh')::numeric END
            AND t.cost = (e->>'cost')::numeric`;
    const exact = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jsonb_array_elements($1::jsonb) AS e
       JOIN ${table} t ON t.site_id = $2 AND ${channel} AND t.nem_time = (e->>'nemTime')::timestamptz AND t.duration = (e->>'duration')::int
       WHERE t.raw = e AND t.per_kwh = (e->>'perKwh')::numeric AND t.spot_per_kwh = (e->>'spotPerKwh')::numeric
         AND t.renewables = (e->>'renewables')::numeric${values}`,
      [JSON.stringify(toStore), SITE.id],
    );
    expect(exact.rows[0]?.n).toBe(toStore.length);
    const stored = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    expect(stored.rows[0]?.n).toBe(toStore.length);
    expect(result.inserted).toBe(toStore.length);

    // Every stored row keeps every rule.
    expect((await db.pool.query(brokenRowsSql(table, { from: CHUNK.startDate, to: CHUNK.endDate }))).rows).toEqual([]);

    // Every other element is kept in rejected_intervals with the reason the oracle gives; the database refused none.
    expect(result.rejected).toBe(rules.filter((r) => r !== null).length);
    const { rows: rejected } = await db.pool.query<{ rule: string; raw: unknown }>(
      'SELECT rule, raw FROM rejected_intervals WHERE site_id = $1 AND data_type = $2',
      [SITE.id, dataType],
    );
    const expected = new Map<string, string>();
    storable.forEach((e, i) => {
      if (rules[i] !== null) expected.set(canonical(e), rules[i]!);
    });
    expect(new Map(rejected.map((r) => [canonical(r.raw), r.rule]))).toEqual(expected);
  }

  it('the SQL rules here are the rules of the code, in the same order', () => {
    expect(RULES_SQL.map(([name]) => name)).toEqual(INTERVAL_RULES.map((r) => r.name));
  });

  for (const dataType of ['price', 'usage'] as const) {
    it(`${dataType}: stores every consistent interval exactly and keeps every other element with its reason`, async () => {
      await fc.assert(
        fc.asyncProperty(
          consistentIntervals(dataType, 1),
          consistentIntervals(dataType, 2).chain((base) => mutated(dataType, base)),
          specElements(dataType),
          fc.array(fc.nat(), { maxLength: 30 }),
          (consistent, changed, random, order) => check(dataType, { consistent, mutated: changed, random }, order),
        ),
        { numRuns: RUNS, seed: 20_26_12_03, endOnFailure: true },
      );
    }, 120_000);
  }
});
