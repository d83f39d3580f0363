/**
 * Validation of Amber API responses. The API has grown fields and enum values over the years
 * (`descriptor` 2022, `advancedPrice` 2024, `intervalLength` 2024, `season` 2025, `solarSponge` 2026), so the
 * schemas are strict about the *types* of known fields but tolerant of everything else:
 * - unknown keys are allowed, and the whole element is kept in `raw`;
 * - optional fields may be missing or null;
 * - enum-like strings accept any value, and a value we have not seen before is logged once and kept.
 * Arrays are parsed element by element: one bad element is reported in `rejected`, never fatal.
 */
import { z } from 'zod';
import { CollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Channel, Parsed, PriceInterval, RejectedItem, Site, TariffInformation, UsageInterval } from '../domain/models.ts';
import { isNemDate } from '../domain/nem-time.ts';

/** Billing interval assumed for sites from before `intervalLength` existed (Nov 2024). */
export const DEFAULT_INTERVAL_LENGTH = 30;

const SAMPLE_MAX_CHARS = 500;

const nemDate = z.string().refine(isNemDate, { message: 'expected a YYYY-MM-DD date' });
/** `startTime` and `endTime` are always UTC with `Z`; the collector keys rows on them. */
const utcDateTime = z.iso.datetime();
const offsetDateTime = z.iso.datetime({ offset: true });
const minutes = z.number().int().positive();

export const tariffInformationSchema = z.looseObject({
  period: z.string().nullish(),
  season: z.string().nullish(),
  block: z.number().nullish(),
  demandWindow: z.boolean().nullish(),
});

export const rangeSchema = z.looseObject({ min: z.number(), max: z.number() });

/** `predicted` was missing from the live API before 2024-07-17. */
export const advancedPriceSchema = z.looseObject({
  low: z.number(),
  predicted: z.number().nullish(),
  high: z.number(),
});

export const channelSchema = z.looseObject({
  identifier: z.string(),
  type: z.string(),
  tariff: z.string(),
});

export const siteSchema = z.looseObject({
  id: z.string().min(1),
  nmi: z.string(),
  channels: z.array(channelSchema),
  network: z.string(),
  status: z.string(),
  activeFrom: nemDate.nullish(),
  closedOn: nemDate.nullish(),
  intervalLength: minutes.nullish(),
});

const baseIntervalShape = {
  date: nemDate,
  duration: minutes,
  startTime: utcDateTime,
  endTime: utcDateTime,
  nemTime: offsetDateTime,
  perKwh: z.number(),
  spotPerKwh: z.number(),
  renewables: z.number(),
  channelType: z.string(),
  spikeStatus: z.string(),
  descriptor: z.string().nullish(),
  tariffInformation: tariffInformationSchema.nullish(),
};

const forecastExtrasShape = {
  range: rangeSchema.nullish(),
  advancedPrice: advancedPriceSchema.nullish(),
};

export const actualIntervalSchema = z.looseObject({
  type: z.literal('ActualInterval'),
  ...baseIntervalShape,
  ...forecastExtrasShape,
});

export const forecastIntervalSchema = z.looseObject({
  type: z.literal('ForecastInterval'),
  ...baseIntervalShape,
  ...forecastExtrasShape,
});

export const currentIntervalSchema = z.looseObject({
  type: z.literal('CurrentInterval'),
  ...baseIntervalShape,
  ...forecastExtrasShape,
  estimate: z.boolean(),
});

/** An unknown `type` is a rejected element: we cannot tell what kind of price it is. */
export const priceIntervalSchema = z.discriminatedUnion('type', [
  actualIntervalSchema,
  currentIntervalSchema,
  forecastIntervalSchema,
]);

export const usageSchema = z.looseObject({
  type: z.literal('Usage'),
  ...baseIntervalShape,
  channelIdentifier: z.string(),
  kwh: z.number(),
  cost: z.number(),
  quality: z.string(),
});

/** Enum values documented in the spec (API-NOTES §4.8, §4.12). Anything else is logged once and kept. */
const KNOWN_VALUES = {
  channelType: ['general', 'controlledLoad', 'feedIn'],
  spikeStatus: ['none', 'potential', 'spike'],
  descriptor: ['negative', 'extremelyLow', 'veryLow', 'low', 'neutral', 'high', 'spike'],
  quality: ['estimated', 'billable'],
  status: ['pending', 'active', 'closed'],
  'tariffInformation.period': ['offPeak', 'shoulder', 'solarSponge', 'peak'],
  'tariffInformation.season': [
    'default', 'summer', 'autumn', 'winter', 'spring', 'nonSummer', 'holiday', 'weekend', 'weekendHoliday', 'weekday',
  ],
} satisfies Record<string, readonly string[]>;

type EnumField = keyof typeof KNOWN_VALUES;

/** (field, value) pairs already warned about in this process, so a new value warns once, not per row. */
const reportedUnknownValues = new Set<string>();

function noteEnumValue(logger: Logger, field: EnumField, value: string | null): void {
  if (value === null || (KNOWN_VALUES[field] as readonly string[]).includes(value)) return;
  const key = `${field}\u0000${value}`;
  if (reportedUnknownValues.has(key)) return;
  reportedUnknownValues.add(key);
  logger.warn({ field, value }, 'unknown value in an Amber API response; kept as sent');
}

/** JSON of `value`, cut to a length fit for a log line. */
export function truncatedSample(value: unknown, maxChars: number = SAMPLE_MAX_CHARS): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length === 0 ? '(element)' : issue.path.map(String).join('.');
  return `${path}: ${issue.message}`;
}

/**
 * Validates `body` as a JSON array, element by element. A body that is not an array at all is an
 * `AMBER_SCHEMA` error for the whole response; a bad element only lands in `rejected`.
 */
export function parseArray<S extends z.ZodType, T>(
  body: unknown,
  schema: S,
  toModel: (data: z.output<S>, raw: Record<string, unknown>) => T,
): Parsed<T> {
  if (!Array.isArray(body)) {
    const got = body === null ? 'null' : typeof body;
    throw new CollectorError('AMBER_SCHEMA', `expected a JSON array from the Amber API, got ${got}`, {
      retryable: true,
      details: { sample: truncatedSample(body) },
    });
  }
  const items: T[] = [];
  const rejected: RejectedItem[] = [];
  body.forEach((element: unknown, index) => {
    const result = schema.safeParse(element);
    if (result.success) {
      items.push(toModel(result.data, element as Record<string, unknown>));
    } else {
      rejected.push({ index, problems: result.error.issues.map(describeIssue), sample: truncatedSample(element) });
    }
  });
  return { items, rejected };
}

export function parseSites(body: unknown, logger: Logger): Parsed<Site> {
  return parseArray(body, siteSchema, (data, raw): Site => {
    noteEnumValue(logger, 'status', data.status);
    const channels = data.channels.map((channel): Channel => {
      noteEnumValue(logger, 'channelType', channel.type);
      return { identifier: channel.identifier, type: channel.type, tariff: channel.tariff };
    });
    return {
      id: data.id,
      nmi: data.nmi,
      network: data.network,
      status: data.status,
      activeFrom: data.activeFrom ?? null,
      closedOn: data.closedOn ?? null,
      intervalLength: data.intervalLength ?? DEFAULT_INTERVAL_LENGTH,
      channels,
      raw,
    };
  });
}

export function parsePriceIntervals(body: unknown, logger: Logger): Parsed<PriceInterval> {
  return parseArray(body, priceIntervalSchema, (data, raw): PriceInterval => ({
    ...baseIntervalOf(data, raw, logger),
    type: data.type,
    estimate: data.type === 'CurrentInterval' ? data.estimate : null,
    range: data.range ? { min: data.range.min, max: data.range.max } : null,
    advancedPrice: data.advancedPrice
      ? { low: data.advancedPrice.low, predicted: data.advancedPrice.predicted ?? null, high: data.advancedPrice.high }
      : null,
  }));
}

export function parseUsageIntervals(body: unknown, logger: Logger): Parsed<UsageInterval> {
  return parseArray(body, usageSchema, (data, raw): UsageInterval => {
    noteEnumValue(logger, 'quality', data.quality);
    return {
      ...baseIntervalOf(data, raw, logger),
      type: data.type,
      channelIdentifier: data.channelIdentifier,
      kwh: data.kwh,
      cost: data.cost,
      quality: data.quality,
    };
  });
}

type BaseIntervalData = z.output<z.ZodObject<typeof baseIntervalShape>>;

function baseIntervalOf(data: BaseIntervalData, raw: Record<string, unknown>, logger: Logger) {
  const descriptor = data.descriptor ?? null;
  noteEnumValue(logger, 'channelType', data.channelType);
  noteEnumValue(logger, 'spikeStatus', data.spikeStatus);
  noteEnumValue(logger, 'descriptor', descriptor);
  return {
    date: data.date,
    duration: data.duration,
    startTime: data.startTime,
    endTime: data.endTime,
    nemTime: data.nemTime,
    perKwh: data.perKwh,
    spotPerKwh: data.spotPerKwh,
    renewables: data.renewables,
    channelType: data.channelType,
    spikeStatus: data.spikeStatus,
    descriptor,
    tariffInformation: data.tariffInformation ? tariffInformationOf(data.tariffInformation, logger) : null,
    raw,
  };
}

function tariffInformationOf(data: z.output<typeof tariffInformationSchema>, logger: Logger): TariffInformation {
  const tariff: TariffInformation = {
    period: data.period ?? null,
    season: data.season ?? null,
    block: data.block ?? null,
    demandWindow: data.demandWindow ?? null,
  };
  noteEnumValue(logger, 'tariffInformation.period', tariff.period);
  noteEnumValue(logger, 'tariffInformation.season', tariff.season);
  return tariff;
}
