/**
 * Coverage rules, pure: which days must be complete by now and how lists of days are shown to people. How
 * many intervals a day should have is SQL's (`expected_intervals_per_day` and `recount_coverage`, migration
 * 000006), since the ledger is counted there; the ledger lives in the `coverage` table (`src/db/coverage-ledger.ts`),
 * recounted in every chunk's transaction.
 */
import type { DataType, NemDate } from './models.ts';
import { addDays, compareNemDates, daysBetween, nemToday } from './nem-time.ts';

/**
 * The newest NEM day whose data must be complete by `now`. Prices: yesterday, since today's actual prices
 * are still arriving. Usage: the day before yesterday, since a day's usage lands 2–13 h after the day ends
 * (API-NOTES §8) and is polled only every USAGE_POLL_MINUTES, so yesterday's may rightly be partial.
 */
export function completeThrough(dataType: DataType, now: Date): NemDate {
  return addDays(nemToday(now), dataType === 'price' ? -1 : -2);
}

/**
 * Days as compact inclusive ranges, oldest first: `['2025-03-02..2025-03-05', '2025-04-11']`. The input
 * may be in any order and repeat days.
 */
export function compactRanges(days: readonly NemDate[]): string[] {
  const sorted = [...new Set(days)].sort(compareNemDates);
  const ranges: string[] = [];
  let start: NemDate | undefined;
  let end: NemDate | undefined;
  const flush = (): void => {
    if (start !== undefined && end !== undefined) ranges.push(start === end ? start : `${start}..${end}`);
  };
  for (const day of sorted) {
    if (end !== undefined && daysBetween(end, day) === 1) {
      end = day;
      continue;
    }
    flush();
    start = day;
    end = day;
  }
  flush();
  return ranges;
}

/** Stored out of expected as a percentage with one decimal, rounded down: 100.0 only when nothing is missing. */
export function percentComplete(stored: number, expected: number): number {
  if (expected <= 0) return 100;
  return Math.floor((Math.min(stored, expected) / expected) * 1000) / 10;
}
