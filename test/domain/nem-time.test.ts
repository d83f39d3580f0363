import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  addDays,
  compareNemDates,
  daysBetween,
  isNemDate,
  lastUsageDay,
  nemDateOf,
  nemDayStart,
  nemToday,
  splitIntoChunks,
} from '../../src/domain/nem-time.ts';

/**
 * The module must not depend on the machine's time zone. Each test runs under several TZ values; V8 reads
 * `process.env.TZ` on change, so a Date method that used local time would give different answers here.
 */
const ZONES = ['UTC', 'Australia/Sydney', 'Australia/Adelaide', 'America/Los_Angeles', 'Pacific/Kiritimati'];
const originalTz = process.env.TZ;

describe.each(ZONES)('NEM time with TZ=%s', (zone) => {
  beforeEach(() => {
    process.env.TZ = zone;
  });
  afterEach(() => {
    process.env.TZ = originalTz;
  });

  test('the machine zone really changed (so this suite means something)', () => {
    const offset = new Date('2025-01-15T00:00:00Z').getTimezoneOffset();
    expect(zone === 'UTC' ? offset === 0 : offset !== 0).toBe(true);
  });

  test('nemToday is the UTC+10 date, switching at 14:00Z', () => {
    expect(nemToday(new Date('2025-11-20T13:59:59.999Z'))).toBe('2025-11-20');
    expect(nemToday(new Date('2025-11-20T14:00:00.000Z'))).toBe('2025-11-21');
  });

  test('nemDateOf gives the day of an interval ending at the instant (midnight belongs to the day before)', () => {
    expect(nemDateOf(new Date('2025-12-04T14:00:00Z'))).toBe('2025-12-04'); // nemTime 2025-12-05T00:00+10:00
    expect(nemDateOf(new Date('2025-12-04T14:00:00.001Z'))).toBe('2025-12-05');
    expect(nemDateOf(new Date('2025-12-04T14:05:00Z'))).toBe('2025-12-05'); // first 5-min interval of the 5th
    expect(nemDateOf(new Date('2025-12-04T14:30:00Z'))).toBe('2025-12-05');
  });

  test('across Australian DST changes NEM time does not move', () => {
    // Sydney DST starts Sunday 2025-10-05 02:00 local (16:00Z on the 4th) and ends Sunday 2025-04-06 03:00 local.
    for (const day of ['2025-10-04', '2025-10-05', '2025-10-06', '2025-04-05', '2025-04-06', '2025-04-07']) {
      expect(nemDayStart(day).toISOString()).toBe(`${addDays(day, -1)}T14:00:00.000Z`);
      expect(nemToday(nemDayStart(day))).toBe(day);
      expect(nemDateOf(nemDayStart(addDays(day, 1)))).toBe(day);
    }
    expect(daysBetween('2025-10-04', '2025-10-06')).toBe(2);
    expect(daysBetween('2025-04-05', '2025-04-07')).toBe(2);
    // A NEM day is always exactly 24 h, even the one containing a local DST change.
    expect(nemDayStart('2025-10-06').getTime() - nemDayStart('2025-10-05').getTime()).toBe(86_400_000);
    expect(nemDayStart('2025-04-07').getTime() - nemDayStart('2025-04-06').getTime()).toBe(86_400_000);
  });

  test('month ends, year ends and leap days', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-02-29', 1)).toBe('2024-03-01');
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(addDays('2025-01-31', 30)).toBe('2025-03-02');
    expect(daysBetween('2024-01-01', '2025-01-01')).toBe(366);
    expect(daysBetween('2025-01-01', '2024-01-01')).toBe(-366);
    expect(nemToday(new Date('2024-12-31T14:00:00Z'))).toBe('2025-01-01');
    expect(nemDateOf(new Date('2024-12-31T14:00:00Z'))).toBe('2024-12-31');
    expect(nemDateOf(new Date('2024-02-29T14:00:00Z'))).toBe('2024-02-29');
  });

  test('lastUsageDay is yesterday in NEM time', () => {
    expect(lastUsageDay(new Date('2025-07-15T13:59:00Z'))).toBe('2025-07-14');
    expect(lastUsageDay(new Date('2025-07-15T14:00:00Z'))).toBe('2025-07-15');
    expect(lastUsageDay(new Date('2025-01-01T00:00:00Z'))).toBe('2024-12-31');
  });
});

describe('date helpers', () => {
  test('isNemDate accepts only real YYYY-MM-DD dates', () => {
    expect(isNemDate('2024-02-29')).toBe(true);
    expect(isNemDate('2025-02-29')).toBe(false);
    expect(isNemDate('2025-13-01')).toBe(false);
    // Years before 100 too (Date.UTC would read 0050 as 1950).
    expect(isNemDate('0050-02-28')).toBe(true);
    expect(isNemDate('0000-02-29')).toBe(true);
    expect(isNemDate('0001-02-29')).toBe(false);
    expect(isNemDate('20251120')).toBe(false);
    expect(isNemDate('2025-1-2')).toBe(false);
    expect(isNemDate('2025-11-20T00:00:00Z')).toBe(false);
    expect(isNemDate('')).toBe(false);
  });

  test('compareNemDates orders dates', () => {
    expect(compareNemDates('2025-01-01', '2025-01-02')).toBeLessThan(0);
    expect(compareNemDates('2025-01-02', '2025-01-01')).toBeGreaterThan(0);
    expect(compareNemDates('2025-01-01', '2025-01-01')).toBe(0);
    expect(['2025-03-01', '2024-12-31', '2025-02-28'].sort(compareNemDates)).toEqual(['2024-12-31', '2025-02-28', '2025-03-01']);
  });

  test('invalid dates are a programming error, not silently wrong', () => {
    expect(() => addDays('2025-02-30', 1)).toThrow(RangeError);
    expect(() => daysBetween('yesterday', '2025-01-01')).toThrow(RangeError);
  });
});

describe('splitIntoChunks', () => {
  test('splits into 7-day inclusive chunks, the last one shorter', () => {
    expect(splitIntoChunks('2025-01-01', '2025-01-17')).toEqual([
      { startDate: '2025-01-01', endDate: '2025-01-07' },
      { startDate: '2025-01-08', endDate: '2025-01-14' },
      { startDate: '2025-01-15', endDate: '2025-01-17' },
    ]);
  });

  test('one day, exactly seven days, and an empty range', () => {
    expect(splitIntoChunks('2025-01-01', '2025-01-01')).toEqual([{ startDate: '2025-01-01', endDate: '2025-01-01' }]);
    expect(splitIntoChunks('2025-01-01', '2025-01-07')).toEqual([{ startDate: '2025-01-01', endDate: '2025-01-07' }]);
    expect(splitIntoChunks('2025-01-02', '2025-01-01')).toEqual([]);
  });

  test('crosses leap days, year ends and DST changes without gaps or overlaps', () => {
    const chunks = splitIntoChunks('2023-12-20', '2025-10-10');
    expect(chunks[0]).toEqual({ startDate: '2023-12-20', endDate: '2023-12-26' });
    expect(chunks.at(-1)?.endDate).toBe('2025-10-10');
    for (const [i, chunk] of chunks.entries()) {
      const length = daysBetween(chunk.startDate, chunk.endDate) + 1;
      expect(length).toBeGreaterThanOrEqual(1);
      expect(length).toBeLessThanOrEqual(7);
      const next = chunks[i + 1];
      if (next) expect(next.startDate).toBe(addDays(chunk.endDate, 1));
    }
    expect(chunks).toContainEqual({ startDate: '2024-02-28', endDate: '2024-03-05' });
    expect(chunks.length).toBe(Math.ceil((daysBetween('2023-12-20', '2025-10-10') + 1) / 7));
  });

  test('honours a smaller maximum', () => {
    expect(splitIntoChunks('2025-01-30', '2025-02-02', 2)).toEqual([
      { startDate: '2025-01-30', endDate: '2025-01-31' },
      { startDate: '2025-02-01', endDate: '2025-02-02' },
    ]);
  });
});
