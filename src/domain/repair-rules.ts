/**
 * The pure rules of gap repair, shared by the collector (collector/repair.ts, which fetches) and the status
 * read model (query/collection-status.ts, which only counts): which days repair may touch, how a list of
 * days becomes requests, and how often a fruitless day is looked at again.
 */
import { completeThrough } from './coverage-rules.ts';
import { trailingWindow, type StreamRange } from './fetch-plan.ts';
import type { DataType, NemDate } from './models.ts';
import { addDays, compareNemDates, daysBetween, MAX_RANGE_DAYS, minDate, type DayRange } from './nem-time.ts';

const HOUR_MS = 60 * 60 * 1000;

export interface RepairPolicy {
  /** Repair calls at most per cycle, over all streams. */
  callsPerCycle: number;
  /** Wait before re-checking a day after its n-th fruitless re-fetch in a row (index n − 1; the last repeats). */
  recheckAfterMs: readonly number[];
}

export const DEFAULT_REPAIR_POLICY: RepairPolicy = {
  callsPerCycle: 2,
  recheckAfterMs: [HOUR_MS, 6 * HOUR_MS, 24 * HOUR_MS, 7 * 24 * HOUR_MS],
};

/**
 * The days repair may touch: collected by the backfill (up to the watermark), due to be complete by now,
 * and older than the trailing window, which every cycle re-fetches anyway. Null when there are none.
 */
export function repairWindow(
  range: StreamRange,
  dataType: DataType,
  collected: { from: NemDate; through: NemDate | null },
  revisionDays: number,
  now: Date,
): DayRange | null {
  if (collected.through === null) return null;
  const trailingStart = trailingWindow(range, dataType, revisionDays)[0]?.startDate ?? addDays(range.to, 1);
  const through = minDate(minDate(collected.through, completeThrough(dataType, now)), addDays(trailingStart, -1));
  const from = compareNemDates(collected.from, range.from) > 0 ? collected.from : range.from;
  return compareNemDates(from, through) <= 0 ? { startDate: from, endDate: through } : null;
}

/**
 * Requests covering `days`, newest first, each at most the API's 7 days and each starting and ending on
 * a listed day (so no call asks for more than it must).
 */
export function repairChunks(days: readonly NemDate[]): DayRange[] {
  const newestFirst = [...new Set(days)].sort((a, b) => compareNemDates(b, a));
  const chunks: DayRange[] = [];
  for (const day of newestFirst) {
    const current = chunks.at(-1);
    if (current && daysBetween(day, current.endDate) < MAX_RANGE_DAYS) current.startDate = day;
    else chunks.push({ startDate: day, endDate: day });
  }
  return chunks;
}
