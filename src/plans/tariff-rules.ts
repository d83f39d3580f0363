/**
 * How a described retail plan prices one interval: flat rates, or time-of-use periods by day kind (weekdays,
 * weekends and the plan's public holidays) and month (the season), in the site's local wall-clock time
 * (local-time.ts). Pure rules over a validated plan (plan-file.ts checks the file); no I/O.
 *
 * An interval takes the rate of the period its START falls in. Periods are tried in the order written and
 * the first that matches wins, so a plan lists its narrow periods (peak) before its wide ones (off-peak).
 * Money is "what it cost you" in cents incl. GST, as the cost model's: a feed-in tariff earns, so exported
 * energy costs −tariff × kWh.
 */
import { WallClock } from './local-time.ts';

export type DayKind = 'all' | 'weekdays' | 'weekends';

/** One time-of-use period: its rate, on which days, in which months (1–12; null: all), between which minutes of the day. */
export interface PeriodSpec {
  name: string | null;
  centsPerKwh: number;
  days: DayKind;
  months: readonly number[] | null;
  /** Minutes after local midnight, [from, to); to before from wraps past midnight; null both: all day. */
  from: number | null;
  to: number | null;
}

/** A flat rate in c/kWh, or time-of-use periods. */
export type TariffSpec = number | readonly PeriodSpec[];

export type PlanChannel = 'general' | 'controlledLoad' | 'feedIn';

export interface PlanSpec {
  name: string;
  /** IANA time zone of the periods; null: the site's own (from its NMI). */
  timeZone: string | null;
  general: TariffSpec;
  /** Null: controlled load is priced at the general rates. */
  controlledLoad: TariffSpec | null;
  /** c/kWh earned per exported kWh; null: exports earn nothing. */
  feedIn: TariffSpec | null;
  dailySupplyCents: number;
  controlledLoadDailySupplyCents: number;
  /** Charged pro rata: fee × days priced ÷ days in the month. */
  monthlyFeeDollars: number;
  /** Local dates (YYYY-MM-DD) priced as weekend days. */
  holidays: readonly string[];
}

const MINUTES = 1440;
const DAY_MS = 86_400_000;
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A tariff's rate for a month (0–11), a day kind and a minute of the local day. */
interface RateTable {
  rate(month: number, weekend: boolean, minute: number): number;
}

/** Time-of-use periods as a table of month × day kind × minute; NaN where no period applies. */
function periodTable(periods: readonly PeriodSpec[]): Float64Array {
  const table = new Float64Array(12 * 2 * MINUTES).fill(Number.NaN);
  for (const period of periods) {
    for (let month = 0; month < 12; month++) {
      if (period.months !== null && !period.months.includes(month + 1)) continue;
      for (const weekend of [0, 1]) {
        if ((period.days === 'weekdays' && weekend === 1) || (period.days === 'weekends' && weekend === 0)) continue;
        const base = (month * 2 + weekend) * MINUTES;
        const from = period.from ?? 0;
        const to = period.to ?? MINUTES;
        const length = (((to - from) % MINUTES) + MINUTES) % MINUTES || MINUTES;
        for (let step = 0; step < length; step++) {
          const index = base + ((from + step) % MINUTES);
          if (Number.isNaN(table[index])) table[index] = period.centsPerKwh;
        }
      }
    }
  }
  return table;
}

const clock = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/**
 * Where time-of-use periods leave a gap: the first stretch of a day no period covers, in words ("weekdays in
 * Jul from 03:00 to 07:00"), or null when every minute of every day of the year has a rate.
 */
export function periodGap(periods: readonly PeriodSpec[]): string | null {
  const table = periodTable(periods);
  for (let month = 0; month < 12; month++) {
    for (const weekend of [0, 1]) {
      const base = (month * 2 + weekend) * MINUTES;
      const first = table.subarray(base, base + MINUTES).findIndex(Number.isNaN);
      if (first < 0) continue;
      let end = first;
      while (end < MINUTES && Number.isNaN(table[base + end])) end++;
      return `${weekend === 1 ? 'weekends' : 'weekdays'} in ${MONTH_NAMES[month]} from ${clock(first)} to ${clock(end)}`;
    }
  }
  return null;
}

function rateTable(spec: TariffSpec): RateTable {
  if (typeof spec === 'number') return { rate: () => spec };
  const table = periodTable(spec);
  return { rate: (month, weekend, minute) => table[(month * 2 + (weekend ? 1 : 0)) * MINUTES + minute]! };
}

/** A plan made ready to price intervals in one time zone. */
export class PlanPricer {
  private readonly clock: WallClock;
  private readonly tables: Record<PlanChannel, RateTable | null>;
  private readonly holidays: ReadonlySet<string>;
  /** The IANA time zone the periods are read in. */
  readonly timeZone: string;
  private day = { number: Number.NaN, month: 0, weekend: false };

  constructor(plan: PlanSpec, timeZone: string) {
    this.timeZone = timeZone;
    this.clock = new WallClock(timeZone);
    const general = rateTable(plan.general);
    this.tables = {
      general,
      controlledLoad: plan.controlledLoad === null ? general : rateTable(plan.controlledLoad),
      feedIn: plan.feedIn === null ? null : rateTable(plan.feedIn),
    };
    this.holidays = new Set(plan.holidays);
  }

  /**
   * The plan's rate for an interval starting at `startMs` on `channel`, c/kWh: what an imported kWh costs,
   * or for feed-in what an exported kWh earns.
   */
  rate(channel: PlanChannel, startMs: number): number {
    const table = this.tables[channel];
    if (table === null) return 0;
    const local = this.clock.local(startMs);
    const day = Math.floor(local / DAY_MS);
    // Intervals come in time order: the calendar of a local day is worked out once, not once per interval.
    if (day !== this.day.number) {
      const date = new Date(day * DAY_MS);
      const weekday = date.getUTCDay();
      this.day = { number: day, month: date.getUTCMonth(), weekend: weekday === 0 || weekday === 6 || this.holidays.has(date.toISOString().slice(0, 10)) };
    }
    return table.rate(this.day.month, this.day.weekend, Math.floor((local - day * DAY_MS) / 60_000));
  }

  /** What `kwh` on `channel` in the interval starting at `startMs` cost, in cents (negative: earned). */
  cents(channel: PlanChannel, startMs: number, kwh: number): number {
    const rate = this.rate(channel, startMs);
    return channel === 'feedIn' ? -rate * kwh : rate * kwh;
  }
}
