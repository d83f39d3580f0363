/**
 * NEM-day arithmetic. The National Electricity Market runs on fixed UTC+10 all year (no daylight saving),
 * and Amber's `date`, `startDate` and `endDate` are NEM calendar days. Everything here uses UTC methods on
 * instants shifted by +10 h, so the machine's time zone (`TZ`) never matters.
 */
import type { NemDate } from './models.ts';

const NEM_OFFSET_MS = 10 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const NEM_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Amber rejects ranges longer than 7 days; 7 calendar days inclusive is the safe reading (API-NOTES §12). */
export const MAX_RANGE_DAYS = 7;

/** True for a real calendar date written `YYYY-MM-DD` (so `2025-02-29` is false). */
export function isNemDate(value: string): boolean {
  const match = NEM_DATE_PATTERN.exec(value);
  if (!match) return false;
  const [, year, month, day] = match;
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  const utc = new Date(0);
  utc.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  return formatUtcDate(utc) === value;
}

/** The NEM day that contains `now`. */
export function nemToday(now: Date): NemDate {
  return formatUtcDate(new Date(now.getTime() + NEM_OFFSET_MS));
}

/**
 * The NEM day of an interval that *ends* at `instant`. The interval ending at midnight belongs to the day
 * before, so this is the NEM date of (end − 1 ms), the same rule Amber uses for `date`.
 */
export function nemDateOf(instant: Date): NemDate {
  return formatUtcDate(new Date(instant.getTime() - 1 + NEM_OFFSET_MS));
}

/** The last day usage may be requested for: yesterday (NEM). Today's usage is never complete. */
export function lastUsageDay(now: Date): NemDate {
  return addDays(nemToday(now), -1);
}

export function addDays(date: NemDate, days: number): NemDate {
  return formatUtcDate(new Date(utcMidnightOf(date) + days * DAY_MS));
}

/** `b − a` in whole days. */
export function daysBetween(a: NemDate, b: NemDate): number {
  return Math.round((utcMidnightOf(b) - utcMidnightOf(a)) / DAY_MS);
}

/** The instant NEM day `date` begins: `date`T00:00:00+10:00. */
export function nemDayStart(date: NemDate): Date {
  return new Date(utcMidnightOf(date) - NEM_OFFSET_MS);
}

/** An instant as ISO 8601 at +10:00, the way the API writes `nemTime`. */
export function nemIsoInstant(instant: Date | number): string {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  return `${new Date(ms + NEM_OFFSET_MS).toISOString().slice(0, 19)}+10:00`;
}

/** Negative when `a` is before `b`, zero when equal, positive when after. */
export function compareNemDates(a: NemDate, b: NemDate): number {
  return Math.sign(daysBetween(b, a));
}

/** An inclusive range of NEM days: a request's `startDate`..`endDate`, a window, a gap. */
export interface DayRange {
  startDate: NemDate;
  endDate: NemDate;
}

export function maxDate(a: NemDate, b: NemDate): NemDate {
  return compareNemDates(a, b) >= 0 ? a : b;
}

export function minDate(a: NemDate, b: NemDate): NemDate {
  return compareNemDates(a, b) <= 0 ? a : b;
}

/**
 * Inclusive ranges of at most `maxDays` calendar days covering `from`..`to` (inclusive), oldest first.
 * Empty when `from` is after `to`.
 */
export function splitIntoChunks(from: NemDate, to: NemDate, maxDays: number = MAX_RANGE_DAYS): DayRange[] {
  if (!Number.isInteger(maxDays) || maxDays < 1) throw new RangeError(`maxDays must be a positive integer, got ${maxDays}`);
  const chunks: DayRange[] = [];
  for (let start = from; compareNemDates(start, to) <= 0; start = addDays(start, maxDays)) {
    const fullEnd = addDays(start, maxDays - 1);
    chunks.push({ startDate: start, endDate: compareNemDates(fullEnd, to) < 0 ? fullEnd : to });
  }
  return chunks;
}

function utcMidnightOf(date: NemDate): number {
  if (!isNemDate(date)) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  // A date-only ISO string is parsed as UTC midnight (ECMA-262 Date Time String Format).
  return Date.parse(date);
}

function formatUtcDate(date: Date): NemDate {
  return date.toISOString().slice(0, 10);
}

/** A billing month, `YYYY-MM`. */
export type NemMonth = string;

/** True for a month written `YYYY-MM` (01 to 12). */
export function isNemMonth(value: string): boolean {
  return /^\d{4}-\d{2}$/.test(value) && isNemDate(`${value}-01`);
}

/** A month's first and last NEM day and its length in days. */
export function monthDays(month: NemMonth): { first: NemDate; last: NemDate; days: number } {
  const first = `${month}-01`;
  const [year, number] = month.split('-').map(Number) as [number, number];
  const next = number === 12 ? `${String(year + 1).padStart(4, '0')}-01-01` : `${month.slice(0, 5)}${String(number + 1).padStart(2, '0')}-01`;
  const last = addDays(next, -1);
  return { first, last, days: daysBetween(first, last) + 1 };
}

/** The month of a NEM day. */
export function monthOf(date: NemDate): NemMonth {
  return date.slice(0, 7);
}
