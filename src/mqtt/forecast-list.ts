/**
 * The forecast as the MQTT feed publishes it for Home Assistant: the core Amber integration's list
 * (query/core-forecast.ts), cut to what a state's attributes may hold.
 */
import type { ForecastEntry } from '../query/core-forecast.ts';

/**
 * Home Assistant's recorder drops a state's attributes over 16,384 bytes of JSON. The attributes topic stays
 * below this, leaving room for what Home Assistant adds itself (friendly name, unit, icon).
 */
export const ATTRIBUTES_BUDGET_BYTES = 15_000;

/**
 * The attributes payload: the first entries that fit in ATTRIBUTES_BUDGET_BYTES (about 4 hours of a 5-minute site,
 * the whole 48 hours of a 30-minute one), saying how many of the horizon's entries it holds.
 */
export function forecastAttributes(entries: readonly ForecastEntry[], fullTopic: string): string {
  const envelope = (count: number) =>
    JSON.stringify({ forecasts: entries.slice(0, count), intervals: count, horizon_intervals: entries.length, full_horizon_topic: fullTopic });
  const fits = (count: number) => Buffer.byteLength(envelope(count)) <= ATTRIBUTES_BUDGET_BYTES;
  // The most entries that fit: a binary search, about ten serialisations of at most the budget each.
  let [low, high] = [0, entries.length];
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return envelope(low);
}
