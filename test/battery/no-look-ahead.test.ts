/**
 * The forecast-driven replay decides only on what a live controller could have known: prices from the
 * forecasts fetched by then, usage that had ended a day before (it reaches Amber about a day late). A 12 kW
 * load that starts at 06:00 does not make it charge at midnight, and, for any data, its decisions before a
 * time t stay the same whatever happens after t. Also: separate charge and discharge limits and a starting
 * charge are kept by every strategy.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forecastDrivenSchedule, type ForecastStep } from '../../src/battery/forecast-driven.ts';
import { LOAD_HISTORY_MS } from '../../src/battery/load-forecast.ts';
import { score, type BatteryParams, type Series } from '../../src/battery/model.ts';
import { optimalSchedule } from '../../src/battery/optimal.ts';
import { selfConsumptionSchedule } from '../../src/battery/self-consumption.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

const HALF_HOUR = 1_800_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Midnight NEM time (UTC+10) of day D. */
const D = Date.parse('2025-11-20T00:00:00+10:00');
const PARAMS: BatteryParams = { capacityKwh: 13.5, chargeKw: 5, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null };

/** A 30-minute site's world: usage and prices by interval start, over [firstMs, endMs). */
interface World {
  demand: Map<number, number>;
  importPrice: Map<number, number>;
  feedInPrice: Map<number, number>;
  /** The price of interval `startMs` in the forecast fetched at `fetchedMs` (multiples of 30 minutes). */
  forecast(fetchedMs: number, startMs: number): { importPrice: number; feedInPrice: number };
}

function seriesOf(world: World, fromMs: number, toMs: number): Series {
  const starts: number[] = [];
  for (let ms = fromMs; ms < toMs; ms += HALF_HOUR) starts.push(ms);
  return {
    length: starts.length,
    startMs: Float64Array.from(starts),
    hours: new Float64Array(starts.length).fill(0.5),
    demandKwh: Float64Array.from(starts, (ms) => world.demand.get(ms)!),
    importPrice: Float64Array.from(starts, (ms) => world.importPrice.get(ms)!),
    feedInPrice: Float64Array.from(starts, (ms) => world.feedInPrice.get(ms)!),
  };
}

/** The forecast in force at `atMs`: the latest fetched by then (every 30 minutes), `horizonMs` ahead. */
function forecastAt(world: World, horizonMs: number): (atMs: number) => ForecastStep[] {
  return (atMs) => {
    const fetchedMs = Math.floor(atMs / HALF_HOUR) * HALF_HOUR;
    const steps: ForecastStep[] = [];
    for (let start = fetchedMs; start < fetchedMs + horizonMs; start += HALF_HOUR) {
      steps.push({ startMs: start, endMs: start + HALF_HOUR, ...world.forecast(fetchedMs, start) });
    }
    return steps;
  };
}

async function replay(world: World, fromMs: number, toMs: number, horizonMs = 48 * HOUR, params = PARAMS) {
  const series = seriesOf(world, fromMs, toMs);
  const { schedule } = await forecastDrivenSchedule({ series, params, demandByStart: world.demand, intervalMinutes: 30, forecastAt: forecastAt(world, horizonMs) });
  return { series, schedule };
}

describe('the 12 kW load that starts at 06:00', () => {
  /** No load at all until 06:00 on day D, 12 kW from then on; import 40 c/kWh but 5 c at 00:00–00:30 on D; feed-in 0. */
  function world(withLoad: boolean): World {
    const w: World = { demand: new Map(), importPrice: new Map(), feedInPrice: new Map(), forecast: (_f, start) => ({ importPrice: w.importPrice.get(start) ?? 40, feedInPrice: 0 }) };
    for (let ms = D - LOAD_HISTORY_MS; ms < D + 3 * DAY; ms += HALF_HOUR) {
      w.demand.set(ms, withLoad && ms >= D + 6 * HOUR ? 6 : 0);
      w.importPrice.set(ms, ms === D ? 5 : 40);
      w.feedInPrice.set(ms, 0);
    }
    return w;
  }

  it('does not make the controller charge at 00:00, and changes nothing it decides in the day before it could know', async () => {
    const { schedule } = await replay(world(true), D, D + 2 * DAY);
    // Reading `slot − 1 day` without a cut-off, the plan at 00:00 saw the load on D+1 and charged 2.5 kWh at 5 c.
    expect(schedule.chargeKwh[0]).toBe(0);
    const without = (await replay(world(false), D, D + 2 * DAY)).schedule;
    // Usage is known a day late: the first 24 hours after 06:00 are decided as if the load were not there.
    const known = (6 + 24) * 2;
    expect(Array.from(schedule.chargeKwh.subarray(0, known))).toEqual(Array.from(without.chargeKwh.subarray(0, known)));
    expect(Array.from(schedule.dischargeKwh.subarray(0, 12))).toEqual(Array.from(without.dischargeKwh.subarray(0, 12)));
  });
});

describe('decisions before any time t are unchanged when every usage and price after t is altered', () => {
  const FROM = D;
  const TO = D + DAY;

  /** Usage and prices from a seed: net demand with midday solar (times `load`), import spikes, negative feed-in. */
  function actuals(seed: number, load: number): Pick<World, 'demand' | 'importPrice' | 'feedInPrice'> {
    const random = seededRandom(seed);
    const demand = new Map<number, number>();
    const importPrice = new Map<number, number>();
    const feedInPrice = new Map<number, number>();
    for (let ms = FROM - LOAD_HISTORY_MS; ms < TO + 2 * DAY; ms += HALF_HOUR) {
      const hour = ((ms - D) / HOUR) % 24;
      demand.set(ms, load * (random() * 2 - (hour >= 9 && hour < 15 ? 1.5 * random() : 0)));
      importPrice.set(ms, random() < 0.05 ? 300 : 10 + 40 * random());
      feedInPrice.set(ms, random() < 0.1 ? -50 : -5 + 15 * random());
    }
    return { demand, importPrice, feedInPrice };
  }

  /**
   * A seeded world; from `alteredAfter` on, every usage and price is another seed's, and so is every
   * forecast fetched from then (those fetched before are the original world's, as they were).
   */
  function world(seed: number, alteredAfter: number | null, alterSeed: number): World {
    const original = actuals(seed, 1);
    // Another world with a load 30 times heavier: the load forecast averages 7 days, so a decision that read it would show.
    const other = actuals(alterSeed, 30);
    const after = (ms: number) => alteredAfter !== null && ms >= alteredAfter;
    const mix = (key: 'demand' | 'importPrice' | 'feedInPrice') => new Map([...original[key]].map(([ms, v]) => [ms, after(ms) ? other[key].get(ms)! : v]));
    const w: World = {
      demand: mix('demand'),
      importPrice: mix('importPrice'),
      feedInPrice: mix('feedInPrice'),
      forecast: (fetchedMs, start) => {
        // Each fetch's error grows with the lead time; a forecast fetched from t on is the other world's.
        const [source, prices] = after(fetchedMs) ? [seededRandom(alterSeed * 7919 + fetchedMs / HALF_HOUR), w] : [seededRandom(seed * 7919 + fetchedMs / HALF_HOUR), original];
        const error = 1 + (source() - 0.5) * Math.min(1, (start - fetchedMs) / (12 * HOUR));
        return { importPrice: prices.importPrice.get(start)! * error, feedInPrice: prices.feedInPrice.get(start)! * error };
      },
    };
    return w;
  }

  it('forecast-driven replay (property, fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 47 }), fc.integer({ min: 1_001, max: 2_000 }), fc.constantFrom(13.5, 100), async (seed, cut, alterSeed, capacityKwh) => {
        const t = FROM + cut * HALF_HOUR;
        // A battery that takes a day to fill carries the load forecast 24 to 48 hours out into its first moves.
        const params = { ...PARAMS, capacityKwh };
        // Plans reach 48 hours ahead: the slots 24 to 48 hours out are the ones `slot − 1 day` read from the future.
        const original = await replay(world(seed, null, alterSeed), FROM, TO, 48 * HOUR, params);
        const altered = await replay(world(seed, t, alterSeed), FROM, TO, 48 * HOUR, params);
        expect(Array.from(altered.schedule.chargeKwh.subarray(0, cut))).toEqual(Array.from(original.schedule.chargeKwh.subarray(0, cut)));
        expect(Array.from(altered.schedule.dischargeKwh.subarray(0, cut))).toEqual(Array.from(original.schedule.dischargeKwh.subarray(0, cut)));
      }),
      { numRuns: 10 },
    );
  });
});

describe('separate charge and discharge power, and a starting charge', () => {
  const random = seededRandom(5);
  const n = 96;
  const series: Series = {
    length: n,
    startMs: Float64Array.from({ length: n }, (_, i) => D + i * HALF_HOUR),
    hours: new Float64Array(n).fill(0.5),
    demandKwh: Float64Array.from({ length: n }, () => 3 * random() - 1.5),
    importPrice: Float64Array.from({ length: n }, () => (random() < 0.1 ? 200 : 10 + 30 * random())),
    feedInPrice: Float64Array.from({ length: n }, () => -5 + 10 * random()),
  };
  const params: BatteryParams = { ...PARAMS, chargeKw: 3, dischargeKw: 5 };

  it('no strategy charges faster than 3 kW or discharges faster than 5 kW, and each uses both limits', async () => {
    const world: World = {
      demand: new Map(Array.from(series.startMs, (ms, i) => [ms, series.demandKwh[i]!])),
      importPrice: new Map(Array.from(series.startMs, (ms, i) => [ms, series.importPrice[i]!])),
      feedInPrice: new Map(Array.from(series.startMs, (ms, i) => [ms, series.feedInPrice[i]!])),
      forecast: (_f, start) => ({ importPrice: world.importPrice.get(start) ?? 20, feedInPrice: world.feedInPrice.get(start) ?? 0 }),
    };
    const schedules = [optimalSchedule(series, params), selfConsumptionSchedule(series, params), (await forecastDrivenSchedule({ series, params, demandByStart: world.demand, intervalMinutes: 30, forecastAt: forecastAt(world, 24 * HOUR) })).schedule];
    for (const schedule of schedules) {
      score(series, params, schedule); // throws past either limit
      expect(Math.max(...schedule.chargeKwh)).toBeLessThanOrEqual(1.5 + 1e-9);
      expect(Math.max(...schedule.dischargeKwh)).toBeLessThanOrEqual(2.5 + 1e-9);
    }
    // Perfect foresight discharges past 3 kW: the limits are the directions', not one power's.
    expect(Math.max(...schedules[0]!.dischargeKwh)).toBeGreaterThan(1.5);
    expect(() => score(series, { ...params, dischargeKw: 3 }, schedules[0]!)).toThrow(/infeasible schedule/);
  });

  it('a starting charge is where every strategy starts', () => {
    const full = optimalSchedule(series, params, { startSocKwh: 13.5 });
    const scored = score(series, params, full, 13.5);
    const fromReserve = score(series, params, optimalSchedule(series, params));
    // Starting full, the same intervals cost less: the stored energy is used.
    expect(scored.costCents).toBeLessThan(fromReserve.costCents);
    const first = full.chargeKwh[0]! * Math.sqrt(0.9) - full.dischargeKwh[0]! / Math.sqrt(0.9);
    expect(scored.socKwh[0]).toBeCloseTo(13.5 + first, 9);
    const self = selfConsumptionSchedule(series, params, 13.5);
    expect(() => score(series, params, self, 13.5)).not.toThrow();
  });
});
