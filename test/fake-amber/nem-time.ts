/**
 * NEM time for the fake server, kept independent of `src/amber/` so the fake stays a separate oracle.
 *
 * A NEM day is a calendar day in UTC+10 that never observes daylight saving (API-NOTES §3). Days are handled
 * as integers ("day numbers": days since 1970-01-01 in NEM time) and instants as epoch milliseconds.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** NEM time is always UTC+10 (API-NOTES §3). */
const NEM_OFFSET_MS = 10 * HOUR_MS;

const NEM_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses a strict, real calendar date `YYYY-MM-DD` to a day number, or null (e.g. `20221120`, `2025-02-30`). */
export function parseNemDate(text: string): number | null {
  const match = NEM_DATE_PATTERN.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const roundTrip = new Date(ms);
  if (roundTrip.getUTCFullYear() !== year || roundTrip.getUTCMonth() !== month - 1 || roundTrip.getUTCDate() !== day) {
    return null;
  }
  return ms / DAY_MS;
}

export function formatNemDate(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/** The instant a NEM day starts: `D 00:00+10:00`. */
export function nemDayStartMs(dayNumber: number): number {
  return dayNumber * DAY_MS - NEM_OFFSET_MS;
}

/** The NEM day an instant falls in. */
export function nemDayOfInstant(ms: number): number {
  return Math.floor((ms + NEM_OFFSET_MS) / DAY_MS);
}

/**
 * The NEM day an interval belongs to, from its end: the interval ending at `00:00+10:00` belongs to the
 * previous day (API-NOTES §3: `date` = NEM date of `endTime − 1 s`).
 */
export function nemDayOfIntervalEnd(endMs: number): number {
  return nemDayOfInstant(endMs - 1000);
}

/** Hours since NEM midnight of an instant, as a fraction (0 ≤ h < 24). */
export function nemHourOfDay(ms: number): number {
  const sinceMidnight = (((ms + NEM_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
  return sinceMidnight / HOUR_MS;
}

/** `2025-11-20T03:00:00Z`: the API's UTC format, whole seconds, no milliseconds. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** `2025-11-20T13:00:00+10:00`: the API's `nemTime` format. */
export function formatNemTime(ms: number): string {
  return `${new Date(ms + NEM_OFFSET_MS).toISOString().slice(0, 19)}+10:00`;
}

/** The end of the interval of `durationMin` minutes that contains `ms` (an instant on a boundary ends one). */
export function intervalEndContaining(ms: number, durationMin: number): number {
  const step = durationMin * MINUTE_MS;
  return Math.floor(ms / step) * step + step;
}
