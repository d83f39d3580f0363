/**
 * `/state/{state}/renewables/current` (API-NOTES §2.5, §4.11): the grid's renewables share for a state,
 * previous actuals, the current interval and forecasts. No auth; not needed by the collector but served
 * so the fake covers the whole API.
 */
import { styleNumber } from './hash.ts';
import { createMarket, marketInterval, renewableDescriptorOf } from './market.ts';
import { MINUTE_MS, formatNemDate, formatNemTime, formatUtc, intervalEndContaining, nemDayOfIntervalEnd } from './nem-time.ts';

export const STATES = ['nsw', 'sa', 'qld', 'vic'] as const;

export interface RenewableJson {
  type: 'ActualRenewable' | 'CurrentRenewable' | 'ForecastRenewable';
  duration: number;
  date: string;
  nemTime: string;
  startTime: string;
  endTime: string;
  renewables: number;
  descriptor: string;
}

export function renewableRows(
  seed: number,
  state: string,
  nowMs: number,
  options: { previous: number; next: number; resolution: number },
): RenewableJson[] {
  const market = createMarket(seed, `state:${state}`);
  const stepMs = options.resolution * MINUTE_MS;
  const currentEndMs = intervalEndContaining(nowMs, options.resolution);
  const rows: RenewableJson[] = [];
  for (let k = -options.previous; k <= options.next; k++) {
    const endMs = currentEndMs + k * stepMs;
    const raw = marketInterval(market, endMs, options.resolution).renewables;
    const renewables = styleNumber(raw, 3, seed, 4, market.region, endMs / MINUTE_MS);
    rows.push({
      type: k < 0 ? 'ActualRenewable' : k === 0 ? 'CurrentRenewable' : 'ForecastRenewable',
      duration: options.resolution,
      date: formatNemDate(nemDayOfIntervalEnd(endMs)),
      nemTime: formatNemTime(endMs),
      startTime: formatUtc(endMs - stepMs + 1000),
      endTime: formatUtc(endMs),
      renewables,
      descriptor: renewableDescriptorOf(renewables),
    });
  }
  return rows;
}
