/**
 * What most home batteries do out of the box: store the solar surplus, and cover the load from storage,
 * never trading with the grid. Prices play no part.
 */
import { limitsOf, type BatteryParams, type Schedule, type Series } from './model.ts';

/** `startSocKwh` defaults to the reserve. */
export function selfConsumptionSchedule(series: Series, params: BatteryParams, startSocKwh?: number): Schedule {
  const { oneWay, minSoc, maxSoc } = limitsOf(params);
  const schedule: Schedule = { chargeKwh: new Float64Array(series.length), dischargeKwh: new Float64Array(series.length) };
  let soc = startSocKwh ?? minSoc;
  for (let t = 0; t < series.length; t++) {
    const d = series.demandKwh[t]!;
    if (d < 0) {
      const charge = Math.min(-d, params.chargeKw * series.hours[t]!, Math.max(0, (maxSoc - soc) / oneWay));
      schedule.chargeKwh[t] = charge;
      soc += charge * oneWay;
    } else if (d > 0) {
      const discharge = Math.min(d, params.dischargeKw * series.hours[t]!, Math.max(0, (soc - minSoc) * oneWay));
      schedule.dischargeKwh[t] = discharge;
      soc -= discharge / oneWay;
    }
  }
  return schedule;
}
