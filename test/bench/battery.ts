/**
 * The battery engine's speed and accuracy: perfect foresight over a year of 5-minute intervals (target
 * ≤ 5 s), the forecast-driven strategy over 30 days (≤ 30 s; a plan every 30 minutes over a 48-hour
 * forecast), each beside the self-consumption pass over the same data as the baseline; and the dynamic
 * programme's distance from HiGHS's exact optimum on 3-day windows (≤ 1% of the savings). The data is a
 * seeded synthetic site (solar, evening peak, price spikes, negative midday prices) so the figures are
 * comparable from run to run without collecting a year first (battery-accuracy.ts uses it too).
 */
import { forecastDrivenSchedule, type ForecastStep } from '../../src/battery/forecast-driven.ts';
import { baselineCost, score, type BatteryParams, type Series } from '../../src/battery/model.ts';
import { optimalSchedule } from '../../src/battery/optimal.ts';
import { selfConsumptionSchedule } from '../../src/battery/self-consumption.ts';
import { solveExactly } from '../battery/exact-solver.ts';
import { figuresOf, measured, type Figure } from './figures.ts';
import type { Benchmark } from './run.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

const PARAMS: BatteryParams = { capacityKwh: 13.5, chargeKw: 5, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null };
const MINUTE_MS = 60_000;
const EPOCH = Date.parse('2025-01-01T00:00:00+10:00');

export function syntheticSite(days: number, minutes: number, seed: number): Series {
  const random = seededRandom(seed);
  const n = (days * 24 * 60) / minutes;
  const series: Series = {
    length: n,
    startMs: new Float64Array(n),
    hours: new Float64Array(n).fill(minutes / 60),
    demandKwh: new Float64Array(n),
    importPrice: new Float64Array(n),
    feedInPrice: new Float64Array(n),
  };
  for (let t = 0; t < n; t++) {
    const hour = ((t * minutes) / 60) % 24;
    const solar = Math.max(0, Math.sin(((hour - 6) / 12) * Math.PI)) * 5 * (0.5 + 0.5 * random());
    const load = 0.5 + (hour >= 17 && hour < 22 ? 2 * random() : 0.4 * random());
    const spot = 8 + 25 * Math.max(0, Math.sin(((hour - 14) / 10) * Math.PI)) - (hour >= 10 && hour < 14 ? 10 * random() : 0) + (random() < 0.005 ? 400 : 5 * random());
    series.startMs[t] = EPOCH + t * minutes * MINUTE_MS;
    series.demandKwh[t] = ((load - solar) * minutes) / 60;
    series.importPrice[t] = spot + 12;
    series.feedInPrice[t] = -0.9 * spot;
  }
  return series;
}

/** Forecasts as the archive would replay them: actual prices with an error growing with lead time, 5-minute for an hour then 30-minute. */
function forecastOf(series: Series, seed: number): (atMs: number) => ForecastStep[] {
  const random = seededRandom(seed);
  const noise = Float64Array.from({ length: series.length }, () => random() - 0.5);
  const index = (ms: number) => Math.round((ms - EPOCH) / (5 * MINUTE_MS));
  return (atMs) => {
    const steps: ForecastStep[] = [];
    let start = atMs;
    while (start < atMs + 48 * 60 * MINUTE_MS && index(start) < series.length) {
      const length = start - atMs < 60 * MINUTE_MS || start % (30 * MINUTE_MS) !== 0 ? 5 : 30;
      const i = index(start);
      const lead = (start - atMs) / (60 * MINUTE_MS);
      const error = 1 + noise[i]! * Math.min(1, lead / 12);
      steps.push({ startMs: start, endMs: start + length * MINUTE_MS, importPrice: series.importPrice[i]! * error, feedInPrice: series.feedInPrice[i]! * error });
      start += length * MINUTE_MS;
    }
    return steps;
  };
}

export const batteryBenchmark: Benchmark = {
  name: 'battery',
  async run(): Promise<Figure[]> {
    const year = syntheticSite(365, 5, 1);
    const self = await measured(() => selfConsumptionSchedule(year, PARAMS));
    const perfect = await measured(() => optimalSchedule(year, PARAMS));
    score(year, PARAMS, perfect.result); // throws if infeasible

    const month = syntheticSite(37, 5, 2); // 7 days of load history, then 30 days
    const historyIntervals = 7 * 288;
    const demandByStart = new Map<number, number>();
    for (let t = 0; t < month.length; t++) demandByStart.set(month.startMs[t]!, month.demandKwh[t]!);
    const last30: Series = {
      length: month.length - historyIntervals,
      startMs: month.startMs.subarray(historyIntervals),
      hours: month.hours.subarray(historyIntervals),
      demandKwh: month.demandKwh.subarray(historyIntervals),
      importPrice: month.importPrice.subarray(historyIntervals),
      feedInPrice: month.feedInPrice.subarray(historyIntervals),
    };
    const monthSelf = await measured(() => selfConsumptionSchedule(last30, PARAMS));
    const driven = await measured(() => forecastDrivenSchedule({ series: last30, demandByStart, intervalMinutes: 5, forecastAt: forecastOf(month, 3), params: PARAMS }));
    const drivenSavings = baselineCost(last30) - score(last30, PARAMS, driven.result.schedule).costCents;
    const perfectSavings = baselineCost(last30) - score(last30, PARAMS, optimalSchedule(last30, PARAMS)).costCents;

    let worst = 0;
    let exactSeconds = 0;
    let dpSeconds = 0;
    for (const seed of [11, 12, 13]) {
      const window = syntheticSite(3, 5, seed);
      const exact = await measured(() => solveExactly(window, PARAMS));
      const dp = await measured(() => score(window, PARAMS, optimalSchedule(window, PARAMS)).costCents);
      exactSeconds += exact.seconds;
      dpSeconds += dp.seconds;
      const savings = baselineCost(window) - exact.result.mipCents;
      worst = Math.max(worst, (100 * (dp.result - exact.result.mipCents)) / savings);
    }

    return figuresOf('battery', [
      {
        name: 'perfect foresight, a year of 5-minute intervals',
        value: perfect.seconds,
        unit: 's',
        baseline: { name: 'self-consumption pass', value: self.seconds },
        target: { on: 'value', comparator: '<=', limit: 5 },
        note: `${perfect.cpuSeconds.toFixed(2)} s of CPU (wall-clock time includes waiting for a shared CPU)`,
      },
      {
        name: 'forecast-driven, 30 days of 5-minute intervals',
        value: driven.seconds,
        unit: 's',
        baseline: { name: 'self-consumption pass', value: monthSelf.seconds },
        target: { on: 'value', comparator: '<=', limit: 30 },
        note: `${driven.cpuSeconds.toFixed(2)} s of CPU; saves ${((100 * drivenSavings) / perfectSavings).toFixed(0)}% of what perfect foresight saves over the same 30 days`,
      },
      {
        name: 'perfect foresight above the MIP optimum, worst of three 3-day windows',
        value: worst,
        unit: '% of savings',
        target: { on: 'value', comparator: '<=', limit: 1 },
      },
      {
        name: 'dynamic programme, three 3-day windows',
        value: dpSeconds,
        unit: 's',
        baseline: { name: 'HiGHS mixed-integer solve', value: exactSeconds },
      },
    ]);
  },
};
