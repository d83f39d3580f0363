import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { PriceInterval, Site, UsageInterval } from '../../src/domain/models.ts';
import { parsePriceIntervals, parseSites, parseUsageIntervals, truncatedSample } from '../../src/amber/schemas.ts';
import { isCollectorError } from '../../src/errors.ts';
import { silentLogger, type Logger } from '../../src/logger.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { PRICE, SITE, USAGE } from './elements.ts';
import { amberFixturePath } from '../helpers/amber-fixtures.ts';

const PAYLOADS = amberFixturePath('payloads');

type Expectation =
  | { parseAs: 'sites' | 'prices' | 'usage'; items: number; rejected: number; why?: string }
  | { parseAs: 'prices'; schemaError: true; why: string }
  | { notAResponseBody: string };

/**
 * Every file in the shared payload folder and what it must produce. A new file fails the completeness test
 * below until someone decides here what it means (SOURCES.md says where each comes from).
 */
const PAYLOAD_TABLE: Record<string, Expectation> = {
  'amber-express-ratelimit-headers-fixture.json': { notAResponseBody: 'rate-limit headers; used by rate-limiter.test.ts' },
  'issue280-429-throttled-response-headers.json': { notAResponseBody: 'headers of a gateway 429; used by rate-limiter.test.ts' },
  'issue131-issue244-error-body-internal-server-error.json': {
    parseAs: 'prices',
    schemaError: true,
    why: 'a 500/502 error body is an object, not an array: a schema error for the whole response',
  },
  'ha-core-synthetic-current-prices-general-controlledLoad-feedIn.json': {
    parseAs: 'prices',
    items: 12,
    rejected: 0,
    why: 'synthetic (SOURCES.md §4): startTime/endTime carry +10:00 instead of UTC Z; the types allow it, the consistency rules refuse it',
  },
  'rust-renewables-actual-current-forecast.json': {
    parseAs: 'prices',
    items: 0,
    rejected: 3,
    why: 'renewables, not prices: *Renewable is an unknown price `type`, so each element is rejected',
  },
  'issue168-current-prices-30min-general-only-no-tariffInformation.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'issue222-current-interval-5min-estimate-false.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'issue247-current-prices-5min-next3-previous2-first-two-elements.json': { parseAs: 'prices', items: 2, rejected: 0 },
  'issue256-usage-5min-first-element.json': { parseAs: 'usage', items: 1, rejected: 0 },
  'issue256-usage-today-empty-array.json': { parseAs: 'usage', items: 0, rejected: 0 },
  'issue272-current-interval-5min-estimate-true-advancedPrice.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2021-07-feedIn-negative-perKwh-positive-spot.json': { parseAs: 'prices', items: 2, rejected: 0 },
  'live-current-prices-2021-07-first-capture-no-descriptor.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2021-07-general-plus-feedIn-no-tariffInformation.json': { parseAs: 'prices', items: 2, rejected: 0 },
  'live-current-prices-2021-11-spike.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2021-11-with-range.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2022-02-descriptor-negative.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2022-05-descriptor-spike.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2022-05-spikeStatus-potential.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2024-07-advancedPrice-without-predicted.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2024-07-estimate-false-no-advancedPrice.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2024-07-estimate-true-with-advancedPrice.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2024-09-05-empty-array-aemo-outage.json': { parseAs: 'prices', items: 0, rejected: 0 },
  'live-current-prices-2025-06-tariffInformation-with-season.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2026-07-period-solarSponge.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-2026-08-latest.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-current-prices-general-negative-perKwh.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'live-usage-2023-07-03-30min-E1-48-intervals.json': { parseAs: 'usage', items: 48, rejected: 0 },
  'live-usage-2025-06-tariffInformation-with-season.json': { parseAs: 'usage', items: 48, rejected: 0 },
  'live-usage-2025-12-04-revision-v1-first-seen.json': { parseAs: 'usage', items: 48, rejected: 0 },
  'live-usage-2025-12-04-revision-v2-1h-later.json': { parseAs: 'usage', items: 48, rejected: 0 },
  'live-usage-2025-12-04-revision-v3-final-all-billable.json': { parseAs: 'usage', items: 48, rejected: 0 },
  'live-usage-empty-array-day-not-yet-available.json': { parseAs: 'usage', items: 0, rejected: 0 },
  'live-usage-negative-cost-negative-perKwh.json': { parseAs: 'usage', items: 48, rejected: 0 },
  'live-usage-spike-descriptor.json': { parseAs: 'usage', items: 48, rejected: 0 },
  'rust-current-prices-actual-current-forecast.json': { parseAs: 'prices', items: 3, rejected: 0 },
  'rust-prices-actual-current-forecast-advancedPrice.json': { parseAs: 'prices', items: 3, rejected: 0 },
  'rust-sites-with-intervalLength.json': { parseAs: 'sites', items: 1, rejected: 0 },
  'rust-usage-single.json': { parseAs: 'usage', items: 1, rejected: 0 },
  'sdk1x-current-prices-previous1-next1.json': { parseAs: 'prices', items: 3, rejected: 0 },
  'sdk1x-current-prices-single-current.json': { parseAs: 'prices', items: 1, rejected: 0 },
  'sdk1x-prices-actual-forecast-current.json': { parseAs: 'prices', items: 3, rejected: 0 },
  'sdk1x-sites-closed-site-3-channels.json': { parseAs: 'sites', items: 1, rejected: 0 },
  'sdk1x-usage-single.json': { parseAs: 'usage', items: 1, rejected: 0 },
};

/** Types only: the consistency rules have their own tests (interval-rules.test.ts). */
const PARSERS = {
  sites: parseSites,
  prices: (body: unknown, logger: Logger) => parsePriceIntervals(body, logger, null),
  usage: (body: unknown, logger: Logger) => parseUsageIntervals(body, logger, null),
};

function readPayload(file: string): unknown {
  return JSON.parse(readFileSync(`${PAYLOADS}/${file}`, 'utf8'));
}

describe('shared payload files', () => {
  test('the table lists every payload file', () => {
    const files = readdirSync(PAYLOADS).filter((file) => file.endsWith('.json')).sort();
    expect(Object.keys(PAYLOAD_TABLE).sort()).toEqual(files);
  });

  test.each(Object.entries(PAYLOAD_TABLE))('%s', (file, expectation) => {
    const body = readPayload(file);
    if ('notAResponseBody' in expectation) {
      expect(Array.isArray(body)).toBe(false);
      return;
    }
    const parse = PARSERS[expectation.parseAs];
    if ('schemaError' in expectation) {
      expect(() => parse(body, silentLogger())).toThrow(expect.objectContaining({ code: 'AMBER_SCHEMA' }));
      return;
    }
    const parsed = parse(body, silentLogger());
    expect(parsed.rejected, JSON.stringify(parsed.rejected.slice(0, 2))).toHaveLength(expectation.rejected);
    expect(parsed.items).toHaveLength(expectation.items);
    // raw is the element exactly as sent, whatever else happened to it.
    for (const item of parsed.items) expect((body as unknown[]).includes(item.raw)).toBe(true);
  });

  test('payloads carry no enum value we have not seen (nothing is warned about)', () => {
    const { logger, lines } = captureLogger('debug');
    for (const [file, expectation] of Object.entries(PAYLOAD_TABLE)) {
      if ('parseAs' in expectation && !('schemaError' in expectation)) PARSERS[expectation.parseAs](readPayload(file), logger);
    }
    expect(lines).toEqual([]);
  });
});

describe('price intervals', () => {
  test('map exactly to the PriceInterval model, keeping the element as raw', () => {
    const { items, rejected } = parsePriceIntervals([PRICE], silentLogger(), null);
    expect(rejected).toEqual([]);
    const expected: PriceInterval = {
      type: 'CurrentInterval',
      date: '2025-11-20',
      duration: 30,
      startTime: '2025-11-20T03:00:01Z',
      endTime: '2025-11-20T03:30:00Z',
      nemTime: '2025-11-20T13:30:00+10:00',
      perKwh: 10.30517,
      spotPerKwh: -0.07312,
      renewables: 70,
      channelType: 'general',
      spikeStatus: 'none',
      descriptor: 'extremelyLow',
      tariffInformation: { period: 'offPeak', season: 'default', block: null, demandWindow: null },
      estimate: true,
      range: null,
      advancedPrice: { low: 9.21406, predicted: 10.11822, high: 11.70341 },
      raw: PRICE,
    };
    expect(items).toEqual([expected]);
    expect(items[0]?.raw).toBe(PRICE);
  });

  test('optional fields may be missing or null, and predicted may be missing', () => {
    const missing: Record<string, unknown> = { ...PRICE, type: 'ForecastInterval', advancedPrice: { low: 1, high: 2 } };
    delete missing.tariffInformation;
    delete missing.descriptor;
    delete missing.estimate;
    const nulls = { ...PRICE, type: 'ActualInterval', tariffInformation: null, descriptor: null, range: null, advancedPrice: null };
    const { items, rejected } = parsePriceIntervals([missing, nulls], silentLogger(), null);
    expect(rejected).toEqual([]);
    expect(items[0]).toMatchObject({ type: 'ForecastInterval', tariffInformation: null, descriptor: null, estimate: null, range: null });
    expect(items[0]?.advancedPrice).toEqual({ low: 1, predicted: null, high: 2 });
    expect(items[1]).toMatchObject({ type: 'ActualInterval', tariffInformation: null, descriptor: null, range: null, advancedPrice: null, estimate: null });
  });

  test('unknown keys are tolerated and kept in raw', () => {
    const element = { ...PRICE, futureField: { nested: [1, 2] } };
    const { items } = parsePriceIntervals([element], silentLogger(), null);
    expect(items[0]?.raw['futureField']).toEqual({ nested: [1, 2] });
    expect(items[0]).not.toHaveProperty('futureField');
  });

  test('bad elements are rejected with index, problems and a sample; good ones still come back', () => {
    const wrongType = { ...PRICE, perKwh: '10.3' };
    const unknownType = { ...PRICE, type: 'HistoricalInterval' };
    const noEstimate = { ...PRICE };
    delete noEstimate.estimate;
    const notIso = { ...PRICE, endTime: '2025-11-20 13:30' };
    const { items, rejected } = parsePriceIntervals([PRICE, wrongType, unknownType, noEstimate, null, notIso, 42], silentLogger(), null);
    expect(items).toHaveLength(1);
    expect(rejected.map((r) => r.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rejected[0]?.problems).toEqual([expect.stringMatching(/^perKwh: /)]);
    expect(rejected[1]?.problems).toEqual([expect.stringMatching(/^type: /)]);
    expect(rejected[2]?.problems).toEqual([expect.stringMatching(/^estimate: /)]);
    expect(rejected[3]?.problems).toEqual([expect.stringMatching(/^\(element\): /)]);
    expect(rejected[4]?.problems).toEqual([expect.stringMatching(/^endTime: /)]);
    expect(rejected[0]?.sample).toContain('"perKwh":"10.3"');
  });

  test('a rejected sample is truncated', () => {
    const huge = { ...PRICE, perKwh: null, padding: 'x'.repeat(10_000) };
    const { rejected } = parsePriceIntervals([huge], silentLogger(), null);
    expect(String(rejected[0]?.sample).length).toBeLessThanOrEqual(501);
    expect(truncatedSample('abcdef', 3)).toBe('abc…');
  });

  test('ints and floats, negative prices and zero are all numbers', () => {
    const { items, rejected } = parsePriceIntervals([{ ...PRICE, perKwh: -2049, spotPerKwh: 0, renewables: 31.185000000000002 }], silentLogger(), null);
    expect(rejected).toEqual([]);
    expect(items[0]).toMatchObject({ perKwh: -2049, spotPerKwh: 0, renewables: 31.185000000000002 });
  });

  test('a body that is not an array is a schema error for the whole response', () => {
    for (const body of [{ message: 'Internal server error' }, null, 'text', 7]) {
      try {
        parsePriceIntervals(body, silentLogger(), null);
        expect.unreachable();
      } catch (err) {
        expect(isCollectorError(err, 'AMBER_SCHEMA')).toBe(true);
        expect((err as { retryable: boolean }).retryable).toBe(true);
      }
    }
  });
});

describe('unknown enum values', () => {
  test('are kept and warned about once per (field, value) per process', () => {
    const { logger, lines } = captureLogger('debug');
    const novel = {
      ...PRICE,
      channelType: 'battery-test-1',
      spikeStatus: 'imminent-test-1',
      descriptor: 'superLow-test-1',
      tariffInformation: { period: 'midday-test-1', season: 'monsoon-test-1' },
    };
    const { items, rejected } = parsePriceIntervals([novel, novel, { ...novel, descriptor: 'superLow-test-2' }], logger, null);
    parsePriceIntervals([novel], logger, null);
    expect(rejected).toEqual([]);
    expect(items[0]).toMatchObject({ channelType: 'battery-test-1', descriptor: 'superLow-test-1' });
    expect(items[0]?.tariffInformation).toMatchObject({ period: 'midday-test-1', season: 'monsoon-test-1' });
    const warned = lines.map((line) => [line['level'], line['field'], line['value']]);
    expect(warned).toEqual([
      [40, 'channelType', 'battery-test-1'],
      [40, 'spikeStatus', 'imminent-test-1'],
      [40, 'descriptor', 'superLow-test-1'],
      [40, 'tariffInformation.period', 'midday-test-1'],
      [40, 'tariffInformation.season', 'monsoon-test-1'],
      [40, 'descriptor', 'superLow-test-2'],
    ]);
  });

  test('apply to usage quality and site status too', () => {
    const { logger, lines } = captureLogger('debug');
    parseUsageIntervals([{ ...USAGE, quality: 'provisional-test-3' }], logger, null);
    parseSites([{ ...SITE, status: 'suspended-test-3' }], logger);
    expect(lines.map((line) => [line['field'], line['value']])).toEqual([
      ['quality', 'provisional-test-3'],
      ['status', 'suspended-test-3'],
    ]);
  });
});

describe('usage', () => {
  test('maps to the UsageInterval model, negative cost and perKwh included', () => {
    const { items, rejected } = parseUsageIntervals([USAGE], silentLogger(), null);
    expect(rejected).toEqual([]);
    const expected: UsageInterval = {
      type: 'Usage',
      date: '2025-11-19',
      duration: 5,
      startTime: '2025-11-19T02:30:01Z',
      endTime: '2025-11-19T02:35:00Z',
      nemTime: '2025-11-19T12:35:00+10:00',
      perKwh: -6.23011,
      spotPerKwh: 5.90102,
      renewables: 74.81,
      channelType: 'feedIn',
      spikeStatus: 'none',
      descriptor: 'veryLow',
      tariffInformation: { period: null, season: null, block: null, demandWindow: false },
      channelIdentifier: 'B1',
      kwh: 0.412,
      cost: -2.5668,
      quality: 'billable',
      raw: USAGE,
    };
    expect(items).toEqual([expected]);
  });

  test('a price element in a usage response is rejected', () => {
    const { items, rejected } = parseUsageIntervals([PRICE], silentLogger(), null);
    expect(items).toEqual([]);
    expect(rejected[0]?.problems.join(' ')).toMatch(/type: .*channelIdentifier: /);
  });
});

describe('sites', () => {
  test('map to the Site model', () => {
    const { items } = parseSites([SITE], silentLogger());
    const expected: Site = {
      id: '01J9Q4ZC6H2RM8T3VX5B7KD1NA',
      nmi: '4103827719',
      network: 'Ausgrid',
      status: 'active',
      activeFrom: '2024-03-14',
      closedOn: null,
      intervalLength: 5,
      channels: [{ identifier: 'E1', type: 'general', tariff: 'EA116' }],
      raw: SITE,
    };
    expect(items).toEqual([expected]);
  });

  test('a missing or null intervalLength means 30; missing or null dates mean null; no channels is fine', () => {
    const { items, rejected } = parseSites(
      [
        { id: 'A', nmi: '1', channels: [], network: 'Jemena', status: 'pending' },
        { id: 'B', nmi: '2', channels: [], network: 'Jemena', status: 'closed', intervalLength: null, activeFrom: null, closedOn: '2022-05-01' },
      ],
      silentLogger(),
    );
    expect(rejected).toEqual([]);
    expect(items.map((s) => [s.intervalLength, s.activeFrom, s.closedOn])).toEqual([
      [30, null, null],
      [30, null, '2022-05-01'],
    ]);
  });

  test('a site without an id or with a malformed date is rejected', () => {
    const { rejected } = parseSites([{ ...SITE, id: undefined }, { ...SITE, activeFrom: '14/03/2024' }], silentLogger());
    expect(rejected.map((r) => r.problems[0])).toEqual([expect.stringMatching(/^id: /), expect.stringMatching(/^activeFrom: /)]);
  });
});
