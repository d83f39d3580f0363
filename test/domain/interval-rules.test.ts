import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { INTERVAL_RULES, ruleViolation, type RequestedRange } from '../../src/domain/interval-rules.ts';
import type { BaseInterval } from '../../src/domain/models.ts';
import { parsePriceIntervals, parseUsageIntervals } from '../../src/amber/schemas.ts';
import { silentLogger } from '../../src/logger.ts';
import { amberFixturePath } from '../helpers/amber-fixtures.ts';
import { PRICE, USAGE } from '../amber/elements.ts';

const PAYLOADS = amberFixturePath('payloads');
const EVERY_DAY: RequestedRange = { from: '2000-01-01', to: '2099-12-31' };

function intervalFiles(prefixes: readonly string[]): Array<{ file: string; body: unknown[] }> {
  return readdirSync(PAYLOADS)
    .filter((file) => prefixes.some((prefix) => file.startsWith(prefix)) && file.endsWith('.json'))
    .map((file) => ({ file, body: JSON.parse(readFileSync(`${PAYLOADS}/${file}`, 'utf8')) as unknown }))
    .filter((entry): entry is { file: string; body: unknown[] } => Array.isArray(entry.body))
    .filter(({ body }) => body.some((e) => typeof e === 'object' && e !== null && 'endTime' in e && 'perKwh' in e));
}

function parse(body: unknown[], range: RequestedRange | null) {
  const usage = body.some((e) => (e as { type?: unknown }).type === 'Usage');
  return usage ? parseUsageIntervals(body, silentLogger(), range) : parsePriceIntervals(body, silentLogger(), range);
}

/** The days a response's elements belong to, as the request that fetched them would have asked. */
function rangeOf(body: unknown[]): RequestedRange {
  const dates = body.map((e) => (e as { date: string }).date).sort();
  return { from: dates[0]!, to: dates.at(-1)! };
}

describe('real responses (live- and issue payloads)', () => {
  const files = intervalFiles(['live-', 'issue']);

  test('keep every consistency rule: nothing is rejected', () => {
    let intervals = 0;
    for (const { file, body } of files) {
      const parsed = parse(body, rangeOf(body));
      expect(parsed.rejected, `${file}: ${JSON.stringify(parsed.rejected[0]?.problems)}`).toEqual([]);
      intervals += parsed.items.length;
    }
    // 359 intervals in 30 files when this was written.
    expect(intervals).toBeGreaterThanOrEqual(359);
  });
});

describe('hand-written fixtures (rust-, sdk1x-, ha-core-synthetic-)', () => {
  // They copy the spec's examples, whose nemTime and startTime do not match endTime.
  const expected: Record<string, string> = {
    'rust-current-prices-actual-current-forecast.json': 'nem-time-is-end-time',
    'rust-prices-actual-current-forecast-advancedPrice.json': 'nem-time-is-end-time',
    'rust-usage-single.json': 'nem-time-is-end-time',
    'sdk1x-current-prices-previous1-next1.json': 'nem-time-is-end-time',
    'sdk1x-current-prices-single-current.json': 'nem-time-is-end-time',
    'sdk1x-prices-actual-forecast-current.json': 'nem-time-is-end-time',
    'sdk1x-usage-single.json': 'nem-time-is-end-time',
    'ha-core-synthetic-current-prices-general-controlledLoad-feedIn.json': 'start-time-is-end-minus-duration',
  };
  const files = intervalFiles(['rust-', 'sdk1x-', 'ha-core-synthetic-']);

  test('every interval file is listed here', () => {
    expect(files.map((f) => f.file).sort()).toEqual(Object.keys(expected).sort());
  });

  test.each(files)('$file parses as types, and the rules reject exactly its inconsistent intervals, naming the rule', ({ file, body }) => {
    const typed = parse(body, null);
    expect(typed.rejected).toEqual([]);
    expect(typed.items).toHaveLength(body.length);
    const checked = parse(body, EVERY_DAY);
    expect(checked.items).toEqual([]);
    expect(checked.rejected.map((r) => r.rule)).toEqual(body.map(() => expected[file]));
    expect(checked.rejected.map((r) => r.index)).toEqual(body.map((_, index) => index));
    expect(checked.rejected[0]?.element).toBe(body[0]);
  });
});

describe('each rule', () => {
  const base = parsePriceIntervals([PRICE], silentLogger(), null).items[0]!;
  const range: RequestedRange = { from: '2025-11-20', to: '2025-11-20' };
  const cases: Array<[rule: string, change: Partial<BaseInterval>]> = [
    ['duration-is-5-15-or-30', { duration: 10, startTime: '2025-11-20T03:20:01Z' }],
    ['nem-time-is-end-time', { nemTime: '2025-11-20T03:30:00+10:00' }],
    ['start-time-is-end-minus-duration', { startTime: '2025-11-20T03:00:00Z' }],
    ['date-is-nem-day-of-interval', { date: '2025-11-19' }],
    ['renewables-is-a-percentage', { renewables: -69_331_791 }],
    ['renewables-is-a-percentage', { renewables: 100.01 }],
    ['date-in-requested-range', { date: '1894-03-02', endTime: '1894-03-02T03:30:00Z', startTime: '1894-03-02T03:00:01Z', nemTime: '1894-03-02T13:30:00+10:00' }],
  ];

  test('a consistent interval keeps all of them, at the edges too', () => {
    expect(ruleViolation(base, range)).toBeNull();
    expect(ruleViolation({ ...base, renewables: 0 }, range)).toBeNull();
    expect(ruleViolation({ ...base, renewables: 100 }, range)).toBeNull();
    // The interval ending at midnight belongs to the day before.
    const midnight = { ...base, date: '2025-11-20', startTime: '2025-11-20T13:30:01Z', endTime: '2025-11-20T14:00:00Z', nemTime: '2025-11-21T00:00:00+10:00' };
    expect(ruleViolation(midnight, range)).toBeNull();
    expect(ruleViolation({ ...midnight, date: '2025-11-21' }, { from: '2025-11-20', to: '2025-11-21' })?.rule).toBe('date-is-nem-day-of-interval');
  });

  test.each(cases)('%s', (rule, change) => {
    const violation = ruleViolation({ ...base, ...change }, range);
    expect(violation?.rule).toBe(rule);
    expect(violation?.problem.length).toBeGreaterThan(10);
  });

  test('every rule has a case above', () => {
    expect(new Set(cases.map(([rule]) => rule))).toEqual(new Set(INTERVAL_RULES.map((r) => r.name)));
  });

  test('usage is checked by the same rules', () => {
    const parsed = parseUsageIntervals([USAGE, { ...USAGE, date: '2025-11-20' }], silentLogger(), { from: '2025-11-19', to: '2025-11-20' });
    expect(parsed.items).toHaveLength(1);
    expect(parsed.rejected).toEqual([expect.objectContaining({ index: 1, rule: 'date-is-nem-day-of-interval' })]);
  });
});
