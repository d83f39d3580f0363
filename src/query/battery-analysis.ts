/**
 * The battery what-if and the schedule ahead, from the stored data: what `amber-collector battery` prints
 * and `/api/battery/what-if` and `/api/optimize` return. Money in cents, energy in kWh, times ISO 8601 at
 * +10:00 (NEM time).
 */
import type { NemDate } from '../domain/models.ts';
import { addDays, daysBetween, nemDayStart, nemIsoInstant, nemToday } from '../domain/nem-time.ts';
import { batteryEcho, type BatteryParams } from '../domain/battery-limits.ts';
import { LOAD_HISTORY_MS } from '../battery/load-forecast.ts';
import { planAhead, type PlannedInterval } from '../battery/schedule.ts';
import { MIN_FORECAST_COVERAGE, whatIf } from '../battery/what-if.ts';
import type { Queryable } from '../db/pool.ts';
import { CollectorError } from '../errors.ts';
import { hasUsage, loadBatteryHistory } from './battery-data.ts';
import { ArchivedForecasts } from './battery-forecasts.ts';
import { FORECAST_REACH_MS, forecastInForce, priceSteps } from './forecast-archive.ts';
import type { SiteInfo } from './site-selection.ts';

/** A year (a leap one too): perfect foresight over a year of 5-minute data takes a few seconds. */
const MAX_WHAT_IF_DAYS = 366;

export interface WhatIfReport {
  siteId: string;
  from: NemDate;
  to: NemDate;
  intervalMinutes: number;
  hasFeedIn: boolean;
  battery: ReturnType<typeof batteryEcho>;
  /** Every strategy's state of charge at the start of the range. */
  startSocKwh: number;
  intervals: number;
  skippedIntervals: { total: number; missingUsage: number; missingPrices: number };
  baselineCostCents: number;
  selfConsumptionCostCents: number;
  perfectForesightCostCents: number;
  forecastDrivenCostCents: number | null;
  savingsCents: { selfConsumption: number; perfectForesight: number; forecastDriven: number | null };
  /**
   * How much of the range archived forecasts covered; below `minimumShare` the forecast-driven figure and
   * its savings are withheld (null) and `withheld` is true.
   */
  forecastDriven: { coveredIntervals: number; coveredShare: number; minimumShare: number; withheld: boolean };
  /** One day interval by interval: prices, net demand and each strategy's state of charge at the interval's end. */
  day: { date: NemDate; intervals: DayReport[] } | null;
}

interface DayReport {
  start: string;
  importPrice: number;
  feedInPrice: number;
  demandKwh: number;
  socKwh: { selfConsumption: number; perfectForesight: number; forecastDriven: number | null };
}

/** Refuses a range (and a day to show) the what-if does not take: `names` are how the caller calls them. */
export function checkWhatIfRange(from: NemDate, to: NemDate, day: NemDate | null, names: { from: string; to: string; day: string }): string[] {
  if (daysBetween(from, to) < 0) return [`${names.from}: ${from} is after ${names.to} ${to}`];
  if (daysBetween(from, to) >= MAX_WHAT_IF_DAYS) return [`${names.from}/${names.to}: at most ${MAX_WHAT_IF_DAYS} days at a time`];
  if (day !== null && (daysBetween(from, day) < 0 || daysBetween(day, to) < 0)) return [`${names.day}: ${day} is not between ${from} and ${to}`];
  return [];
}

export async function batteryWhatIf(
  db: Queryable,
  args: { site: SiteInfo; from: NemDate; to: NemDate; params: BatteryParams; day: NemDate | null; startSocKwh: number | null },
): Promise<WhatIfReport> {
  const { site, params } = args;
  const startSocKwh = args.startSocKwh ?? params.reserve * params.capacityKwh;
  const hasFeedIn = site.channels.some((c) => c.type === 'feedIn');
  const from = nemDayStart(args.from);
  const to = nemDayStart(addDays(args.to, 1));
  const history = await loadBatteryHistory(db, {
    siteId: site.id,
    intervalMinutes: site.intervalLength,
    hasFeedIn,
    from,
    to,
    historyFrom: new Date(from.getTime() - LOAD_HISTORY_MS),
  });
  if (history.series.length === 0) throw await nothingToScore(db, site, args.from, args.to, history.expectedIntervals);
  const forecasts = new ArchivedForecasts(db, { siteId: site.id, hasFeedIn });
  const lastStart = history.series.startMs[history.series.length - 1]!;
  const day = args.day ?? nemToday(new Date(lastStart));
  const result = await whatIf({
    series: history.series,
    demandByStart: history.demandByStart,
    intervalMinutes: site.intervalLength,
    params,
    startSocKwh,
    forecastAt: (atMs) => forecasts.stepsAt(atMs),
    day: { fromMs: nemDayStart(day).getTime(), toMs: nemDayStart(addDays(day, 1)).getTime() },
  });
  const cents = (value: number) => Math.round(value * 100) / 100;
  const kwh = (value: number) => Math.round(value * 1000) / 1000;
  const savings = (cost: number | null) => (cost === null ? null : cents(result.baselineCostCents - cost));
  return {
    siteId: site.id,
    from: args.from,
    to: args.to,
    intervalMinutes: site.intervalLength,
    hasFeedIn,
    battery: batteryEcho(params),
    startSocKwh,
    intervals: history.series.length,
    skippedIntervals: {
      total: history.missingUsage + history.missingPrices,
      missingUsage: history.missingUsage,
      missingPrices: history.missingPrices,
    },
    baselineCostCents: cents(result.baselineCostCents),
    selfConsumptionCostCents: cents(result.selfConsumptionCostCents),
    perfectForesightCostCents: cents(result.perfectForesightCostCents),
    forecastDrivenCostCents: result.forecastDrivenCostCents === null ? null : cents(result.forecastDrivenCostCents),
    savingsCents: {
      selfConsumption: savings(result.selfConsumptionCostCents)!,
      perfectForesight: savings(result.perfectForesightCostCents)!,
      forecastDriven: savings(result.forecastDrivenCostCents),
    },
    forecastDriven: {
      coveredIntervals: result.forecastCoveredIntervals,
      coveredShare: Math.round(result.forecastCoveredShare * 10_000) / 10_000,
      minimumShare: MIN_FORECAST_COVERAGE,
      withheld: result.forecastWithheld,
    },
    day:
      result.dayIntervals.length === 0
        ? null
        : {
            date: day,
            intervals: result.dayIntervals.map((i) => ({
              start: nemIsoInstant(i.startMs),
              importPrice: i.importPrice,
              feedInPrice: i.feedInPrice,
              demandKwh: kwh(i.demandKwh),
              socKwh: {
                selfConsumption: kwh(i.selfConsumptionSocKwh),
                perfectForesight: kwh(i.perfectForesightSocKwh),
                forecastDriven: i.forecastDrivenSocKwh === null ? null : kwh(i.forecastDrivenSocKwh),
              },
            })),
          },
  };
}

/** No interval has both usage and prices: say why, in words a person can act on. */
async function nothingToScore(db: Queryable, site: SiteInfo, from: NemDate, to: NemDate, expected: number): Promise<CollectorError> {
  if (!(await hasUsage(db, site.id))) {
    return new CollectorError('USAGE', `site ${site.id} has no usage stored yet: usage arrives about a day after it happens, once the collector has run`, {
      details: { problems: [`site: ${site.id} has no usage stored yet (usage arrives about a day late; let the collector run first)`] },
    });
  }
  const problem = `from/to: no interval from ${from} to ${to} has both usage and prices (all ${expected} skipped)`;
  return new CollectorError('USAGE', problem, { details: { problems: [problem] } });
}

export interface PlanReport {
  siteId: string;
  forecastFetchedAt: string | null;
  battery: ReturnType<typeof batteryEcho>;
  startSocKwh: number;
  intervals: Array<Omit<PlannedInterval, 'startMs' | 'endMs'> & { start: string; end: string }>;
  expectedCostCents: number;
  noBatteryCostCents: number;
  savingsCents: number;
}

export const MAX_HORIZON_HOURS = FORECAST_REACH_MS / 3_600_000;

export async function batteryPlan(
  db: Queryable,
  args: { site: SiteInfo; params: BatteryParams; socKwh: number | null; horizonHours: number | null; now: Date },
): Promise<PlanReport> {
  const { site, params, now } = args;
  const hasFeedIn = site.channels.some((c) => c.type === 'feedIn');
  const horizonMs = (args.horizonHours ?? MAX_HORIZON_HOURS) * 3_600_000;
  const prices = await forecastInForce(db, { siteId: site.id, at: now, until: new Date(now.getTime() + horizonMs) });
  const steps = priceSteps(prices, hasFeedIn, now.getTime());
  const startSocKwh = args.socKwh ?? params.reserve * params.capacityKwh;
  const forecastFetchedAt = prices.length === 0 ? null : new Date(Math.max(...prices.map((p) => p.fetchedMs))).toISOString();
  if (steps.length === 0) {
    return { siteId: site.id, forecastFetchedAt, battery: batteryEcho(params), startSocKwh, intervals: [], expectedCostCents: 0, noBatteryCostCents: 0, savingsCents: 0 };
  }
  const history = await loadBatteryHistory(db, {
    siteId: site.id,
    intervalMinutes: site.intervalLength,
    hasFeedIn,
    from: now,
    to: now,
    historyFrom: new Date(now.getTime() - LOAD_HISTORY_MS),
  });
  const plan = planAhead({ steps, demandByStart: history.demandByStart, intervalMinutes: site.intervalLength, params, startSocKwh, nowMs: now.getTime() });
  const cents = (value: number) => Math.round(value * 100) / 100;
  const kwh = (value: number) => Math.round(value * 1000) / 1000;
  return {
    siteId: site.id,
    forecastFetchedAt,
    battery: batteryEcho(params),
    startSocKwh,
    intervals: plan.intervals.map(({ startMs, endMs, ...rest }) => ({
      start: nemIsoInstant(startMs),
      end: nemIsoInstant(endMs),
      importPrice: rest.importPrice,
      feedInPrice: rest.feedInPrice,
      demandKwh: kwh(rest.demandKwh),
      action: rest.action,
      chargeKwh: kwh(rest.chargeKwh),
      dischargeKwh: kwh(rest.dischargeKwh),
      gridKwh: kwh(rest.gridKwh),
      socKwh: kwh(rest.socKwh),
    })),
    expectedCostCents: cents(plan.expectedCostCents),
    noBatteryCostCents: cents(plan.noBatteryCostCents),
    savingsCents: cents(plan.noBatteryCostCents - plan.expectedCostCents),
  };
}
