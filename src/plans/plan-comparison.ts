/**
 * Would another plan be cheaper? The site's own metered usage, month by month (NEM months), priced under
 * each described plan (tariff-rules.ts) beside what Amber billed (amber-billing.ts), and optionally the same
 * with the battery what-if's perfect-foresight battery scheduled for each tariff's own prices. What
 * `amber-collector compare`, `/api/compare` and the dashboard's panel show. Money in cents incl. GST.
 */
import { gridCost, type Series } from '../battery/model.ts';
import { optimalSchedule } from '../battery/optimal.ts';
import type { Queryable } from '../db/pool.ts';
import type { BatteryParams } from '../domain/battery-limits.ts';
import type { NemDate } from '../domain/models.ts';
import type { FixedCharges } from '../domain/fixed-charges.ts';
import { addDays, compareNemDates, daysBetween, maxDate, minDate, monthDays, nemDayStart, nemToday } from '../domain/nem-time.ts';
import { CollectorError } from '../errors.ts';
import { loadBatteryHistory } from '../query/battery-data.ts';
import { meteredIntervals } from '../query/plan-usage.ts';
import type { SiteInfo } from '../query/site-selection.ts';
import { amberBilled, type MonthSpan } from './amber-billing.ts';
import { timeZoneOfNmi } from './local-time.ts';
import { PlanPricer, type PlanChannel, type PlanSpec } from './tariff-rules.ts';

/** Like the battery what-if: a year (a leap one too) at a time. */
const MAX_COMPARE_DAYS = 366;

export interface Costs {
  energyCents: { general: number; controlledLoad: number; feedIn: number };
  /** Daily supply and monthly fees; null for Amber while no fixed charges are configured. */
  fixedCents: number | null;
  totalCents: number;
  /** The total with the battery scheduled for these prices; null without `--battery`. */
  withBatteryCents: number | null;
}

export interface PlanCosts extends Costs {
  name: string;
  /** This plan minus Amber, on totals, or on energy alone when Amber's fixed charges are unknown: negative is cheaper. */
  differenceCents: number;
  withBatteryDifferenceCents: number | null;
}

export interface MonthComparison {
  /** YYYY-MM (NEM month), or `total`. */
  month: string;
  /** The month's NEM days in the range (from the first to the last day with usage): the days supply is charged for. */
  from: NemDate;
  to: NemDate;
  days: number;
  usageKwh: { general: number; controlledLoad: number; feedIn: number };
  amber: Costs;
  plans: PlanCosts[];
}

export interface CompareReport {
  siteId: string;
  from: NemDate;
  to: NemDate;
  intervalMinutes: number;
  /** `energy only` while Amber's fixed charges are unknown: then every difference is on energy alone. */
  basis: 'energy only' | 'energy and fixed charges';
  battery: (BatteryParams & { intervals: number; skippedIntervals: number }) | null;
  plans: Array<{ name: string; timeZone: string }>;
  months: MonthComparison[];
  total: MonthComparison;
}

/** Refuses a range the comparison does not take; `names` are how the caller calls the bounds. */
export function checkCompareRange(from: NemDate, to: NemDate, names: { from: string; to: string }): string[] {
  if (daysBetween(from, to) < 0) return [`${names.from}: ${from} is after ${names.to} ${to}`];
  if (daysBetween(from, to) >= MAX_COMPARE_DAYS) return [`${names.from}/${names.to}: at most ${MAX_COMPARE_DAYS} days at a time`];
  return [];
}

/** The last `months` NEM months through `to` (the first of them from its first day). */
export function lastMonths(to: NemDate, months: number): { from: NemDate; to: NemDate } {
  const [year, month] = to.split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - (months - 1);
  return { from: `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}-01`, to };
}

const CHANNELS: readonly PlanChannel[] = ['general', 'controlledLoad', 'feedIn'];
const channelOf = (type: string): PlanChannel => (type === 'feedIn' || type === 'controlledLoad' ? type : 'general');
const zero = () => ({ general: 0, controlledLoad: 0, feedIn: 0 });
const sumOf = (energy: Costs['energyCents']) => energy.general + energy.controlledLoad + energy.feedIn;
const round = (cents: number) => Math.round(cents * 100) / 100;

/** Each plan's time zone: its own, else the site's state's; a site whose NMI names no state needs one written. */
function pricers(site: SiteInfo, plans: readonly PlanSpec[]): PlanPricer[] {
  const siteZone = timeZoneOfNmi(site.nmi);
  const missing = plans.filter((p) => p.timeZone === null && siteZone === null);
  if (missing.length > 0) {
    const problems = missing.map((p) => `plan "${p.name}": site ${site.id}'s NMI ${site.nmi} does not say which state it is in: give the plan a timeZone (e.g. Australia/Sydney)`);
    throw new CollectorError('USAGE', problems.join('; '), { details: { problems } });
  }
  return plans.map((p) => new PlanPricer(p, p.timeZone ?? siteZone!));
}

/** Per NEM month, what the battery saves under each tariff (index 0 Amber's, then each plan's). */
async function batterySavings(db: Queryable, site: SiteInfo, from: NemDate, to: NemDate, params: BatteryParams, plans: readonly PlanPricer[]) {
  const hasFeedIn = site.channels.some((c) => c.type === 'feedIn');
  const history = await loadBatteryHistory(db, {
    siteId: site.id,
    intervalMinutes: site.intervalLength,
    hasFeedIn,
    from: nemDayStart(from),
    to: nemDayStart(addDays(to, 1)),
    historyFrom: nemDayStart(from),
  });
  const amber = history.series;
  const tariffs: Series[] = [
    amber,
    ...plans.map((plan) => ({
      ...amber,
      importPrice: amber.startMs.map((start) => plan.rate('general', start)),
      // The model's feed-in price is what exporting costs: a tariff that earns is negative there.
      feedInPrice: amber.startMs.map((start) => (hasFeedIn ? -plan.rate('feedIn', start) : 0)),
    })),
  ];
  const savings = tariffs.map((series) => {
    const schedule = optimalSchedule(series, params);
    const byMonth = new Map<string, number>();
    for (let t = 0; t < series.length; t++) {
      const d = series.demandKwh[t]!;
      const p = series.importPrice[t]!;
      const f = series.feedInPrice[t]!;
      const saved = gridCost(d, p, f) - gridCost(d + schedule.chargeKwh[t]! - schedule.dischargeKwh[t]!, p, f);
      const month = nemToday(new Date(series.startMs[t]!)).slice(0, 7);
      byMonth.set(month, (byMonth.get(month) ?? 0) + saved);
    }
    return byMonth;
  });
  return { savings, intervals: amber.length, skipped: history.missingUsage + history.missingPrices };
}

/** The months of [from, to], each cut to the range. */
function monthSpans(from: NemDate, to: NemDate): MonthSpan[] {
  const spans: MonthSpan[] = [];
  for (let first = `${from.slice(0, 7)}-01`; compareNemDates(first, to) <= 0; first = addDays(monthDays(first.slice(0, 7)).last, 1)) {
    const { last } = monthDays(first.slice(0, 7));
    spans.push({ month: first.slice(0, 7), from: maxDate(first, from), to: minDate(last, to) });
  }
  return spans;
}

export async function comparePlans(
  db: Queryable,
  args: { site: SiteInfo; from: NemDate; to: NemDate; plans: readonly PlanSpec[]; battery: BatteryParams | null; fixedCharges: FixedCharges | null },
): Promise<CompareReport> {
  const { site, plans } = args;
  const priced = pricers(site, plans);
  const active = { from: site.activeFrom === null ? args.from : maxDate(args.from, site.activeFrom), to: site.closedOn === null ? args.to : minDate(args.to, site.closedOn) };
  const usage = await meteredIntervals(db, { siteId: site.id, from: active.from, to: active.to });
  // Supply is charged from the first to the last day with usage: not for days before collection began or not yet metered.
  const from = usage.length === 0 ? active.from : usage.nemDate[0]!;
  const to = usage.length === 0 ? active.to : usage.nemDate[usage.length - 1]!;
  const hasControlledLoad = site.channels.some((c) => c.type === 'controlledLoad');

  const months = new Map(monthSpans(from, to).map((span) => [span.month, { span, usageKwh: zero(), plans: priced.map(zero) }]));
  if (usage.length === 0) months.clear();
  for (let i = 0; i < usage.length; i++) {
    const entry = months.get(usage.nemDate[i]!.slice(0, 7))!;
    const channel = channelOf(usage.channelType[i]!);
    const kwh = usage.kwh[i]!;
    entry.usageKwh[channel] += kwh;
    priced.forEach((pricer, p) => (entry.plans[p]![channel] += pricer.cents(channel, usage.startMs[i]!, kwh)));
  }
  const battery = args.battery === null || months.size === 0 ? null : await batterySavings(db, site, from, to, args.battery, priced);

  const rows: MonthComparison[] = [];
  for (const [month, entry] of months) {
    const days = daysBetween(entry.span.from, entry.span.to) + 1;
    const bill = await amberBilled(db, { site, month: entry.span, fixedCharges: args.fixedCharges });
    const withBattery = (total: number, tariff: number) => (battery === null ? null : total - (battery.savings[tariff]!.get(month) ?? 0));
    const amberTotal = sumOf(bill.energyCents) + (bill.fixedCents ?? 0);
    const amber: Costs = { energyCents: bill.energyCents, fixedCents: bill.fixedCents, totalCents: amberTotal, withBatteryCents: withBattery(amberTotal, 0) };
    rows.push({
      month,
      from: entry.span.from,
      to: entry.span.to,
      days,
      usageKwh: entry.usageKwh,
      amber,
      plans: entry.plans.map((energy, p) => {
        const plan = plans[p]!;
        const supply = days * (plan.dailySupplyCents + (hasControlledLoad ? plan.controlledLoadDailySupplyCents : 0));
        const fixedCents = supply + (plan.monthlyFeeDollars * 100 * days) / monthDays(month).days;
        const totalCents = sumOf(energy) + fixedCents;
        const withBatteryCents = withBattery(totalCents, p + 1);
        return { name: plan.name, energyCents: energy, fixedCents, totalCents, withBatteryCents, differenceCents: 0, withBatteryDifferenceCents: null };
      }),
    });
  }
  const energyOnly = rows.some((row) => row.amber.fixedCents === null);
  const total = totalOf(rows, plans, battery !== null, { from, to });
  for (const row of [...rows, total]) finish(row, energyOnly);
  return {
    siteId: site.id,
    from,
    to,
    intervalMinutes: site.intervalLength,
    basis: energyOnly ? 'energy only' : 'energy and fixed charges',
    battery: battery === null ? null : { ...args.battery!, intervals: battery.intervals, skippedIntervals: battery.skipped },
    plans: priced.map((pricer, p) => ({ name: plans[p]!.name, timeZone: pricer.timeZone })),
    months: rows,
    total,
  };
}

function totalOf(rows: readonly MonthComparison[], plans: readonly PlanSpec[], withBattery: boolean, range: { from: NemDate; to: NemDate }): MonthComparison {
  const add = (costs: readonly Costs[]): Costs => ({
    energyCents: Object.fromEntries(CHANNELS.map((c) => [c, costs.reduce((s, x) => s + x.energyCents[c], 0)])) as Costs['energyCents'],
    fixedCents: costs.some((x) => x.fixedCents === null) ? null : costs.reduce((s, x) => s + x.fixedCents!, 0),
    totalCents: costs.reduce((s, x) => s + x.totalCents, 0),
    withBatteryCents: withBattery ? costs.reduce((s, x) => s + x.withBatteryCents!, 0) : null,
  });
  return {
    month: 'total',
    ...range,
    days: rows.reduce((s, r) => s + r.days, 0),
    usageKwh: Object.fromEntries(CHANNELS.map((c) => [c, rows.reduce((s, r) => s + r.usageKwh[c], 0)])) as Costs['energyCents'],
    amber: add(rows.map((r) => r.amber)),
    plans: plans.map((plan, p) => ({ name: plan.name, ...add(rows.map((r) => r.plans[p]!)), differenceCents: 0, withBatteryDifferenceCents: null })),
  };
}

/** The differences against Amber, and every figure rounded to hundredths of a cent (kWh to thousandths). */
function finish(row: MonthComparison, energyOnly: boolean): void {
  const basisOf = (costs: Costs) => (energyOnly ? sumOf(costs.energyCents) : costs.totalCents);
  const roundCosts = (costs: Costs) => {
    for (const c of CHANNELS) costs.energyCents[c] = round(costs.energyCents[c]);
    costs.fixedCents = costs.fixedCents === null ? null : round(costs.fixedCents);
    costs.totalCents = round(costs.totalCents);
    costs.withBatteryCents = costs.withBatteryCents === null ? null : round(costs.withBatteryCents);
  };
  for (const plan of row.plans) {
    plan.differenceCents = round(basisOf(plan) - basisOf(row.amber));
    plan.withBatteryDifferenceCents =
      plan.withBatteryCents === null || row.amber.withBatteryCents === null ? null : round(plan.withBatteryCents - (energyOnly ? plan.fixedCents! : 0) - row.amber.withBatteryCents);
    roundCosts(plan);
  }
  roundCosts(row.amber);
  for (const c of CHANNELS) row.usageKwh[c] = Math.round(row.usageKwh[c] * 1000) / 1000;
}
