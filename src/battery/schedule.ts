/**
 * A schedule for the hours ahead: the cheapest plan over the latest archived price forecast and a load
 * forecast from the previous days' usage (load-forecast.ts), from the battery's present state of charge,
 * with what it is expected to cost against no battery. The running interval is planned for the time it
 * has left, not as a whole one.
 */
import { forecastSeries, type ForecastStep } from './forecast-driven.ts';
import { LoadForecast } from './load-forecast.ts';
import { baselineCost, score, type BatteryParams } from './model.ts';
import { optimalSchedule } from './optimal.ts';

export interface PlannedInterval {
  startMs: number;
  endMs: number;
  importPrice: number;
  feedInPrice: number;
  /** Forecast net demand (import − export) without the battery, kWh (for the running interval: its time left). */
  demandKwh: number;
  action: 'charge' | 'discharge' | 'idle';
  chargeKwh: number;
  dischargeKwh: number;
  /** Grid flow with the battery: positive imports, negative exports. */
  gridKwh: number;
  /** State of charge at the interval's end. */
  socKwh: number;
}

export interface BatteryPlan {
  intervals: PlannedInterval[];
  expectedCostCents: number;
  noBatteryCostCents: number;
}

/** Flows below this (kWh) are reported as idle: numerical dust, not an action. */
const IDLE_KWH = 1e-6;

export function planAhead(args: {
  steps: readonly ForecastStep[];
  demandByStart: ReadonlyMap<number, number>;
  intervalMinutes: number;
  params: BatteryParams;
  startSocKwh: number;
  /** The time of the plan: the first step, if running, counts from it. */
  nowMs: number;
}): BatteryPlan {
  const series = forecastSeries(args.steps, new LoadForecast(args.demandByStart, args.intervalMinutes), args.nowMs);
  const schedule = optimalSchedule(series, args.params, { startSocKwh: args.startSocKwh });
  const scored = score(series, args.params, schedule, args.startSocKwh);
  const intervals = args.steps.map((step, t): PlannedInterval => {
    const chargeKwh = schedule.chargeKwh[t]!;
    const dischargeKwh = schedule.dischargeKwh[t]!;
    return {
      startMs: step.startMs,
      endMs: step.endMs,
      importPrice: step.importPrice,
      feedInPrice: step.feedInPrice,
      demandKwh: series.demandKwh[t]!,
      action: chargeKwh > IDLE_KWH ? 'charge' : dischargeKwh > IDLE_KWH ? 'discharge' : 'idle',
      chargeKwh,
      dischargeKwh,
      gridKwh: series.demandKwh[t]! + chargeKwh - dischargeKwh,
      socKwh: scored.socKwh[t]!,
    };
  });
  return { intervals, expectedCostCents: scored.costCents, noBatteryCostCents: baselineCost(series) };
}
