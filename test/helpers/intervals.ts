/**
 * Test data in the shapes the repository stores: API-shaped JSON (what Amber sends) and the domain
 * objects (`PriceInterval`, `UsageInterval`, `Site`) the client would make of it.
 *
 * The `…FromApi` mappers are deliberately hand-written and trusting: they turn known-good JSON into
 * domain objects for database tests without depending on the client's validation, which is tested on
 * its own. The factories build realistic JSON first and map it, so `raw` always matches the fields.
 */
import { readFileSync } from 'node:fs';
import type { Channel, NemDate, PriceInterval, PriceIntervalType, Site, TariffInformation, UsageInterval } from '../../src/domain/models.ts';
import { nemDayStart } from '../../src/domain/nem-time.ts';
import { amberFixturePath } from './amber-fixtures.ts';

type Json = Record<string, unknown>;

const MINUTE_MS = 60_000;
const NEM_OFFSET_MS = 10 * 60 * MINUTE_MS;

/** Reads a JSON payload; relative names resolve against test/fixtures/amber/payloads. */
export function readPayload(name: string): Json[] {
  const url = name.startsWith('/') ? name : amberFixturePath('payloads', name);
  return JSON.parse(readFileSync(url, 'utf8')) as Json[];
}

export function priceIntervalFromApi(raw: Json): PriceInterval {
  return {
    ...baseFromApi(raw),
    type: raw.type as PriceIntervalType,
    estimate: (raw.estimate as boolean | undefined) ?? null,
    range: (raw.range as PriceInterval['range'] | undefined) ?? null,
    advancedPrice: raw.advancedPrice === undefined || raw.advancedPrice === null
      ? null
      : { predicted: null, ...(raw.advancedPrice as { low: number; high: number }) },
  };
}

export function usageIntervalFromApi(raw: Json): UsageInterval {
  return {
    ...baseFromApi(raw),
    type: 'Usage',
    channelIdentifier: raw.channelIdentifier as string,
    kwh: raw.kwh as number,
    cost: raw.cost as number,
    quality: raw.quality as string,
  };
}

export function siteFromApi(raw: Json): Site {
  return {
    id: raw.id as string,
    nmi: raw.nmi as string,
    network: raw.network as string,
    status: raw.status as string,
    activeFrom: (raw.activeFrom as string | undefined) ?? null,
    closedOn: (raw.closedOn as string | undefined) ?? null,
    intervalLength: (raw.intervalLength as number | undefined) ?? 30,
    channels: raw.channels as Channel[],
    raw,
  };
}

function baseFromApi(raw: Json) {
  const tariff = raw.tariffInformation as Partial<TariffInformation> | null | undefined;
  return {
    date: raw.date as string,
    duration: raw.duration as number,
    startTime: raw.startTime as string,
    endTime: raw.endTime as string,
    nemTime: raw.nemTime as string,
    perKwh: raw.perKwh as number,
    spotPerKwh: raw.spotPerKwh as number,
    renewables: raw.renewables as number,
    channelType: raw.channelType as string,
    spikeStatus: raw.spikeStatus as string,
    descriptor: (raw.descriptor as string | undefined) ?? null,
    tariffInformation: tariff
      ? { period: tariff.period ?? null, season: tariff.season ?? null, block: tariff.block ?? null, demandWindow: tariff.demandWindow ?? null }
      : null,
    raw,
  };
}

// ---------------------------------------------------------------------------------------------------
// Factories

export interface IntervalOptions {
  /** The interval's end, any ISO instant, e.g. `2025-11-20T03:30:00Z`. */
  end: string;
  /** Minutes. Default 30. */
  duration?: number;
  channelType?: string;
  perKwh?: number;
  spotPerKwh?: number;
  renewables?: number;
  descriptor?: string;
  spikeStatus?: string;
  tariffInformation?: Partial<TariffInformation> | null;
}

export interface PriceOptions extends IntervalOptions {
  type?: PriceIntervalType;
  estimate?: boolean;
}

export interface UsageOptions extends IntervalOptions {
  channelIdentifier?: string;
  kwh?: number;
  cost?: number;
  quality?: string;
}

/** The JSON Amber sends for a price interval, keys in the API's order. */
function apiPriceInterval(options: PriceOptions): Json {
  const type = options.type ?? 'ActualInterval';
  const json: Json = { type, ...apiBase(options) };
  if (type === 'CurrentInterval') json.estimate = options.estimate ?? true;
  return json;
}

/** The JSON Amber sends for a usage record, keys in the API's order. */
function apiUsageInterval(options: UsageOptions): Json {
  const base = apiBase(options);
  const perKwh = base.perKwh as number;
  const kwh = options.kwh ?? 0.5;
  return {
    type: 'Usage',
    ...base,
    channelIdentifier: options.channelIdentifier ?? 'E1',
    kwh,
    quality: options.quality ?? 'billable',
    cost: options.cost ?? Math.round(kwh * perKwh * 10_000) / 10_000,
  };
}

export function priceInterval(options: PriceOptions): PriceInterval {
  return priceIntervalFromApi(apiPriceInterval(options));
}

export function usageInterval(options: UsageOptions): UsageInterval {
  return usageIntervalFromApi(apiUsageInterval(options));
}

export function site(overrides: Partial<Omit<Site, 'raw'>> = {}): Site {
  const raw: Json = {
    id: overrides.id ?? '01J9Q4ZC6H2RM8T3VX5B7KD1NA',
    nmi: overrides.nmi ?? '4103827719',
    channels: overrides.channels ?? [
      { identifier: 'E1', type: 'general', tariff: 'EA116' },
      { identifier: 'B1', type: 'feedIn', tariff: 'EA116' },
    ],
    network: overrides.network ?? 'Ausgrid',
    status: overrides.status ?? 'active',
    activeFrom: overrides.activeFrom ?? '2024-03-14',
    ...(overrides.closedOn ? { closedOn: overrides.closedOn } : {}),
    intervalLength: overrides.intervalLength ?? 30,
  };
  return siteFromApi(raw);
}

/**
 * A `Site` built directly as the domain object, with `raw` left empty: for rules that read only the model
 * (planning, coverage), where the site's dates, interval length and meters are what a test is about and
 * so are given by the caller. The rest is an ordinary active site.
 */
export function siteModel(spec: Pick<Site, 'activeFrom' | 'intervalLength' | 'channels'> & Partial<Site>): Site {
  return {
    id: '01TESTSITE0000000000000000',
    nmi: '4103827719',
    network: 'Ausgrid',
    status: 'active',
    closedOn: null,
    raw: {},
    ...spec,
  };
}

/**
 * The end of every interval of NEM day `day` at `duration` minutes, in order: the first ends at 00:05 (or
 * 00:30) NEM time, the last at the next day's midnight. What a factory's `end` takes.
 */
export function intervalEndsOfDay(day: NemDate, duration: number): string[] {
  const dayStart = nemDayStart(day).getTime();
  return Array.from({ length: (24 * 60) / duration }, (_, index) => isoSeconds(dayStart + (index + 1) * duration * MINUTE_MS));
}

/**
 * Every interval of `days` NEM days from `startDate`, for each channel type: what `/prices` returns for
 * a past range. Values vary smoothly through the day, like real prices.
 */
export function priceSeries(options: { startDate: string; days: number; duration?: number; channelTypes?: readonly string[] }): PriceInterval[] {
  const duration = options.duration ?? 30;
  const perDay = (24 * 60) / duration;
  const firstEnd = Date.parse(`${options.startDate}T00:00:00+10:00`) + duration * MINUTE_MS;
  const rows: PriceInterval[] = [];
  for (const [channel, channelType] of (options.channelTypes ?? ['general']).entries()) {
    for (let i = 0; i < options.days * perDay; i++) {
      const wave = Math.sin((2 * Math.PI * i) / perDay + channel);
      rows.push(
        priceInterval({
          end: new Date(firstEnd + i * duration * MINUTE_MS).toISOString(),
          duration,
          channelType,
          perKwh: round5(channelType === 'feedIn' ? -8 - 6 * wave : 24 + 9 * wave),
          spotPerKwh: round5(9 + 7 * wave),
          renewables: round5(40 + 25 * wave),
          descriptor: wave > 0.5 ? 'high' : wave < -0.5 ? 'veryLow' : 'neutral',
          tariffInformation: { period: wave > 0.3 ? 'peak' : 'offPeak', season: 'default' },
        }),
      );
    }
  }
  return rows;
}

function apiBase(options: IntervalOptions): Json {
  const duration = options.duration ?? 30;
  const end = Date.parse(options.end);
  return {
    date: new Date(end - 1000 + NEM_OFFSET_MS).toISOString().slice(0, 10),
    duration,
    startTime: isoSeconds(end - duration * MINUTE_MS + 1000),
    endTime: isoSeconds(end),
    nemTime: `${isoSeconds(end + NEM_OFFSET_MS).slice(0, -1)}+10:00`,
    perKwh: options.perKwh ?? 24.33,
    renewables: options.renewables ?? 45.2,
    spotPerKwh: options.spotPerKwh ?? 6.12,
    channelType: options.channelType ?? 'general',
    spikeStatus: options.spikeStatus ?? 'none',
    tariffInformation: options.tariffInformation === undefined ? { period: 'offPeak', season: 'default' } : options.tariffInformation,
    descriptor: options.descriptor ?? 'low',
  };
}

/** `2025-11-20T03:30:00Z`: the API's format, without milliseconds. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function round5(value: number): number {
  return Math.round(value * 100_000) / 100_000;
}
