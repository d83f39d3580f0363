/**
 * The fake wholesale market: spot price, renewables share and spike state of any interval, as pure
 * functions of (seed, region, time). Everything is computed at 5-minute granularity; a 30-minute interval
 * is the average of its six 5-minute intervals, the way NEM settlement averages dispatch prices.
 *
 * The shape is meant to look like a southern-state NEM region: a modest morning bump, a solar trough at
 * midday that goes negative on sunny days, an evening peak that is higher in winter, and on a few days a
 * price spike in the evening.
 */
import { Stream, gaussian, hashString, unit } from './hash.ts';
import { MINUTE_MS, nemDayOfInstant, nemDayStartMs, nemHourOfDay } from './nem-time.ts';

export type SpikeStatus = 'none' | 'potential' | 'spike';
export type PriceDescriptor = 'extremelyLow' | 'veryLow' | 'low' | 'neutral' | 'high' | 'spike';
export type TariffPeriod = 'offPeak' | 'shoulder' | 'solarSponge' | 'peak';

/** Spot above this (c/kWh, i.e. $300/MWh) counts as a spike. */
const SPIKE_THRESHOLD = 30;
/** Share of days with an evening price spike. */
const SPIKE_DAY_PROBABILITY = 0.06;
/** A forecast or current interval is flagged `potential` when a spike begins within this long after it. */
const SPIKE_WARNING_MS = 60 * MINUTE_MS;
const FIVE_MINUTES_MS = 5 * MINUTE_MS;
const HALF_HOUR_MS = 30 * MINUTE_MS;

export interface Market {
  readonly seed: number;
  readonly region: number;
  /** Per-NEM-day facts, memoised: every interval of a day needs them and they never change. */
  readonly days: Map<number, DayFacts>;
}

interface DayFacts {
  /** 0.3 (overcast) to 1.3 (clear summer day). */
  sunshine: number;
  /** 0..1, how windy. */
  wind: number;
  winter: number;
  spike: SpikeEvent | null;
}

/** Bounds the memo of a long-running CLI server. */
const MAX_MEMOISED_DAYS = 10_000;

/** A market is identified by the seed and a region name (the fake uses the site's network name). */
export function createMarket(seed: number, regionName: string): Market {
  return { seed, region: hashString(regionName), days: new Map() };
}

function dayFacts(market: Market, day: number): DayFacts {
  let facts = market.days.get(day);
  if (facts) return facts;
  const winter = winterness(day);
  const clearness = 0.55 + 0.75 * unit(market.seed, Stream.solarDay, market.region, day);
  facts = {
    sunshine: clearness * (1 - 0.3 * winter),
    wind: unit(market.seed, Stream.windDay, market.region, day),
    winter,
    spike: spikeEventOfDay(market, day),
  };
  if (market.days.size >= MAX_MEMOISED_DAYS) market.days.clear();
  market.days.set(day, facts);
  return facts;
}

export interface MarketInterval {
  /** NEM spot price, c/kWh including GST, unrounded. */
  spot: number;
  /** Renewables share of the grid, percent, unrounded. */
  renewables: number;
  spikeStatus: SpikeStatus;
  period: TariffPeriod;
}

/** The market state of the interval `[endMs − duration, endMs)`. */
export function marketInterval(market: Market, endMs: number, durationMin: number): MarketInterval {
  const startMs = endMs - durationMin * MINUTE_MS;
  let spot = 0;
  let renewables = 0;
  const steps = Math.max(1, Math.round(durationMin / 5));
  for (let i = 1; i <= steps; i++) {
    const subEnd = startMs + i * FIVE_MINUTES_MS;
    spot += spotOfFiveMinutes(market, subEnd);
    renewables += renewablesOfFiveMinutes(market, subEnd);
  }
  spot /= steps;
  renewables /= steps;
  return {
    spot,
    renewables,
    spikeStatus: spikeStatusOf(market, startMs, endMs, spot),
    period: tariffPeriodAt((startMs + endMs) / 2),
  };
}

/**
 * Network time-of-use period at an instant (NEM local time). Boundaries fall on whole hours, so one period
 * covers every 5- and 30-minute interval, which keeps channel prices linear in the spot price.
 */
function tariffPeriodAt(ms: number): TariffPeriod {
  const hour = nemHourOfDay(ms);
  if (hour >= 16 && hour < 21) return 'peak';
  if (hour >= 10 && hour < 14) return 'solarSponge';
  if ((hour >= 7 && hour < 10) || (hour >= 14 && hour < 16) || (hour >= 21 && hour < 22)) return 'shoulder';
  return 'offPeak';
}

/** Amber's price descriptor, from the spot price, identical on every channel of an interval. */
export function descriptorOf(spot: number): PriceDescriptor {
  if (spot < 0.5) return 'extremelyLow';
  if (spot < 13) return 'veryLow';
  if (spot < 20) return 'low';
  if (spot < 30) return 'neutral';
  if (spot < 100) return 'high';
  return 'spike';
}

/** Renewable descriptor for the `/state/.../renewables` endpoint. */
export function renewableDescriptorOf(renewables: number): 'best' | 'great' | 'ok' | 'notGreat' | 'worst' {
  if (renewables >= 80) return 'best';
  if (renewables >= 60) return 'great';
  if (renewables >= 40) return 'ok';
  if (renewables >= 20) return 'notGreat';
  return 'worst';
}

/** How much sun a NEM day gets, 0.3 (overcast) to 1.3 (clear summer day). Also drives rooftop solar. */
export function sunshineOfDay(market: Market, day: number): number {
  return dayFacts(market, day).sunshine;
}

/** +1 in mid-winter (July), −1 in mid-summer (January). */
export function winterness(day: number): number {
  const dayOfYear = ((day % 365.2425) + 365.2425) % 365.2425;
  return Math.cos((2 * Math.PI * (dayOfYear - 196)) / 365.2425);
}

/** A bell curve in hours of the day. */
export function bell(hour: number, centre: number, width: number): number {
  const z = (hour - centre) / width;
  return Math.exp(-0.5 * z * z);
}

function spotOfFiveMinutes(market: Market, endMs: number): number {
  const midMs = endMs - FIVE_MINUTES_MS / 2;
  const hour = nemHourOfDay(midMs);
  const facts = dayFacts(market, nemDayOfInstant(midMs));
  const diurnal =
    7 + 7 * bell(hour, 7.5, 1.3) + 20 * (1 + 0.4 * facts.winter) * bell(hour, 18.5, 1.7) - 10 * facts.sunshine * bell(hour, 12.5, 2.6);
  const jitter = 0.8 * gaussian(market.seed, Stream.priceNoiseFast, market.region, endMs / FIVE_MINUTES_MS);
  return diurnal + slowNoise(market, midMs) + jitter + spikeAddition(market, facts.spike, endMs);
}

/** Smooth noise: random values at half-hour knots, interpolated with a smoothstep, so prices wander. */
function slowNoise(market: Market, ms: number): number {
  const knot = Math.floor(ms / HALF_HOUR_MS);
  const t = (ms - knot * HALF_HOUR_MS) / HALF_HOUR_MS;
  const eased = t * t * (3 - 2 * t);
  const a = gaussian(market.seed, Stream.priceNoiseSlow, market.region, knot);
  const b = gaussian(market.seed, Stream.priceNoiseSlow, market.region, knot + 1);
  return 2.5 * (a + (b - a) * eased);
}

interface SpikeEvent {
  startMs: number;
  endMs: number;
  /** Peak addition to the spot price, c/kWh. */
  magnitude: number;
}

/** The evening spike of a NEM day, if that day has one. */
function spikeEventOfDay(market: Market, day: number): SpikeEvent | null {
  if (unit(market.seed, Stream.spikeDay, market.region, day) >= SPIKE_DAY_PROBABILITY) return null;
  const shape = (i: number) => unit(market.seed, Stream.spikeShape, market.region, day, i);
  const startSlot = Math.floor(shape(0) * 42); // 16:30 + up to 3.5 h, in 5-minute slots
  const lengthSlots = 2 + Math.floor(shape(1) * 17); // 10 to 90 minutes
  const startMs = nemDayStartMs(day) + (16.5 * 60 + startSlot * 5) * MINUTE_MS;
  return { startMs, endMs: startMs + lengthSlots * FIVE_MINUTES_MS, magnitude: 60 + 1400 * shape(2) ** 3 };
}

/**
 * Makes `[startMs, endMs)` the spike of its NEM day in this market, replacing any the seed gave that day:
 * tests that need a spike at a known moment (alerts) force one. `magnitude` is the peak addition to the
 * spot price in c/kWh; each 5-minute interval gets 55–100 % of it.
 */
export function forceSpike(market: Market, startMs: number, endMs: number, magnitude: number): void {
  dayFacts(market, nemDayOfInstant(startMs)).spike = { startMs, endMs, magnitude };
}

function spikeAddition(market: Market, event: SpikeEvent | null, endMs: number): number {
  if (!event || endMs <= event.startMs || endMs > event.endMs) return 0;
  const wobble = unit(market.seed, Stream.spikeShape, market.region, endMs / FIVE_MINUTES_MS);
  return event.magnitude * (0.55 + 0.45 * wobble);
}

function spikeStatusOf(market: Market, startMs: number, endMs: number, spot: number): SpikeStatus {
  const event = dayFacts(market, nemDayOfInstant(startMs)).spike;
  if (!event) return 'none';
  const overlaps = startMs < event.endMs && endMs > event.startMs;
  if (overlaps) return spot >= SPIKE_THRESHOLD ? 'spike' : 'potential';
  const leadMs = event.startMs - endMs;
  return leadMs >= 0 && leadMs < SPIKE_WARNING_MS ? 'potential' : 'none';
}

function renewablesOfFiveMinutes(market: Market, endMs: number): number {
  const midMs = endMs - FIVE_MINUTES_MS / 2;
  const facts = dayFacts(market, nemDayOfInstant(midMs));
  const solar = 45 * facts.sunshine * bell(nemHourOfDay(midMs), 12.5, 3);
  const value = 12 + 30 * facts.wind + solar + 2 * slowNoise(market, midMs + 7 * MINUTE_MS);
  return Math.min(99.5, Math.max(0.5, value));
}
