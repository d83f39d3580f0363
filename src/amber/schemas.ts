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
import { ruleChecker, type RequestedRange, type RuleViolation } from '../domain/interval-rules.ts';
import type { BaseInterval, Channel, Parsed, PriceInterval, RejectedItem, Site, TariffInformation, UsageInterval } from '../domain/models.ts';
import { isNemDate } from '../domain/nem-time.ts';

/** Billing interval assumed for sites from before `intervalLength` existed (Nov 2024). */
const DEFAULT_INTERVAL_LENGTH = 30;

const SAMPLE_MAX_CHARS = 500;

/*
 * Types are checked as the columns need them, so a value the schema lets through can always be stored and
 * no value can fail a chunk's statement in the database: integers where the column is `integer` (and in its
 * range), finite numbers (zod 4's number refuses Infinity and NaN; JSON's 1e400 parses to Infinity),
 * instants `timestamptz` accepts (year 1 on), and text of a sane length. NUL and lone surrogates, which
 * PostgreSQL refuses in text and jsonb, never reach the schemas: the client replaces them first
 * (storable-text.ts).
 */
const SHORT_TEXT_MAX = 200;
const EARLIEST_INSTANT_MS = Date.parse('0001-01-01T00:00:00Z');

const text = z.string().max(SHORT_TEXT_MAX);
const pgInteger = z.number().int().min(-2_147_483_648).max(2_147_483_647);
const nemDate = z
  .string()
  .refine((value) => isNemDate(value) && !value.startsWith('0000'), { message: 'expected a YYYY-MM-DD date from year 1 on' });
/**
 * An RFC 3339 instant: the API sends `startTime`/`endTime` in UTC and `nemTime` at +10:00; the instant is
 * what counts. That it is from year 1 on is checked after parsing (`unstorableInstant`): a refinement here
 * would cost zod its fast path and triple the time a response takes to parse.
 */
const instant = z.iso.datetime({ offset: true });
const minutes = pgInteger.positive();

const tariffInformationSchema = z.looseObject({
  period: text.nullish(),
  season: text.nullish(),
  /** The spec says "number"; the column is an integer (blocks 1 and 2 are all ever seen). */
  block: pgInteger.nullish(),
  demandWindow: z.boolean().nullish(),
});

const rangeSchema = z.looseObject({ min: z.number(), max: z.number() });

/** `predicted` was missing from the live API before 2024-07-17. */
const advancedPriceSchema = z.looseObject({
  low: z.number(),
  predicted: z.number().nullish(),
  high: z.number(),
});

const channelSchema = z.looseObject({
  identifier: text,
  type: text,
  tariff: text,
});

const siteSchema = z.looseObject({
  id: text.min(1),
  nmi: text,
  channels: z.array(channelSchema),
  network: text,
  status: text,
  activeFrom: nemDate.nullish(),
  closedOn: nemDate.nullish(),
  intervalLength: minutes.nullish(),
});

const baseIntervalShape = {
  date: nemDate,
  duration: minutes,
  startTime: instant,
  endTime: instant,
  nemTime: instant,
  perKwh: z.number(),
  spotPerKwh: z.number(),
  renewables: z.number(),
  channelType: text,
  spikeStatus: text,
  descriptor: text.nullish(),
  tariffInformation: tariffInformationSchema.nullish(),
};

const forecastExtrasShape = {
  range: rangeSchema.nullish(),
  advancedPrice: advancedPriceSchema.nullish(),
};

const actualIntervalSchema = z.looseObject({
  type: z.literal('ActualInterval'),
  ...baseIntervalShape,
  ...forecastExtrasShape,
});

const forecastIntervalSchema = z.looseObject({
  type: z.literal('ForecastInterval'),
  ...baseIntervalShape,
  ...forecastExtrasShape,
});

const currentIntervalSchema = z.looseObject({
  type: z.literal('CurrentInterval'),
  ...baseIntervalShape,
  ...forecastExtrasShape,
  estimate: z.boolean(),
});

/** An unknown `type` is a rejected element: we cannot tell what kind of price it is. */
const priceIntervalSchema = z.discriminatedUnion('type', [
  actualIntervalSchema,
  currentIntervalSchema,
  forecastIntervalSchema,
]);

const usageSchema = z.looseObject({
  type: z.literal('Usage'),
  ...baseIntervalShape,
  channelIdentifier: text,
  kwh: z.number(),
  cost: z.number(),
  quality: text,
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
 * `AMBER_SCHEMA` error for the whole response; a bad element only lands in `rejected`, as does an element
 * of the right types that `check` (the consistency rules) refuses.
 */
function parseArray<S extends z.ZodType, T>(
  body: unknown,
  schema: S,
  toModel: (data: z.output<S>, raw: Record<string, unknown>) => T,
  check: (item: T) => RuleViolation | null = () => null,
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
    const reject = (rule: string, problems: string[]) =>
      rejected.push({ index, rule, problems, element, sample: truncatedSample(element) });
    const result = schema.safeParse(element);
    if (!result.success) {
      reject('schema', result.error.issues.map(describeIssue));
      return;
    }
    const item = toModel(result.data, element as Record<string, unknown>);
    const violation = check(item);
    if (violation === null) items.push(item);
    else reject(violation.rule, [violation.problem]);
  });
  return { items, rejected };
}

/**
 * The checks after the types: instants `timestamptz` can hold (reported as `schema`, like the types), then
 * the consistency rules for a response to a request for `range` (none when `range` is null).
 */
function rulesFor(range: RequestedRange | null): (item: BaseInterval) => RuleViolation | null {
  const rules = range === null ? () => null : ruleChecker(range);
  return (item) => unstorableInstant(item) ?? rules(item);
}

function unstorableInstant(item: BaseInterval): RuleViolation | null {
  for (const field of ['startTime', 'endTime', 'nemTime'] as const) {
    if (!(Date.parse(item[field]) >= EARLIEST_INSTANT_MS)) return { rule: 'schema', problem: `${field}: expected an instant from year 1 on` };
  }
  return null;
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

/** `range`: the days asked for, checked with every consistency rule; null checks types only. */
export function parsePriceIntervals(body: unknown, logger: Logger, range: RequestedRange | null): Parsed<PriceInterval> {
  return parseArray(body, priceIntervalSchema, (data, raw): PriceInterval => ({
    ...baseIntervalOf(data, raw, logger),
    type: data.type,
    estimate: data.type === 'CurrentInterval' ? data.estimate : null,
    range: data.range ? { min: data.range.min, max: data.range.max } : null,
    advancedPrice: data.advancedPrice
      ? { low: data.advancedPrice.low, predicted: data.advancedPrice.predicted ?? null, high: data.advancedPrice.high }
      : null,
  }), rulesFor(range));
}

/** `range`: the days asked for, checked with every consistency rule; null checks types only. */
export function parseUsageIntervals(body: unknown, logger: Logger, range: RequestedRange | null): Parsed<UsageInterval> {
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
  }, rulesFor(range));
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
