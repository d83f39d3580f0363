/**
 * What a battery would have saved: every strategy over the same intervals, each scored on the reference
 * model (model.ts), side by side with the cost without one.
 */
import { forecastDrivenSchedule, type ForecastStep } from './forecast-driven.ts';
import { baselineCost, score, type BatteryParams, type Series } from './model.ts';
import { optimalSchedule } from './optimal.ts';
import { selfConsumptionSchedule } from './self-consumption.ts';

export interface WhatIfInput {
  series: Series;
  /** Net demand by interval start, the series and the 7 days before it (the forecast-driven load forecast). */
  demandByStart: ReadonlyMap<number, number>;
  intervalMinutes: number;
  params: BatteryParams;
  /** The archived forecast in force at an instant; null when the archive holds nothing for the period. */
  forecastAt: ((atMs: number) => ForecastStep[] | Promise<ForecastStep[]>) | null;
  /** The instants [from, to) of the day whose state of charge is returned interval by interval. */
  day: { fromMs: number; toMs: number } | null;
}

export interface WhatIfCosts {
  baselineCostCents: number;
  selfConsumptionCostCents: number;
  perfectForesightCostCents: number;
  /** Null when no archived forecast covers any of the intervals. */
  forecastDrivenCostCents: number | null;
  /** Intervals a forecast-driven plan was in force for, and their share of all intervals. */
  forecastCoveredIntervals: number;
  forecastCoveredShare: number;
  /** One day, interval by interval: prices, net demand and each strategy's state of charge at the interval's end. */
  dayIntervals: DayInterval[];
}

export interface DayInterval {
  startMs: number;
  importPrice: number;
  feedInPrice: number;
  demandKwh: number;
  selfConsumptionSocKwh: number;
  perfectForesightSocKwh: number;
  forecastDrivenSocKwh: number | null;
}

export async function whatIf(input: WhatIfInput): Promise<WhatIfCosts> {
  const { series, params } = input;
  const selfConsumption = score(series, params, selfConsumptionSchedule(series, params));
  const perfect = score(series, params, optimalSchedule(series, params));
  const driven =
    input.forecastAt === null
      ? null
      : await forecastDrivenSchedule({ series, params, demandByStart: input.demandByStart, intervalMinutes: input.intervalMinutes, forecastAt: input.forecastAt });
  const forecastDriven = driven === null || driven.coveredIntervals === 0 ? null : score(series, params, driven.schedule);
  const covered = forecastDriven === null ? 0 : driven!.coveredIntervals;
  const dayIntervals: DayInterval[] = [];
  if (input.day !== null) {
    for (let t = 0; t < series.length; t++) {
      const startMs = series.startMs[t]!;
      if (startMs < input.day.fromMs || startMs >= input.day.toMs) continue;
      dayIntervals.push({
        startMs,
        importPrice: series.importPrice[t]!,
        feedInPrice: series.feedInPrice[t]!,
        demandKwh: series.demandKwh[t]!,
        selfConsumptionSocKwh: selfConsumption.socKwh[t]!,
        perfectForesightSocKwh: perfect.socKwh[t]!,
        forecastDrivenSocKwh: forecastDriven === null ? null : forecastDriven.socKwh[t]!,
      });
    }
  }
  return {
    baselineCostCents: baselineCost(series),
    selfConsumptionCostCents: selfConsumption.costCents,
    perfectForesightCostCents: perfect.costCents,
    forecastDrivenCostCents: forecastDriven === null ? null : forecastDriven.costCents,
    forecastCoveredIntervals: covered,
    forecastCoveredShare: series.length === 0 ? 0 : covered / series.length,
    dayIntervals,
  };
}
