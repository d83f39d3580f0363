/**
 * Price intervals as the API serves them: ActualInterval for finished intervals, CurrentInterval for the
 * running one, ForecastInterval after it (API-NOTES §2.2, §4.3–4.6).
 *
 * Actual values depend only on (seed, site network, channel, interval), so past prices never change.
 * Forecasts are the actual price plus an error that shrinks as the interval approaches and that moves a
 * little with every minute of the data clock, so repeated polls see changing forecasts that converge.
 */
import { Stream, gaussian, roundTo, styleNumber, unit } from './hash.ts';
import { type MarketInterval, type TariffPeriod, descriptorOf, marketInterval } from './market.ts';
import {
  HOUR_MS,
  MINUTE_MS,
  formatNemDate,
  formatNemTime,
  formatUtc,
  intervalEndContaining,
  nemDayOfInstant,
  nemDayOfIntervalEnd,
  nemDayStartMs,
} from './nem-time.ts';
import type { ChannelType, SiteModel } from './sites.ts';

export type PriceIntervalType = 'ActualInterval' | 'CurrentInterval' | 'ForecastInterval';

export interface TariffInformationJson {
  period?: string;
  season?: string;
  demandWindow?: boolean;
}

/** One element of `/prices` or `/prices/current`, keys in the order the API emits them (API-NOTES §10). */
export interface PriceJson {
  type: PriceIntervalType;
  date: string;
  duration: number;
  startTime: string;
  endTime: string;
  nemTime: string;
  perKwh: number;
  renewables: number;
  spotPerKwh: number;
  channelType: ChannelType;
  spikeStatus: string;
  tariffInformation?: TariffInformationJson;
  descriptor: string;
  range?: { min: number; max: number };
  estimate?: boolean;
  advancedPrice?: { low: number; predicted: number; high: number };
}

/** An interval to price, with its market state and timestamps computed once and shared by every channel. */
export interface MarketSlot {
  endMs: number;
  duration: number;
  market: MarketInterval;
  date: string;
  startTime: string;
  endTime: string;
  nemTime: string;
}

/** Within this lead time forecasts carry Amber's `advancedPrice` band (API-NOTES §4.5: a rolling ~24 h). */
const ADVANCED_PRICE_HORIZON_MS = 24 * HOUR_MS;
/** `/prices/current` at resolution 5 switches to 30-minute forecasts after about an hour (API-NOTES §2.3). */
const FIVE_MINUTE_FORECAST_SPAN_MS = HOUR_MS;
/** A 30-minute CurrentInterval locks in during its last 5 minutes (API-NOTES §4.6). */
const HALF_HOUR_LOCK_REMAINING_MS = 5 * MINUTE_MS;

function slot(model: SiteModel, endMs: number, duration: number): MarketSlot {
  return {
    endMs,
    duration,
    market: marketInterval(model.market, endMs, duration),
    date: formatNemDate(nemDayOfIntervalEnd(endMs)),
    startTime: formatUtc(endMs - duration * MINUTE_MS + 1000), // always HH:MM:01Z (API-NOTES §3)
    endTime: formatUtc(endMs),
    nemTime: formatNemTime(endMs),
  };
}

/**
 * Forecasts exist up to the end of the next NEM day (AEMO pre-dispatch horizon); later intervals are not
 * returned at all, the way the live API "returns whatever it has" (API-NOTES §2.3).
 */
export function forecastHorizonEndMs(nowMs: number): number {
  return nemDayStartMs(nemDayOfInstant(nowMs) + 2);
}

/** The price a channel pays for a spot price: linear in spot, so averaging intervals commutes with it. */
function channelPerKwh(type: ChannelType, spot: number, period: TariffPeriod): number {
  switch (type) {
    case 'general':
      return NETWORK_GENERAL[period] + 2.6 + 1.05 * spot;
    case 'controlledLoad':
      return 3.9 + 1.8 + 1.05 * spot;
    case 'feedIn':
      // Negative means the customer is paid; positive when spot is negative (API-NOTES §5).
      return -1.03 * spot;
  }
}

/** Network charge for the general channel in each time-of-use period, c/kWh incl. GST. */
const NETWORK_GENERAL: Record<TariffPeriod, number> = { peak: 14.5, shoulder: 7.5, solarSponge: 2.5, offPeak: 5 };

const CHANNEL_INDEX: Record<ChannelType, number> = { general: 0, controlledLoad: 1, feedIn: 2 };

function tariffInformation(model: SiteModel, period: TariffPeriod): TariffInformationJson | null {
  switch (model.tariffStyle) {
    case 'timeOfUse':
      return { period, season: 'default' };
    case 'demand':
      return { demandWindow: false };
    case 'none':
      return null;
  }
}

/** Renewables look like the live field: mostly 3 decimals, sometimes the full double (API-NOTES §4). */
function styleRenewables(value: number, ...coordinates: number[]): number {
  if (unit(Stream.numberStyle, 99, ...coordinates) < 0.1) return value;
  return styleNumber(value, 3, ...coordinates);
}

interface Deviation {
  /** Forecast minus actual spot, c/kWh. */
  spotDelta: number;
  /** CurrentInterval only: the price is still an estimate. */
  estimate: boolean;
  /** How far ahead the interval starts, 0 for the current one. */
  leadMs: number;
}

function deviationOf(model: SiteModel, s: MarketSlot, nowMs: number): Deviation {
  const startMs = s.endMs - s.duration * MINUTE_MS;
  const index = s.endMs / (5 * MINUTE_MS);
  const everyMinute = Math.floor(nowMs / MINUTE_MS);
  const spotScale = Math.abs(s.market.spot);
  if (startMs > nowMs) {
    const leadMs = startMs - nowMs;
    const amplitude = (1.2 + 0.2 * spotScale) * Math.sqrt(Math.min(1, leadMs / (12 * HOUR_MS)));
    // A slow part that changes with each half-hourly forecast run, plus a little jitter on every minute.
    const run = gaussian(model.seed, Stream.forecastError, model.market.region, index, s.duration, Math.floor(nowMs / (30 * MINUTE_MS)));
    const jitter = gaussian(model.seed, Stream.forecastError, model.market.region, index, s.duration, everyMinute, 1);
    return { spotDelta: amplitude * (0.8 * run + 0.35 * jitter), estimate: true, leadMs };
  }
  const remainingMs = s.endMs - nowMs;
  const durationMs = s.duration * MINUTE_MS;
  // 5-minute prices lock 15–60 s into the interval; 30-minute ones in their last 5 minutes (API-NOTES §4.6).
  const lockDelayMs = 15_000 + 45_000 * unit(model.seed, Stream.currentLock, model.market.region, index);
  const locked = s.duration >= 30 ? remainingMs <= HALF_HOUR_LOCK_REMAINING_MS : nowMs - startMs >= lockDelayMs;
  if (locked) return { spotDelta: 0, estimate: false, leadMs: 0 };
  const amplitude = (0.6 + 0.1 * spotScale) * (remainingMs / durationMs);
  const noise = gaussian(model.seed, Stream.forecastError, model.market.region, index, s.duration, everyMinute, 2);
  return { spotDelta: amplitude * noise, estimate: true, leadMs: 0 };
}

/** What every channel of one interval shares, as seen at one instant of the data clock. */
interface SlotView {
  slot: MarketSlot;
  kind: PriceIntervalType;
  /** Null for actuals. */
  deviation: Deviation | null;
  /** Unrounded spot (forecast spot for forecasts), for channel prices. */
  spot: number;
  spotPerKwh: number;
  renewables: number;
  descriptor: string;
  range: { min: number; max: number } | null;
}

function viewOf(model: SiteModel, s: MarketSlot, nowMs: number): SlotView {
  const startMs = s.endMs - s.duration * MINUTE_MS;
  const kind: PriceIntervalType = s.endMs <= nowMs ? 'ActualInterval' : startMs <= nowMs ? 'CurrentInterval' : 'ForecastInterval';
  const deviation = kind === 'ActualInterval' ? null : deviationOf(model, s, nowMs);
  const spot = s.market.spot + (deviation?.spotDelta ?? 0);
  const minute = s.endMs / MINUTE_MS;
  return {
    slot: s,
    kind,
    deviation,
    spot,
    spotPerKwh: styleNumber(spot, 5, model.seed, 3, model.market.region, minute, s.duration),
    renewables: styleRenewables(s.market.renewables, model.seed, 2, model.market.region, minute, s.duration),
    descriptor: descriptorOf(spot),
    range: deviation === null ? null : rangeOf(model, s, spot),
  };
}

function rowOf(model: SiteModel, type: ChannelType, view: SlotView): PriceJson {
  const s = view.slot;
  const perKwh = channelPerKwh(type, view.spot, s.market.period);
  const head = {
    type: view.kind,
    date: s.date,
    duration: s.duration,
    startTime: s.startTime,
    endTime: s.endTime,
    nemTime: s.nemTime,
    perKwh: styleNumber(perKwh, 5, model.seed, 1, model.market.region, s.endMs / MINUTE_MS, s.duration, CHANNEL_INDEX[type]),
    renewables: view.renewables,
    spotPerKwh: view.spotPerKwh,
    channelType: type,
    spikeStatus: s.market.spikeStatus,
  };
  const tariff = tariffInformation(model, s.market.period);
  // Spread so the keys keep the API's order: tariffInformation (when present) sits before descriptor.
  const descriptor = view.descriptor;
  const row: PriceJson = tariff ? { ...head, tariffInformation: tariff, descriptor } : { ...head, descriptor };
  const deviation = view.deviation;
  if (deviation === null) return row;

  if (view.range) row.range = { ...view.range };
  if (view.kind === 'CurrentInterval') row.estimate = deviation.estimate;
  // advancedPrice: only while the price is an estimate and within ~24 h; never seen on feed-in (§4.5, §10.2).
  if (type !== 'feedIn' && deviation.estimate && deviation.leadMs < ADVANCED_PRICE_HORIZON_MS) {
    row.advancedPrice = advancedPriceOf(model, s, perKwh, deviation.leadMs, CHANNEL_INDEX[type]);
  }
  return row;
}

/** A spot range appears only when an interval is volatile (API-NOTES §4.5): near spikes, and rarely otherwise. */
function rangeOf(model: SiteModel, s: MarketSlot, spot: number): { min: number; max: number } | null {
  const roll = unit(model.seed, Stream.forecastRange, model.market.region, s.endMs / MINUTE_MS, s.duration);
  if (s.market.spikeStatus === 'none' && roll >= 0.03) return null;
  const width = 0.8 + 0.3 * Math.abs(spot);
  return { min: roundTo(spot - width * (0.3 + roll), 5), max: roundTo(spot + width * (1.3 - roll), 5) };
}

function advancedPriceOf(model: SiteModel, s: MarketSlot, perKwh: number, leadMs: number, channel: number) {
  const draw = (i: number) => unit(model.seed, Stream.forecastBand, model.market.region, s.endMs / MINUTE_MS, s.duration, channel, i);
  const spread = 0.4 + 0.06 * Math.abs(perKwh) + 2.5 * Math.min(1, leadMs / (12 * HOUR_MS));
  const predicted = perKwh + 0.3 * spread * (draw(0) - 0.5);
  return {
    low: roundTo(predicted - spread * (0.6 + 0.8 * draw(1)), 5),
    predicted: roundTo(predicted, 5),
    high: roundTo(predicted + spread * (0.6 + 0.8 * draw(2)), 5),
  };
}

/** Each channel type's rows for a list of intervals, as seen at `nowMs`. */
export function priceRowsByType(model: SiteModel, slots: readonly MarketSlot[], nowMs: number): Map<ChannelType, PriceJson[]> {
  const views = slots.map((s) => viewOf(model, s, nowMs));
  return new Map(model.priceTypes.map((type) => [type, views.map((view) => rowOf(model, type, view))]));
}

/** Rows for a list of intervals: every interval of the first channel type, then the next (API order). */
export function priceRowsFor(model: SiteModel, slots: readonly MarketSlot[], nowMs: number): PriceJson[] {
  return [...priceRowsByType(model, slots, nowMs).values()].flat();
}

/** Every interval of the given NEM days at a resolution: 288 per day at 5 minutes, 48 at 30 (API-NOTES §3). */
export function slotsOfDays(model: SiteModel, firstDay: number, lastDay: number, resolution: number, horizonEndMs: number): MarketSlot[] {
  const slots: MarketSlot[] = [];
  const stepMs = resolution * MINUTE_MS;
  for (let day = firstDay; day <= lastDay; day++) {
    const dayStartMs = nemDayStartMs(day);
    for (let endMs = dayStartMs + stepMs; endMs <= dayStartMs + 24 * HOUR_MS && endMs <= horizonEndMs; endMs += stepMs) {
      slots.push(slot(model, endMs, resolution));
    }
  }
  return slots;
}

/**
 * The intervals of `/prices/current`: `previous` finished ones, the running one, then up to `next` forecasts.
 * At resolution 5 with `mixedDurations`, forecasts more than an hour out come as 30-minute intervals from
 * the next half-hour boundary on, as observed live (API-NOTES §2.3).
 */
export function currentSlots(
  model: SiteModel,
  nowMs: number,
  options: { previous: number; next: number; resolution: number; mixedDurations: boolean; isAvailable: (endMs: number) => boolean },
): MarketSlot[] {
  const stepMs = options.resolution * MINUTE_MS;
  const currentEndMs = intervalEndContaining(nowMs, options.resolution);
  const ends: Array<{ endMs: number; duration: number }> = [];
  for (let k = options.previous; k >= 0; k--) ends.push({ endMs: currentEndMs - k * stepMs, duration: options.resolution });
  const horizonEndMs = forecastHorizonEndMs(nowMs);
  let cursorMs = currentEndMs;
  for (let i = 0; i < options.next; i++) {
    const pastFiveMinuteSpan = cursorMs - currentEndMs >= FIVE_MINUTE_FORECAST_SPAN_MS && cursorMs % (30 * MINUTE_MS) === 0;
    const coarse = options.mixedDurations && options.resolution === 5 && pastFiveMinuteSpan;
    const duration = coarse ? 30 : options.resolution;
    const endMs = cursorMs + duration * MINUTE_MS;
    if (endMs > horizonEndMs) break;
    ends.push({ endMs, duration });
    cursorMs = endMs;
  }
  return ends.filter((e) => options.isAvailable(e.endMs)).map((e) => slot(model, e.endMs, e.duration));
}
