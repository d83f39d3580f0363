/**
 * The monthly statement (`amber-collector bill`, `/api/bill`, the dashboard's Bill panel), laid out as an
 * Amber bill: energy and money per meter channel from the cost model, the fixed charges of the month
 * (domain/fixed-charges.ts), and the total. A month is NEM days (UTC+10), the 1st to its last day, cut to
 * the days the site was active and, for the month in progress, to the last day usage can exist.
 */
import type { Queryable } from '../db/pool.ts';
import { fixedChargeLines, type FixedCharges, type FixedLine } from '../domain/fixed-charges.ts';
import type { NemDate } from '../domain/models.ts';
import { compareNemDates, daysBetween, lastUsageDay, maxDate, minDate, monthDays, type NemMonth } from '../domain/nem-time.ts';
import { flowOf, wholeCents, type Flow } from '../domain/pricing.ts';
import { CollectorError } from '../errors.ts';
import { channelTotals } from './cost-model.ts';
import type { SiteInfo } from './site-selection.ts';

/** What a statement's money covers: say "energy only" wherever fixed charges are not known. */
export const ENERGY_ONLY = 'energy only';
export const WITH_FIXED_CHARGES = 'energy and fixed charges';

export interface EnergyLine {
  channelId: string;
  channelType: string;
  flow: Flow;
  kwh: number;
  /** What the channel cost you: negative for feed-in that earned. */
  dollars: number;
  /** dollars ÷ kWh in c/kWh, null without energy. */
  averageCentsPerKwh: number | null;
  intervals: number;
  estimatedIntervals: number;
}

export type FixedChargeLine = Omit<FixedLine, 'cents'> & { dollars: number };

export interface Statement {
  siteId: string;
  month: NemMonth;
  /** The billed days: the month, cut to the site's active span and to the last day usage can exist. */
  from: NemDate;
  to: NemDate;
  days: number;
  basis: typeof ENERGY_ONLY | typeof WITH_FIXED_CHARGES;
  /** Why fixed charges are missing, or null when they are in. */
  energyOnlyReason: string | null;
  energy: EnergyLine[];
  fixed: FixedChargeLine[];
  energyDollars: number;
  fixedDollars: number;
  totalDollars: number;
  notes: string[];
}

export async function monthlyStatement(
  db: Queryable,
  args: { site: SiteInfo; month: NemMonth; fixedCharges: FixedCharges | null; now: Date },
): Promise<Statement> {
  const { site, month } = args;
  const span = billedDays(site, month, args.now);
  const totals = await channelTotals(db, { siteId: site.id, from: span.from, to: span.to });
  const energy = totals.map((t) => {
    const cents = wholeCents(Number(t.cents));
    const kwh = Math.round(Number(t.kwh) * 1000) / 1000;
    return {
      channelId: t.channelId,
      channelType: t.channelType,
      flow: flowOf(t.channelType),
      kwh,
      cents,
      averageCentsPerKwh: kwh === 0 ? null : Math.round((Number(t.cents) / Number(t.kwh)) * 1000) / 1000,
      intervals: t.intervals,
      estimatedIntervals: t.estimated,
    };
  });
  const periods = args.fixedCharges?.get(site.id) ?? [];
  const fixed = fixedChargeLines(periods, span.from, span.to, monthDays(month).days);
  const energyOnlyReason =
    args.fixedCharges === null
      ? 'FIXED_CHARGES_FILE is not set'
      : periods.length === 0
        ? `FIXED_CHARGES_FILE has no charges for site ${site.id}`
        : fixed.length === 0
          ? `the fixed charges in FIXED_CHARGES_FILE start after ${span.to}`
          : null;
  const energyCents = energy.reduce((sum, line) => sum + line.cents, 0);
  const fixedCents = fixed.reduce((sum, line) => sum + line.cents, 0);
  return {
    siteId: site.id,
    month,
    from: span.from,
    to: span.to,
    days: span.days,
    basis: energyOnlyReason === null ? WITH_FIXED_CHARGES : ENERGY_ONLY,
    energyOnlyReason,
    energy: energy.map(({ cents, ...line }) => ({ ...line, dollars: cents / 100 })),
    fixed: fixed.map(({ cents, ...line }) => ({ ...line, dollars: cents / 100 })),
    energyDollars: energyCents / 100,
    fixedDollars: fixedCents / 100,
    totalDollars: (energyCents + fixedCents) / 100,
    notes: notesOf(span, energy, fixed.length > 0 && compareNemDates(fixed[0]!.from, span.from) > 0 ? fixed[0]!.from : null),
  };
}

interface BilledSpan {
  from: NemDate;
  to: NemDate;
  days: number;
  inProgress: boolean;
}

/** The month's days the site was active, through the last day usage can exist; a usage error when none. */
function billedDays(site: SiteInfo, month: NemMonth, now: Date): BilledSpan {
  const { first, last } = monthDays(month);
  const newest = lastUsageDay(now);
  const from = site.activeFrom === null ? first : maxDate(first, site.activeFrom);
  const to = minDate(minDate(last, site.closedOn ?? last), newest);
  if (compareNemDates(first, newest) > 0) throw refused(`month: ${month} has no usage yet (the newest day usage can exist is ${newest})`);
  if (compareNemDates(from, to) > 0) throw refused(`month: site ${site.id} was not active in ${month}`);
  return { from, to, days: daysBetween(from, to) + 1, inProgress: compareNemDates(to, last) < 0 && to === newest };
}

function notesOf(span: BilledSpan, energy: ReadonlyArray<{ estimatedIntervals: number; intervals: number }>, fixedFrom: NemDate | null): string[] {
  const notes: string[] = [];
  if (span.inProgress) notes.push(`month in progress: through ${span.to}, the newest day with usage`);
  const estimated = energy.reduce((sum, line) => sum + line.estimatedIntervals, 0);
  if (estimated > 0) notes.push(`${estimated} intervals are still estimated: Amber may revise them`);
  if (energy.length === 0) notes.push('no usage stored for these days');
  if (fixedFrom !== null) notes.push(`fixed charges from ${fixedFrom}: FIXED_CHARGES_FILE has none for the days before`);
  return notes;
}

function refused(problem: string): CollectorError {
  return new CollectorError('USAGE', problem, { details: { problems: [problem] } });
}
