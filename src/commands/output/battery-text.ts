/**
 * A battery's parameters in one phrase, as `battery` and `compare` print them above their figures.
 */
import type { BatteryParams } from '../../domain/battery-limits.ts';

export function describeBattery(b: BatteryParams): string {
  const power = b.chargeKw === b.dischargeKw ? `${b.chargeKw} kW` : `${b.chargeKw} kW charge / ${b.dischargeKw} kW discharge`;
  return `${b.capacityKwh} kWh, ${power}, ${Math.round(b.efficiency * 100)}% round trip, ${Math.round(b.reserve * 100)}% reserve${b.exportLimitKw === null ? '' : `, export limit ${b.exportLimitKw} kW`}`;
}
