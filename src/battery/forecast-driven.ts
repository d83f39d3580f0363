/**
 * A controller that only knows what was known at the time: every `replanMinutes` it plans the cheapest
 * schedule over the price forecast in force then (from the forecast archive) and a load forecast from the
 * usage it could have had then (load-forecast.ts: none of the last 24 hours), carries the plan out against
 * what really happened until the next decision, and plans again from the state of charge it actually
 * reached. Where no forecast was in force the battery rests. Nothing after a decision's time reaches it:
 * the actual series is only read to carry out the interval being played.
 */
import { LoadForecast } from './load-forecast.ts';
import { exportRoom, limitsOf, type BatteryParams, type Schedule, type Series } from './model.ts';
import { optimalSchedule } from './optimal.ts';

/** One interval of a price forecast: what a plan is made over. */
export interface ForecastStep {
  startMs: number;
  endMs: number;
  importPrice: number;
  feedInPrice: number;
}

export interface ForecastDrivenInput {
  /** The intervals to run over, as they really happened. */
  series: Series;
  /** Net demand (kWh) by interval start, including LOAD_HISTORY_MS before the series: the load forecast's source. */
  demandByStart: ReadonlyMap<number, number>;
  /** The site's interval length. */
  intervalMinutes: number;
  /**
   * The forecast in force at an instant, from the interval containing it onwards, contiguous; empty when
   * none. Asked at instants that only move forward, so a source may read the archive as it goes instead of
   * holding it all (query/battery-forecasts.ts).
   */
  forecastAt(atMs: number): ForecastStep[] | Promise<ForecastStep[]>;
  params: BatteryParams;
  /** Default: the reserve. */
  startSocKwh?: number;
  /** Default 30: the half-hourly pre-dispatch cadence. */
  replanMinutes?: number;
}

export interface ForecastDrivenResult {
  schedule: Schedule;
  /** Intervals a plan was in force for. */
  coveredIntervals: number;
}

const MINUTE_MS = 60_000;
/** A coarser grid than perfect foresight's: a plan is redone within the hour, and thousands are made. */
const PLAN_GRID_STEPS = 60;

export async function forecastDrivenSchedule(input: ForecastDrivenInput): Promise<ForecastDrivenResult> {
  const { series, params } = input;
  const { oneWay, minSoc, maxSoc } = limitsOf(params);
  const replanMs = (input.replanMinutes ?? 30) * MINUTE_MS;
  const schedule: Schedule = { chargeKwh: new Float64Array(series.length), dischargeKwh: new Float64Array(series.length) };
  let soc = input.startSocKwh ?? minSoc;
  let plan: Plan | null = null;
  let coveredIntervals = 0;
  const load = new LoadForecast(input.demandByStart, input.intervalMinutes);
  for (let t = 0; t < series.length; t++) {
    const startMs = series.startMs[t]!;
    if (plan === null || startMs % replanMs === 0 || startMs >= plan.validUntilMs) {
      plan = await makePlan(input, load, startMs, soc, Math.ceil((startMs + 1) / replanMs) * replanMs);
    }
    const step = plan?.stepAt(startMs);
    if (plan === null || step === undefined) continue;
    coveredIntervals += 1;
    const share = series.hours[t]! / plan.hours[step]!;
    const hours = series.hours[t]!;
    const charge = Math.min(plan.schedule.chargeKwh[step]! * share, params.chargeKw * hours, Math.max(0, (maxSoc - soc) / oneWay));
    const discharge = Math.min(plan.schedule.dischargeKwh[step]! * share, params.dischargeKw * hours, exportRoom(series, t, params), Math.max(0, (soc - minSoc) * oneWay));
    schedule.chargeKwh[t] = charge;
    schedule.dischargeKwh[t] = discharge;
    soc = Math.min(maxSoc, Math.max(minSoc, soc + charge * oneWay - discharge / oneWay));
  }
  return { schedule, coveredIntervals };
}

interface Plan {
  schedule: Schedule;
  hours: Float64Array;
  /** The plan is followed until the next decision, or until its forecast runs out. */
  validUntilMs: number;
  stepAt(ms: number): number | undefined;
}

async function makePlan(input: ForecastDrivenInput, load: LoadForecast, atMs: number, soc: number, nextDecisionMs: number): Promise<Plan | null> {
  const steps = await input.forecastAt(atMs);
  if (steps.length === 0) return null;
  const planSeries = forecastSeries(steps, load, atMs);
  const validUntilMs = Math.min(nextDecisionMs, steps[steps.length - 1]!.endMs);
  // Only the steps before the next decision are carried out: their actions are all the plan needs to give.
  const followed = steps.findIndex((step) => step.startMs >= validUntilMs);
  const schedule = optimalSchedule(planSeries, input.params, { startSocKwh: soc, gridSteps: PLAN_GRID_STEPS, actionsFor: followed === -1 ? steps.length : followed });
  return {
    schedule,
    hours: planSeries.hours,
    validUntilMs,
    stepAt(ms) {
      const index = steps.findIndex((step) => step.startMs <= ms && ms < step.endMs);
      return index === -1 ? undefined : index;
    },
  };
}

/**
 * A forecast as a series for a plan made at `atMs`: its prices, and each interval's load as known then
 * (load-forecast.ts). The running interval counts from `atMs` only: at 06:12:30 the 06:00–06:30 step has
 * 17.5 minutes left, so its energy limits and its share of the load are 17.5 minutes' worth.
 */
export function forecastSeries(steps: readonly ForecastStep[], load: LoadForecast, atMs: number): Series {
  const length = steps.length;
  const series: Series = {
    length,
    startMs: new Float64Array(length),
    hours: new Float64Array(length),
    demandKwh: new Float64Array(length),
    importPrice: new Float64Array(length),
    feedInPrice: new Float64Array(length),
  };
  const { slotMs } = load;
  steps.forEach((whole, i) => {
    const step = whole.startMs < atMs && atMs < whole.endMs ? { ...whole, startMs: atMs } : whole;
    series.startMs[i] = step.startMs;
    series.hours[i] = (step.endMs - step.startMs) / 3_600_000;
    series.importPrice[i] = step.importPrice;
    series.feedInPrice[i] = step.feedInPrice;
    let demand = 0;
    // The step may be longer (a 30-minute forecast of a 5-minute site) or shorter than the site's interval.
    for (let slot = Math.floor(step.startMs / slotMs) * slotMs; slot < step.endMs; slot += slotMs) {
      const overlap = (Math.min(slot + slotMs, step.endMs) - Math.max(slot, step.startMs)) / slotMs;
      const mean = load.meanAt(slot, atMs);
      if (!Number.isNaN(mean)) demand += mean * overlap;
    }
    series.demandKwh[i] = demand;
  });
  return series;
}
