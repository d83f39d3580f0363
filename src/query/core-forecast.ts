/**
 * The forecast in the shape of Home Assistant's core Amber integration (`forecasts: [{start_time, end_time,
 * per_kwh, spot_per_kwh, …}]`), which HAEO, cheapest-energy-hours and similar automations already read: the one
 * builder behind the MQTT forecast topics (mqtt/forecast-list.ts) and the read API's `/api/feeds/forecast`. Money
 * is in $/kWh, and on feed-in `per_kwh` is what exporting earns (the core integration's sign: positive when you
 * are paid), the opposite of Amber's raw feed-in sign.
 */
import { customerDollars, dollarsPerKwh } from '../domain/customer-price.ts';
import type { PriceInterval } from '../domain/models.ts';
import { nemIsoInstant } from '../domain/nem-time.ts';
import { fromArchive, type StoredPrice } from './current.ts';
import type { ArchivedPrice } from './forecast-archive.ts';

export interface ForecastEntry {
  start_time: string;
  end_time: string;
  duration: number;
  per_kwh: number;
  spot_per_kwh: number;
  renewables: number;
  spike_status: string;
  descriptor: string | null;
  estimate?: boolean;
  range_min?: number;
  range_max?: number;
  advanced_price_low?: number;
  advanced_price_predicted?: number;
  advanced_price_high?: number;
}

/** Amber's camelCase descriptor as the core integration shows it (`extremelyLow` → `extremely_low`). */
export function descriptorSlug(descriptor: string | null): string | null {
  return descriptor === null ? null : descriptor.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** What an entry takes from a fetched (or archived) interval beyond the stored price: Amber's range and advanced price. */
export type IntervalExtras = Pick<PriceInterval, 'channelType' | 'endTime' | 'range' | 'advancedPrice'>;

/**
 * One entry per forecast interval, from the stored forecast (the numbers `/api/prices/current` returns), with
 * Amber's range and advanced price added from the snapshot the cycle fetched, where it has them.
 */
export function forecastEntries(forecast: readonly StoredPrice[], snapshot: readonly IntervalExtras[]): ForecastEntry[] {
  const extras = new Map(snapshot.map((interval) => [`${interval.channelType}|${Date.parse(interval.endTime)}`, interval]));
  return forecast.map((price) => {
    const sent = extras.get(`${price.channelType}|${Date.parse(price.end)}`);
    const money = (cents: number) => customerDollars(price.channelType, cents);
    const entry: ForecastEntry = {
      start_time: price.start,
      end_time: price.end,
      duration: price.duration,
      per_kwh: money(price.perKwh),
      spot_per_kwh: dollarsPerKwh(price.spotPerKwh),
      renewables: Math.round(price.renewables),
      spike_status: price.spikeStatus,
      descriptor: descriptorSlug(price.descriptor),
    };
    if (price.estimate !== null) entry.estimate = price.estimate;
    if (sent?.range) {
      const [low, high] = [money(sent.range.min), money(sent.range.max)].sort((a, b) => a - b);
      entry.range_min = low!;
      entry.range_max = high!;
    }
    const advanced = sent?.advancedPrice;
    if (advanced) {
      entry.advanced_price_low = money(advanced.low);
      if (advanced.predicted !== null) entry.advanced_price_predicted = money(advanced.predicted);
      entry.advanced_price_high = money(advanced.high);
    }
    return entry;
  });
}

/** The same entries built from the forecast archive alone (the read API's `/api/feeds/forecast`), range and advanced price as archived. */
export function archivedForecastEntries(archived: readonly ArchivedPrice[]): ForecastEntry[] {
  const extras = archived.map((price) => ({ channelType: price.channelType, endTime: nemIsoInstant(price.endMs), range: price.range, advancedPrice: price.advancedPrice }));
  return forecastEntries(archived.map(fromArchive), extras);
}
