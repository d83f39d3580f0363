/**
 * What one site's topics hold after a cycle, as topic → payload (pure). Prices are `/api/prices/current`'s
 * numbers in $/kWh (feed-in as earned, like Home Assistant's Amber integration); a value not known yet is
 * `None`, which Home Assistant shows as "unknown".
 */
import type { PriceInterval } from '../domain/models.ts';
import type { PricesNow, StoredPrice } from '../query/current.ts';
import { customerDollars } from '../domain/customer-price.ts';
import { descriptorSlug, forecastEntries } from '../query/core-forecast.ts';
import { forecastAttributes } from './forecast-list.ts';
import type { Topics } from './topics.ts';

/** Home Assistant's MQTT sensor turns this payload into "unknown". */
const UNKNOWN = 'None';

export interface SiteHealth {
  /** When prices were last fetched successfully for this site, ISO 8601; null before the first time. */
  lastSuccessfulCycle: string | null;
  /** Streams (prices, usage) whose last fetch failed or that are stale. */
  streamsFailing: number;
  /** The least complete stream's share of the wanted history, 0–100. */
  backfillPercent: number;
}

export interface SiteCostToday {
  /** The NEM day, and its start (the cost sensor's last reset). */
  date: string;
  lastReset: string;
  /** Dollars billed so far today (import minus feed-in earnings); null until usage for today arrives. */
  dollars: number | null;
  intervals: number;
}

export interface SiteStateInput {
  siteId: string;
  prices: PricesNow;
  /** The intervals this cycle fetched (Amber's range and advanced price as fetched; the archive keeps them too). */
  snapshot: readonly PriceInterval[];
  cost: SiteCostToday;
  health: SiteHealth;
}

export function siteStates(input: SiteStateInput, topics: Topics): Map<string, string> {
  const states = new Map<string, string>();
  const { siteId, prices } = input;
  for (const channel of prices.channels) {
    const type = channel.channelType;
    const topic = (state: Parameters<Topics['channel']>[2]) => topics.channel(siteId, type, state);
    const money = (price: StoredPrice | null | undefined) => (price ? String(customerDollars(type, price.perKwh)) : UNKNOWN);
    const forecast = prices.forecast.filter((price) => price.channelType === type);
    const entries = forecastEntries(forecast, input.snapshot);
    const current = channel.current;
    states.set(topic('price'), money(current));
    states.set(topic('next_price'), money(forecast[0]));
    states.set(topic('settled_price'), money(channel.latestActual));
    states.set(topic('spike_status'), current?.spikeStatus ?? UNKNOWN);
    states.set(topic('descriptor'), descriptorSlug(current?.descriptor ?? null) ?? UNKNOWN);
    states.set(topic('renewables'), current ? String(Math.round(current.renewables * 10) / 10) : UNKNOWN);
    states.set(topic('forecast'), forecastAttributes(entries, topic('forecast_full')));
    states.set(topic('forecast_full'), JSON.stringify({ forecasts: entries, fetched_at: prices.forecastFetchedAt }));
  }
  const { cost, health } = input;
  states.set(topics.site(siteId, 'cost_today'), JSON.stringify({ cost: cost.dollars, last_reset: cost.lastReset, date: cost.date, intervals: cost.intervals }));
  states.set(
    topics.site(siteId, 'health'),
    JSON.stringify({
      last_successful_cycle: health.lastSuccessfulCycle,
      streams_failing: health.streamsFailing,
      backfill_percent: health.backfillPercent,
    }),
  );
  return states;
}
