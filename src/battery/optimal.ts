/**
 * The cheapest schedule for a known series (perfect foresight, and each plan of the forecast-driven
 * strategy): dynamic programming over a fine grid of states of charge, backwards for the cost-to-go, then
 * forwards from the true state of charge to pick each interval's action.
 *
 * Each interval may move to any grid state within the power limits, or take one of the exact actions that
 * matter between grid points: full power either way, and covering the load (or soaking up the solar
 * surplus) exactly; those land between grid states, whose cost-to-go is interpolated. The forward pass
 * follows the true (continuous) state of charge, so the schedule is always feasible, and the reference
 * model scores it: never below the optimum, and within a grid step's worth of it.
 *
 * A year of 5-minute data is ~105k intervals × ~250 states: the cost-to-go of every interval would not fit
 * in memory, so the backward pass keeps one every √T intervals and the forward pass recomputes each block.
 */
import { exportRoom, gridCost, limitsOf, type BatteryParams, type Schedule, type Series } from './model.ts';

export interface OptimiseOptions {
  /** Grid states between reserve and capacity; default: about 4 per interval's full charge, at least 120. */
  gridSteps?: number;
  /** Default: the reserve. */
  startSocKwh?: number;
  /**
   * Only the first this many intervals' actions are wanted (a plan followed until the next decision); the
   * rest are left at 0. The cost-to-go is still computed over the whole series, so the actions given are
   * the same as without it. Default: every interval.
   */
  actionsFor?: number;
}

const MIN_GRID_STEPS = 120;
const MAX_GRID_STEPS = 4000;
const STEPS_PER_FULL_CHARGE = 4;
/** Costs closer than this (cents) are a tie, and a tie goes to doing less. */
const TIE = 1e-9;

export function optimalSchedule(series: Series, params: BatteryParams, options: OptimiseOptions = {}): Schedule {
  const T = series.length;
  const schedule: Schedule = { chargeKwh: new Float64Array(T), dischargeKwh: new Float64Array(T) };
  if (T === 0) return schedule;
  const grid = new Grid(series, params, options.gridSteps ?? defaultGridSteps(series, params));
  const block = Math.max(1, Math.ceil(Math.sqrt(T)));
  // Cost-to-go at every block boundary: checkpoints[b] is V at interval b·block (V at T is 0).
  const checkpoints: Float64Array[] = [];
  let next = new Float64Array(grid.K + 1);
  let current = new Float64Array(grid.K + 1);
  for (let t = T - 1; t >= 0; t--) {
    if ((t + 1) % block === 0 && t + 1 < T) checkpoints[(t + 1) / block] = next.slice();
    grid.backward(t, next, current);
    [next, current] = [current, next];
  }

  const { minSoc } = limitsOf(params);
  let soc = options.startSocKwh ?? minSoc;
  const blockValues = Array.from({ length: block }, () => new Float64Array(grid.K + 1));
  const terminal = new Float64Array(grid.K + 1);
  const wanted = Math.min(T, options.actionsFor ?? T);
  for (let start = 0; start < wanted; start += block) {
    const end = Math.min(start + block, T);
    // blockValues[i] = V at interval start + i + 1, recomputed from the next checkpoint.
    let after = end === T ? terminal : checkpoints[end / block]!;
    for (let t = end - 1; t >= start; t--) {
      blockValues[t - start]!.set(after);
      if (t > start) {
        grid.backward(t, after, blockValues[t - start - 1]!);
        after = blockValues[t - start - 1]!;
      }
    }
    for (let t = start; t < Math.min(end, wanted); t++) {
      const delta = grid.forward(t, soc, blockValues[t - start]!);
      const { oneWay } = grid;
      if (delta > 0) schedule.chargeKwh[t] = Math.min(delta / oneWay, params.chargeKw * series.hours[t]!);
      else if (delta < 0) schedule.dischargeKwh[t] = Math.min(-delta * oneWay, grid.maxDelivery(t));
      soc += schedule.chargeKwh[t]! * oneWay - schedule.dischargeKwh[t]! / oneWay;
      soc = Math.min(Math.max(soc, minSoc), params.capacityKwh);
    }
  }
  return schedule;
}

function defaultGridSteps(series: Series, params: BatteryParams): number {
  const { oneWay, minSoc, maxSoc } = limitsOf(params);
  let shortest = Infinity;
  for (let t = 0; t < series.length; t++) shortest = Math.min(shortest, series.hours[t]!);
  // The smaller move in the cells either way sets the grid: a full interval's charge or discharge.
  const fullCharge = Math.min(params.chargeKw * shortest * oneWay, (params.dischargeKw * shortest) / oneWay);
  const steps = Math.round(((maxSoc - minSoc) / fullCharge) * STEPS_PER_FULL_CHARGE);
  return Math.min(MAX_GRID_STEPS, Math.max(MIN_GRID_STEPS, steps));
}

/** The state grid and one interval's moves on it. Δ is the change of stored energy (kWh, cells side). */
class Grid {
  readonly K: number;
  readonly oneWay: number;
  private readonly step: number;
  private readonly minSoc: number;
  /** Scratch: stage cost of a move of j grid steps, at index j + offset. */
  private costs = new Float64Array(0);
  private offset = 0;
  private readonly kinkDelta = new Float64Array(4);
  /** kinkDelta in grid steps, worked out once per interval rather than once per state. */
  private readonly kinkSteps = new Float64Array(4);
  private readonly kinkCost = new Float64Array(4);
  private kinks = 0;
  private up = 0;
  private down = 0;

  private readonly series: Series;
  private readonly params: BatteryParams;

  constructor(series: Series, params: BatteryParams, steps: number) {
    this.series = series;
    this.params = params;
    const { oneWay, minSoc, maxSoc } = limitsOf(params);
    this.K = steps;
    this.oneWay = oneWay;
    this.minSoc = minSoc;
    this.step = (maxSoc - minSoc) / steps;
  }

  maxDelivery(t: number): number {
    return Math.min(this.params.dischargeKw * this.series.hours[t]!, exportRoom(this.series, t, this.params));
  }

  /** The stage cost of changing the stored energy by `delta` in interval t. */
  private stageCost(t: number, delta: number): number {
    const d = this.series.demandKwh[t]!;
    const n = delta >= 0 ? d + delta / this.oneWay : d + delta * this.oneWay;
    return gridCost(n, this.series.importPrice[t]!, this.series.feedInPrice[t]!);
  }

  /** Fills the move costs and the exact (off-grid) moves of interval t. */
  private prepare(t: number): void {
    const maxIn = this.params.chargeKw * this.series.hours[t]! * this.oneWay;
    const maxOut = this.maxDelivery(t) / this.oneWay;
    this.up = Math.min(this.K, Math.floor(maxIn / this.step + 1e-9));
    this.down = Math.min(this.K, Math.floor(maxOut / this.step + 1e-9));
    const size = this.up + this.down + 1;
    if (this.costs.length < size) this.costs = new Float64Array(size * 2);
    this.offset = this.down;
    for (let j = -this.down; j <= this.up; j++) this.costs[j + this.offset] = this.stageCost(t, j * this.step);
    this.kinks = 0;
    const d = this.series.demandKwh[t]!;
    const exact = (delta: number) => {
      if (delta > maxIn + 1e-12 || -delta > maxOut + 1e-12 || delta === 0) return;
      if (Math.abs(delta / this.step - Math.round(delta / this.step)) < 1e-9) return; // already a grid move
      this.kinkDelta[this.kinks] = delta;
      this.kinkSteps[this.kinks] = delta / this.step;
      this.kinkCost[this.kinks] = this.stageCost(t, delta);
      this.kinks += 1;
    };
    exact(maxIn);
    exact(-maxOut);
    if (d > 0) exact(-d / this.oneWay); // deliver exactly the load
    else if (d < 0) exact(-d * this.oneWay); // store exactly the surplus
  }

  /** V_t on the grid from V_{t+1} (`next`) into `out`. */
  backward(t: number, next: Float64Array, out: Float64Array): void {
    this.prepare(t);
    const { K, costs, offset, up, down, kinks, kinkSteps, kinkCost } = this;
    for (let k = 0; k <= K; k++) {
      const lo = k - down < 0 ? -k : -down;
      const hi = k + up > K ? K - k : up;
      let best = Infinity;
      for (let j = lo; j <= hi; j++) {
        const v = next[k + j]! + costs[j + offset]!;
        if (v < best) best = v;
      }
      for (let i = 0; i < kinks; i++) {
        const position = k + kinkSteps[i]!;
        if (position < 0 || position > K) continue;
        const v = interpolate(next, position, K) + kinkCost[i]!;
        if (v < best) best = v;
      }
      out[k] = best;
    }
  }

  /** The best change of stored energy in interval t from state of charge `soc`, given V_{t+1}. */
  forward(t: number, soc: number, next: Float64Array): number {
    this.prepare(t);
    const { K, step, kinks, kinkDelta, kinkCost } = this;
    const position = Math.min(Math.max((soc - this.minSoc) / step, 0), K);
    let bestDelta = 0;
    let best = interpolate(next, position, K) + this.stageCost(t, 0);
    const consider = (delta: number, cost: number) => {
      const target = position + delta / step;
      if (target < -1e-9 || target > K + 1e-9) return;
      const v = interpolate(next, Math.min(Math.max(target, 0), K), K) + cost;
      if (v < best - TIE) {
        best = v;
        bestDelta = delta;
      }
    };
    const maxIn = this.params.chargeKw * this.series.hours[t]! * this.oneWay;
    const maxOut = this.maxDelivery(t) / this.oneWay;
    const first = Math.max(0, Math.ceil(position - maxOut / step - 1e-9));
    const last = Math.min(K, Math.floor(position + maxIn / step + 1e-9));
    for (let k = first; k <= last; k++) {
      const delta = Math.min(Math.max((k - position) * step, -maxOut), maxIn);
      if (delta !== 0) consider(delta, this.stageCost(t, delta));
    }
    for (let i = 0; i < kinks; i++) consider(kinkDelta[i]!, kinkCost[i]!);
    return bestDelta;
  }
}

function interpolate(values: Float64Array, position: number, K: number): number {
  const below = Math.floor(position);
  if (below >= K) return values[K]!;
  const share = position - below;
  return share === 0 ? values[below]! : values[below]! * (1 - share) + values[below + 1]! * share;
}
