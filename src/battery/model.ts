/**
 * The battery model every strategy is scored on (README, "Battery what-if"). Per interval t of a series:
 * net demand `d` (kWh imported minus kWh exported at the meter without a battery), import price `p` and
 * feed-in price `f` (c/kWh; exporting x kWh costs f·x, so a negative f earns), and its length in hours.
 *
 * A battery of capacity C keeps its state of charge in [reserve·C, C], starts at reserve·C (or a starting
 * charge given) and ends at least at the reserve
 * there. In each interval it either charges (`charge` kWh drawn at the meter, of which √η is stored) or
 * discharges (`discharge` kWh delivered at the meter, √η of what leaves the cells), at most the charge
 * power·hours in, the discharge power·hours out. The battery moves the interval's grid flow to
 * n = d + charge − discharge; the bill prices the import and export registers apart (`meteredCost`):
 * p·(max(n,0) + o) + f·(max(−n,0) + o), where o is what was metered on both registers at once. With an export
 * limit L (kW) the battery may not push the export past L·hours (solar alone
 * may, as the data says it did).
 */
import type { BatteryParams } from '../domain/battery-limits.ts';
import { intervalCents, registersAfterNetChange } from '../domain/pricing.ts';

export type { BatteryParams } from '../domain/battery-limits.ts';

/** The intervals a strategy sees, column-wise (typed arrays keep a year of 5-minute data small and fast). */
export interface Series {
  length: number;
  /** Interval starts, ms since the epoch. */
  startMs: Float64Array;
  hours: Float64Array;
  /** Net demand d = import − export, kWh. */
  demandKwh: Float64Array;
  importPrice: Float64Array;
  feedInPrice: Float64Array;
  /**
   * The metered registers, kWh: what was imported and exported (a magnitude) in each interval, which may
   * both be above 0 in one interval. Absent for a forecast's series, whose demand is all there is.
   */
  importKwh?: Float64Array;
  exportKwh?: Float64Array;
}

/** What the battery does in each interval, in kWh at the meter; one of the two is 0. */
export interface Schedule {
  chargeKwh: Float64Array;
  dischargeKwh: Float64Array;
}

export interface Scored {
  costCents: number;
  /** State of charge at the end of each interval, kWh. */
  socKwh: Float64Array;
}

/** Battery limits derived from the parameters. */
export interface Limits {
  /** Charge and discharge efficiency, each √(round trip). */
  oneWay: number;
  minSoc: number;
  maxSoc: number;
}

export function limitsOf(params: BatteryParams): Limits {
  return { oneWay: Math.sqrt(params.efficiency), minSoc: params.reserve * params.capacityKwh, maxSoc: params.capacityKwh };
}

/** The cost of one interval's grid flow `n` kWh. */
export function gridCost(n: number, importPrice: number, feedInPrice: number): number {
  return n >= 0 ? importPrice * n : -feedInPrice * n;
}

/** Most kWh the battery may deliver at the meter in interval `t` under the export limit (Infinity without one). */
export function exportRoom(series: Series, t: number, params: BatteryParams): number {
  if (params.exportLimitKw === null) return Infinity;
  // The export after delivering e is e − d; only what stays within L·hours is allowed (none when solar alone reaches it).
  return Math.max(0, series.demandKwh[t]! + params.exportLimitKw * series.hours[t]!);
}

/**
 * What interval `t` is billed when the battery turns its net grid flow into `n` kWh: import and export
 * priced apart, as Amber bills them (domain/pricing.ts), with what was metered on both registers at once
 * kept as metered. That overlap costs the same whatever the battery does, so this differs from `gridCost`
 * by a constant per interval and the strategies, which minimise `gridCost`, choose the same schedules.
 */
function meteredCost(series: Series, t: number, n: number): number {
  const both = series.importKwh !== undefined && series.exportKwh !== undefined ? Math.min(series.importKwh[t]!, series.exportKwh[t]!) : 0;
  return intervalCents({ ...registersAfterNetChange(both, n), importPrice: series.importPrice[t]!, feedInPrice: series.feedInPrice[t]! });
}

/** The cost without a battery: the bill of the metered registers, each at its own price (`query costs` for the same channels). */
export function baselineCost(series: Series): number {
  let cost = 0;
  for (let t = 0; t < series.length; t++) {
    const metered = series.importKwh !== undefined && series.exportKwh !== undefined;
    cost += metered
      ? intervalCents({ importKwh: series.importKwh![t]!, exportKwh: series.exportKwh![t]!, importPrice: series.importPrice[t]!, feedInPrice: series.feedInPrice[t]! })
      : meteredCost(series, t, series.demandKwh[t]!);
  }
  return cost;
}

/** Relative slack for floating-point rounding in feasibility checks. */
const TOLERANCE = 1e-9;

/**
 * Scores a schedule against the model, starting at `startSocKwh` (default the reserve). Throws on an
 * infeasible schedule: a strategy that produces one has a bug, and a wrong number must not be reported.
 */
export function score(series: Series, params: BatteryParams, schedule: Schedule, startSocKwh?: number): Scored {
  const { oneWay, minSoc, maxSoc } = limitsOf(params);
  const socKwh = new Float64Array(series.length);
  const slack = TOLERANCE * Math.max(1, params.capacityKwh);
  let soc = startSocKwh ?? minSoc;
  let cost = 0;
  for (let t = 0; t < series.length; t++) {
    const charge = schedule.chargeKwh[t]!;
    const discharge = schedule.dischargeKwh[t]!;
    const maxIn = params.chargeKw * series.hours[t]! + slack;
    const maxOut = params.dischargeKw * series.hours[t]! + slack;
    if (charge < 0 || discharge < 0 || (charge > 0 && discharge > 0) || charge > maxIn || discharge > maxOut) {
      throw new Error(`infeasible schedule at interval ${t}: charge ${charge} (limit ${maxIn}), discharge ${discharge} (limit ${maxOut})`);
    }
    if (discharge > exportRoom(series, t, params) + slack) throw new Error(`infeasible schedule at interval ${t}: discharge ${discharge} exceeds the export limit`);
    soc += charge * oneWay - discharge / oneWay;
    if (soc < minSoc - slack || soc > maxSoc + slack) throw new Error(`infeasible schedule at interval ${t}: state of charge ${soc} outside [${minSoc}, ${maxSoc}]`);
    socKwh[t] = soc;
    cost += meteredCost(series, t, series.demandKwh[t]! + charge - discharge);
  }
  return { costCents: cost, socKwh };
}
