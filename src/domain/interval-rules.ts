/**
 * Consistency rules every price and usage interval must satisfy before it is stored (API-NOTES §3). The
 * schemas check types; these check that the fields agree with each other and with the request, so an API
 * regression or a date bug is rejected (and kept in `rejected_intervals`) instead of written as history
 * the coverage ledger would believe. Each rule is written once, here, and its name is the `rule` of the
 * rejection. `test/amber/interval-rules.test.ts` holds the same rules as one SQL check over stored rows.
 */
import type { BaseInterval, NemDate } from './models.ts';
import { nemToday } from './nem-time.ts';

/** The NEM days an element may belong to: those asked for, or for `/prices/current` the days it can cover. */
export interface RequestedRange {
  from: NemDate;
  to: NemDate;
}

export interface RuleViolation {
  rule: string;
  problem: string;
}

/** What the rules compare, parsed once per interval (and the range once per response): ms since the epoch, days since it. */
interface Facts {
  endMs: number;
  startMs: number;
  nemMs: number;
  /** `date` as a day number. */
  day: number;
  from: number;
  to: number;
}

interface IntervalRule {
  name: string;
  /** Null when the interval keeps the rule, else what is wrong, naming the values. */
  check(interval: BaseInterval, facts: Facts, range: RequestedRange): string | null;
}

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const DAY_MS = 24 * 60 * MINUTE_MS;
const NEM_OFFSET_MS = 10 * 60 * MINUTE_MS;
const INTERVAL_DURATIONS: readonly number[] = [5, 15, 30];
const RENEWABLES_MIN = 0;
const RENEWABLES_MAX = 100;

/** Days since the epoch of a `YYYY-MM-DD` date (a date-only ISO string parses as UTC midnight). */
const dayNumber = (date: NemDate): number => Date.parse(date) / DAY_MS;

export const INTERVAL_RULES: readonly IntervalRule[] = [
  {
    name: 'duration-is-5-15-or-30',
    check: (i) => (INTERVAL_DURATIONS.includes(i.duration) ? null : `duration ${i.duration} is not 5, 15 or 30 minutes`),
  },
  {
    name: 'nem-time-is-end-time',
    check: (i, f) => (f.nemMs === f.endMs ? null : `nemTime ${i.nemTime} is not the instant endTime ${i.endTime}`),
  },
  {
    name: 'start-time-is-end-minus-duration',
    check: (i, f) =>
      f.startMs === f.endMs - i.duration * MINUTE_MS + SECOND_MS ? null : `startTime ${i.startTime} is not endTime ${i.endTime} − ${i.duration} min + 1 s`,
  },
  {
    name: 'date-is-nem-day-of-interval',
    check: (i, f) =>
      f.day === Math.floor((f.endMs - SECOND_MS + NEM_OFFSET_MS) / DAY_MS)
        ? null
        : `date ${i.date} is not ${nemToday(new Date(f.endMs - SECOND_MS))}, the NEM day of endTime ${i.endTime} − 1 s`,
  },
  {
    name: 'renewables-is-a-percentage',
    check: (i) =>
      i.renewables >= RENEWABLES_MIN && i.renewables <= RENEWABLES_MAX ? null : `renewables ${i.renewables} is not within 0..100`,
  },
  {
    name: 'date-in-requested-range',
    check: (i, f, range) => (f.day >= f.from && f.day <= f.to ? null : `date ${i.date} is outside the requested ${range.from}..${range.to}`),
  },
];

/** The check for the elements of one response to a request for `range`: the first rule an interval breaks, or null. */
export function ruleChecker(range: RequestedRange): (interval: BaseInterval) => RuleViolation | null {
  const from = dayNumber(range.from);
  const to = dayNumber(range.to);
  return (interval) => {
    const facts: Facts = {
      endMs: Date.parse(interval.endTime),
      startMs: Date.parse(interval.startTime),
      nemMs: Date.parse(interval.nemTime),
      day: dayNumber(interval.date),
      from,
      to,
    };
    for (const rule of INTERVAL_RULES) {
      const problem = rule.check(interval, facts, range);
      if (problem !== null) return { rule: rule.name, problem };
    }
    return null;
  };
}

/** The first rule `interval` breaks, or null when it keeps them all. */
export function ruleViolation(interval: BaseInterval, range: RequestedRange): RuleViolation | null {
  return ruleChecker(range)(interval);
}
