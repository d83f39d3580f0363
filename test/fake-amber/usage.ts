/**
 * Metered usage as `/usage` serves it: one record per channel per billing interval, priced with the
 * interval's actual price, appearing some hours after the NEM day ends and revised before it is final
 * (API-NOTES §2.4, §4.7, §8).
 *
 * Energy comes from a household model at 5-minute resolution: a diurnal load, rooftop solar on sites with a
 * feed-in channel (net-metered: import and export are what is left after self-consumption), and a hot-water
 * controlled load that runs after midnight.
 */
import { Stream, gaussian, hashString, roundTo, unit } from './hash.ts';
import { bell, sunshineOfDay, winterness } from './market.ts';
import { HOUR_MS, MINUTE_MS, nemDayOfInstant, nemDayStartMs, nemHourOfDay } from './nem-time.ts';
import { type MarketSlot, type PriceJson, type TariffInformationJson, priceRowsByType, slotsOfDays } from './prices.ts';
import type { ChannelType, FakeSiteSpec, SiteModel } from './sites.ts';

/** One element of `/usage`, keys in the order the API emits them (API-NOTES §10.4, payloads/live-usage-*). */
export interface UsageJson {
  type: 'Usage';
  duration: number;
  date: string;
  endTime: string;
  quality: 'estimated' | 'billable';
  kwh: number;
  nemTime: string;
  perKwh: number;
  channelType: ChannelType;
  channelIdentifier: string;
  cost: number;
  renewables: number;
  spotPerKwh: number;
  startTime: string;
  spikeStatus: string;
  tariffInformation?: TariffInformationJson;
  descriptor: string;
}

/**
 * Where a NEM day's usage is in its life: not yet published, first published (a few rows estimated),
 * revised (a different, larger set estimated, with different kWh), or final (all billable).
 * `first` runs from `lagHours` after the day ends until halfway to `finalHours`; `revised` from there to
 * `finalHours` (API-NOTES §8: 44 billable + 4 estimated, then 4 + 44, then 48 billable).
 */
export type UsageStage = 'unpublished' | 'first' | 'revised' | 'final';

export interface UsageTiming {
  lagHours: number;
  finalHours: number;
}

export function usageStageOf(day: number, nowMs: number, timing: UsageTiming): UsageStage {
  const ageMs = nowMs - nemDayStartMs(day + 1);
  const lagMs = timing.lagHours * HOUR_MS;
  const finalMs = timing.finalHours * HOUR_MS;
  // Today's usage is never available, whatever the lag (API-NOTES §2.4).
  if (ageMs < 0 || ageMs < lagMs) return 'unpublished';
  if (ageMs >= finalMs) return 'final';
  return ageMs < lagMs + (finalMs - lagMs) / 2 ? 'first' : 'revised';
}

const SUB_STEP_MS = 5 * MINUTE_MS;
const SUB_STEP_HOURS = 5 / 60;
const HOT_WATER_KW = 3.6;
const SOLAR_CAPACITY_KW = 5.5;

/**
 * The usage rows of several NEM days, each at its own stage, in API order: every interval of the first
 * channel (across all days), then the next channel (API-NOTES §2.4: General > Controlled Load > Feed In).
 */
export function usageRows(model: SiteModel, days: ReadonlyArray<{ day: number; stage: UsageStage }>): UsageJson[] {
  const byChannel = model.usageChannels.map(() => [] as UsageJson[]);
  for (const { day, stage } of days) {
    usageRowsOfDay(model, day, stage).forEach((rows, channelIndex) => byChannel[channelIndex]?.push(...rows));
  }
  return byChannel.flat();
}

/** One day's rows, one array per channel of `model.usageChannels`. */
function usageRowsOfDay(model: SiteModel, day: number, stage: UsageStage): UsageJson[][] {
  if (stage === 'unpublished') return [];
  const slots = slotsOfDays(model, day, day, model.spec.intervalLength, Number.POSITIVE_INFINITY);
  // Priced as seen from the end of time: every interval is an ActualInterval.
  const pricesByType = priceRowsByType(model, slots, Number.POSITIVE_INFINITY);
  const estimated = estimatedSlotRange(model, day, stage, slots.length);
  return model.usageChannels.map((channel) => {
    const channelHash = hashString(channel.identifier);
    const prices = pricesByType.get(channel.type) ?? [];
    return slots.flatMap((s, index) => {
      const price = prices[index];
      if (!price) return [];
      const finalKwh = meteredKwh(model, channel.type, channelHash, s, price.perKwh);
      const isEstimated = index >= estimated.start && index < estimated.end;
      const kwh = isEstimated ? estimateOf(model, finalKwh, channelHash, s, stage) : finalKwh;
      return [usageRow(price, channel, isEstimated ? 'estimated' : 'billable', kwh)];
    });
  });
}

function usageRow(
  price: PriceJson,
  channel: FakeSiteSpec['channels'][number],
  quality: UsageJson['quality'],
  kwh: number,
): UsageJson {
  return {
    type: 'Usage',
    duration: price.duration,
    date: price.date,
    endTime: price.endTime,
    quality,
    kwh,
    nemTime: price.nemTime,
    perKwh: price.perKwh,
    channelType: channel.type,
    channelIdentifier: channel.identifier,
    // Cents incl. GST: cost = kWh × perKwh (API-NOTES §1), so feed-in income is negative.
    cost: roundTo(kwh * price.perKwh, 4),
    renewables: price.renewables,
    spotPerKwh: price.spotPerKwh,
    startTime: price.startTime,
    spikeStatus: price.spikeStatus,
    ...(price.tariffInformation === undefined ? {} : { tariffInformation: price.tariffInformation }),
    descriptor: price.descriptor,
  };
}

/** The contiguous block of interval indexes that is still `estimated` at a stage (meter reads missing). */
function estimatedSlotRange(model: SiteModel, day: number, stage: UsageStage, count: number): { start: number; end: number } {
  if (stage === 'final' || count === 0) return { start: 0, end: 0 };
  const stageNumber = stage === 'first' ? 1 : 2;
  const draw = (i: number) => unit(model.seed, Stream.usageEstimateBlock, model.siteHash, day, stageNumber, i);
  const share = stage === 'first' ? 0.05 + 0.25 * draw(1) : 0.3 + 0.65 * draw(1);
  const length = Math.max(1, Math.floor(share * count));
  const start = Math.floor(draw(0) * (count - length + 1));
  return { start, end: start + length };
}

/** An estimated read differs from the final one by up to ±30 %, differently at each stage. */
function estimateOf(model: SiteModel, finalKwh: number, channelHash: number, s: MarketSlot, stage: UsageStage): number {
  const stageNumber = stage === 'first' ? 1 : 2;
  const factor = 0.7 + 0.6 * unit(model.seed, Stream.usageEstimate, model.siteHash, channelHash, s.endMs / MINUTE_MS, stageNumber);
  return roundTo(finalKwh * factor, 3);
}

/** Final metered kWh of a channel in a billing interval, to the meter's 3 decimals. Never negative. */
function meteredKwh(model: SiteModel, type: ChannelType, channelHash: number, s: MarketSlot, perKwh: number): number {
  // Exporting at a positive feed-in price costs money, so the (smart) inverter curtails: no export then.
  // This keeps feed-in cost ≤ 0 in every row (API-NOTES §5).
  if (type === 'feedIn' && perKwh > 0) return 0;
  const startMs = s.endMs - s.duration * MINUTE_MS;
  let total = 0;
  for (let subEndMs = startMs + SUB_STEP_MS; subEndMs <= s.endMs; subEndMs += SUB_STEP_MS) {
    const midMs = subEndMs - SUB_STEP_MS / 2;
    if (type === 'controlledLoad') {
      total += hotWaterKw(model, midMs) * SUB_STEP_HOURS;
      continue;
    }
    const net = householdKw(model, channelHash, midMs) - solarKw(model, midMs);
    total += (type === 'general' ? Math.max(0, net) : Math.max(0, -net)) * SUB_STEP_HOURS;
  }
  return roundTo(total, 3);
}

function householdKw(model: SiteModel, channelHash: number, midMs: number): number {
  const hour = nemHourOfDay(midMs);
  const day = nemDayOfInstant(midMs);
  const dayFactor = 0.75 + 0.5 * unit(model.seed, Stream.loadDay, model.siteHash, day);
  const shape = 0.22 + 0.8 * bell(hour, 7.5, 1.1) + 1.5 * bell(hour, 19, 1.8) + 0.35 * bell(hour, 13, 3);
  const noise = 1 + 0.35 * gaussian(model.seed, Stream.load, model.siteHash, channelHash, Math.floor(midMs / MINUTE_MS));
  return Math.max(0.03, shape * dayFactor * (1 + 0.25 * winterness(day)) * noise);
}

function solarKw(model: SiteModel, midMs: number): number {
  if (!model.priceTypes.includes('feedIn')) return 0;
  const hour = nemHourOfDay(midMs);
  if (hour < 5.5 || hour > 19.5) return 0;
  const passingCloud = 0.75 + 0.25 * unit(model.seed, Stream.cloud, model.siteHash, Math.floor(midMs / (15 * MINUTE_MS)));
  return SOLAR_CAPACITY_KW * sunshineOfDay(model.market, nemDayOfInstant(midMs)) * bell(hour, 12.5, 2.4) * passingCloud;
}

/** The hot-water tank heats from NEM midnight for 1.5–3.5 hours. */
function hotWaterKw(model: SiteModel, midMs: number): number {
  const day = nemDayOfInstant(midMs);
  const runHours = 1.5 + 2 * unit(model.seed, Stream.hotWater, model.siteHash, day);
  return nemHourOfDay(midMs) < runHours ? HOT_WATER_KW : 0;
}
