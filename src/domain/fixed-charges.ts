/**
 * Fixed charges on an Amber bill besides energy (daily supply per meter channel, the monthly membership,
 * any other fee) and how a statement period turns them into bill lines. Pure rules, no I/O; the file they
 * come from is read and checked by config/fixed-charges-file.ts.
 */
import { addDays, compareNemDates, daysBetween } from './nem-time.ts';
import type { NemDate } from './models.ts';
import { wholeCents } from './pricing.ts';

/** A fee beside supply and membership: by the day or by the month, incl. GST. */
export type OtherFee = { name: string; centsPerDay: number } | { name: string; dollarsPerMonth: number };

/** The charges in force from `from` (a NEM day) until the next period's `from`. */
export interface FixedChargePeriod {
  from: NemDate;
  /** Daily supply charge per meter channel (E1, E2, …), c/day incl. GST. */
  supplyCentsPerDay: Readonly<Record<string, number>>;
  /** Amber's membership fee, $/month incl. GST; 0 when not charged. */
  membershipDollarsPerMonth: number;
  otherFees: readonly OtherFee[];
}

/** Every site's periods, oldest first. */
export type FixedCharges = ReadonlyMap<string, readonly FixedChargePeriod[]>;

/** One fixed line of a statement. `quantity` is days, or months for a monthly fee (a fraction when pro rata). */
export interface FixedLine {
  kind: 'supply' | 'membership' | 'other';
  description: string;
  /** The meter channel of a supply line, else null. */
  channelId: string | null;
  from: NemDate;
  to: NemDate;
  quantity: number;
  unit: 'days' | 'months';
  /** c/day for daily lines, $/month for monthly ones. */
  rate: number;
  cents: number;
}

/** The period in force on `day`, or null before the first one. */
function periodOn(periods: readonly FixedChargePeriod[], day: NemDate): FixedChargePeriod | null {
  let found: FixedChargePeriod | null = null;
  for (const period of periods) if (compareNemDates(period.from, day) <= 0) found = period;
  return found;
}

/**
 * The fixed lines of the billed days [first, last] of one calendar month of `daysInMonth` days. A daily
 * charge is days × rate. A monthly fee is charged pro rata: fee × billed days ÷ days in the month, so a
 * whole month is the fee itself and a site that joined mid-month pays its share. A rate change mid-month
 * gives one line per period, as a bill shows it. Days before the first period carry no fixed charges.
 */
export function fixedChargeLines(periods: readonly FixedChargePeriod[], first: NemDate, last: NemDate, daysInMonth: number): FixedLine[] {
  const lines: FixedLine[] = [];
  for (const span of spansByPeriod(periods, first, last)) {
    const days = daysBetween(span.from, span.to) + 1;
    const { period } = span;
    for (const [channelId, rate] of Object.entries(period.supplyCentsPerDay)) {
      lines.push({ kind: 'supply', description: `Daily supply charge ${channelId}`, channelId, ...daily(span, days, rate) });
    }
    if (period.membershipDollarsPerMonth > 0) {
      lines.push({ kind: 'membership', description: 'Amber membership', channelId: null, ...monthly(span, days, daysInMonth, period.membershipDollarsPerMonth) });
    }
    for (const fee of period.otherFees) {
      const amounts = 'centsPerDay' in fee ? daily(span, days, fee.centsPerDay) : monthly(span, days, daysInMonth, fee.dollarsPerMonth);
      lines.push({ kind: 'other', description: fee.name, channelId: null, ...amounts });
    }
  }
  return lines;
}

type Span = { from: NemDate; to: NemDate; period: FixedChargePeriod };

function daily(span: Span, days: number, centsPerDay: number) {
  return { from: span.from, to: span.to, quantity: days, unit: 'days' as const, rate: centsPerDay, cents: wholeCents(days * centsPerDay) };
}

function monthly(span: Span, days: number, daysInMonth: number, dollarsPerMonth: number) {
  const months = days / daysInMonth;
  return { from: span.from, to: span.to, quantity: Math.round(months * 10_000) / 10_000, unit: 'months' as const, rate: dollarsPerMonth, cents: wholeCents(dollarsPerMonth * 100 * months) };
}

/** The days [first, last] cut where the period in force changes; days before any period are left out. */
function spansByPeriod(periods: readonly FixedChargePeriod[], first: NemDate, last: NemDate): Span[] {
  const spans: Span[] = [];
  for (let day = first; compareNemDates(day, last) <= 0; day = addDays(day, 1)) {
    const period = periodOn(periods, day);
    if (period === null) continue;
    const open = spans.at(-1);
    if (open !== undefined && open.period === period) open.to = day;
    else spans.push({ from: day, to: day, period });
  }
  return spans;
}
