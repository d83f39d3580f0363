/**
 * The shortcuts the forecast-driven strategy takes to make its thousands of plans quickly give the same
 * numbers as the long way: a plan asked only for the actions until the next decision gives exactly the
 * actions the whole plan starts with, and the kept load forecast gives exactly the mean of the 7 most
 * recent days known at the decision (usage a day late), also after old slots are let go.
 */
import { expect, it } from 'vitest';
import { forecastSeries, type ForecastStep } from '../../src/battery/forecast-driven.ts';
import { LoadForecast } from '../../src/battery/load-forecast.ts';
import type { BatteryParams, Series } from '../../src/battery/model.ts';
import { optimalSchedule } from '../../src/battery/optimal.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

const PARAMS: BatteryParams = { capacityKwh: 13.5, chargeKw: 5, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: 3 };
const FIVE_MINUTES = 300_000;
const DAY_MS = 86_400_000;

function randomSeries(length: number, seed: number): Series {
  const random = seededRandom(seed);
  const series: Series = {
    length,
    startMs: Float64Array.from({ length }, (_, i) => i * FIVE_MINUTES),
    hours: new Float64Array(length).fill(5 / 60),
    demandKwh: Float64Array.from({ length }, () => random() - 0.4),
    importPrice: Float64Array.from({ length }, () => (random() < 0.05 ? 300 : 10 + 30 * random())),
    feedInPrice: Float64Array.from({ length }, () => (random() < 0.05 ? 20 : -5 + 10 * random())),
  };
  return series;
}

it('a plan asked for its first actions only gives the same ones as the whole plan, and nothing after', () => {
  for (const [length, wanted, seed] of [[576, 6, 1], [431, 1, 2], [100, 37, 3], [50, 50, 4]] as const) {
    const series = randomSeries(length, seed);
    const options = { startSocKwh: 4.2, gridSteps: 60 };
    const whole = optimalSchedule(series, PARAMS, options);
    const first = optimalSchedule(series, PARAMS, { ...options, actionsFor: wanted });
    expect(Array.from(first.chargeKwh.subarray(0, wanted))).toEqual(Array.from(whole.chargeKwh.subarray(0, wanted)));
    expect(Array.from(first.dischargeKwh.subarray(0, wanted))).toEqual(Array.from(whole.dischargeKwh.subarray(0, wanted)));
    expect(first.chargeKwh.subarray(wanted).every((v) => v === 0) && first.dischargeKwh.subarray(wanted).every((v) => v === 0)).toBe(true);
  }
});

it('the kept load forecast is the mean of the same slot on the 7 most recent days known at the decision, over a year of plans', () => {
  const random = seededRandom(7);
  const demandByStart = new Map<number, number>();
  // A year and a week of usage, with gaps (a slot missing on some days, one week missing altogether).
  for (let ms = 0; ms < 373 * DAY_MS; ms += FIVE_MINUTES) {
    if (random() < 0.1 || (ms >= 100 * DAY_MS && ms < 107 * DAY_MS)) continue;
    demandByStart.set(ms, random());
  }
  const load = new LoadForecast(demandByStart, 5);
  for (let atMs = 9 * DAY_MS; atMs < 373 * DAY_MS; atMs += 18 * 3_600_000) {
    // A forecast of 5-minute steps for the first hour, then 30-minute ones, as the API sends it.
    const steps: ForecastStep[] = [];
    for (let start = atMs; start < atMs + 48 * 3_600_000; ) {
      const length = start < atMs + 3_600_000 ? FIVE_MINUTES : 6 * FIVE_MINUTES;
      steps.push({ startMs: start, endMs: start + length, importPrice: 20, feedInPrice: 5 });
      start += length;
    }
    const series = forecastSeries(steps, load, atMs);
    steps.forEach((step, i) => {
      let expected = 0;
      for (let slot = step.startMs; slot < step.endMs; slot += FIVE_MINUTES) {
        // Known: slots that ended a day before the decision. The first such day back, then 6 more.
        let first = 1;
        while (slot - first * DAY_MS + FIVE_MINUTES > atMs - DAY_MS) first += 1;
        const days = [0, 1, 2, 3, 4, 5, 6].map((k) => first + k);
        const past = days.map((back) => demandByStart.get(slot - back * DAY_MS)).filter((v) => v !== undefined);
        if (past.length > 0) expected += (past.reduce((sum, v) => sum + v, 0) / past.length) * 1;
      }
      expect(series.demandKwh[i]).toBe(expected);
    });
  }
});
