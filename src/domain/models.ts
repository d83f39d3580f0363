/**
 * The collector's view of Amber API objects, after validation. The client (`client.ts`) produces these
 * from the zod schemas in `schemas.ts`; the repository stores them. `raw` is always the object exactly
 * as the API sent it, so unknown and future fields survive in the database.
 */

/** `YYYY-MM-DD`, a NEM calendar date (UTC+10, no daylight saving). */
export type NemDate = string;

export type DataType = 'price' | 'usage';

export interface Channel {
  identifier: string;
  /** Known values are `general`, `controlledLoad` and `feedIn`; an unknown new value is logged once and kept as sent. */
  type: string;
  tariff: string;
}

export interface Site {
  id: string;
  nmi: string;
  network: string;
  /** `pending` | `active` | `closed`, or a new value kept as sent. */
  status: string;
  activeFrom: NemDate | null;
  closedOn: NemDate | null;
  /** Billing interval in minutes. Older API versions omit it; 30 is assumed then. */
  intervalLength: number;
  channels: Channel[];
  raw: Record<string, unknown>;
}

export interface TariffInformation {
  period: string | null;
  season: string | null;
  block: number | null;
  demandWindow: boolean | null;
}

/** Fields every price interval and usage record shares (the API's BaseInterval). */
export interface BaseInterval {
  /** NEM date the interval belongs to (the API's `date`). */
  date: NemDate;
  /** Minutes: 5 or 30 (15 exists in the spec, never seen). */
  duration: number;
  /** As sent: the interval start plus one second, e.g. `2025-11-20T03:00:01Z`. */
  startTime: string;
  /** The interval end, an exact boundary, e.g. `2025-11-20T03:30:00Z`. */
  endTime: string;
  /** The interval end in NEM time, `+10:00`; the same instant as `endTime`. */
  nemTime: string;
  perKwh: number;
  spotPerKwh: number;
  renewables: number;
  channelType: string;
  spikeStatus: string;
  descriptor: string | null;
  tariffInformation: TariffInformation | null;
  raw: Record<string, unknown>;
}

export type PriceIntervalType = 'ActualInterval' | 'CurrentInterval' | 'ForecastInterval';

export interface PriceInterval extends BaseInterval {
  type: PriceIntervalType;
  /** Only on CurrentInterval: true while the price may still change. */
  estimate: boolean | null;
  range: { min: number; max: number } | null;
  /** `predicted` was missing from the live API before 2024-07-17. */
  advancedPrice: { low: number; predicted: number | null; high: number } | null;
}

export interface UsageInterval extends BaseInterval {
  type: 'Usage';
  channelIdentifier: string;
  kwh: number;
  cost: number;
  /** `estimated` | `billable`, or a new value kept as sent. */
  quality: string;
}

/** An element of a response that failed validation: never dropped silently, always reported and kept. */
export interface RejectedItem {
  /** Position in the response. */
  index: number;
  /**
   * Why, in one word: the consistency rule the element breaks (see interval-rules.ts), `schema` when its
   * types are wrong, or `database` when the database refused it.
   */
  rule: string;
  /** Short, human-readable reasons (zod issues with their paths, or the rule's explanation). */
  problems: string[];
  /** The element as sent (unstorable characters replaced), whole: what `rejected_intervals.raw` keeps. */
  element: unknown;
  /** The element, truncated for logs. */
  sample: string;
}

/** A validated response: the good elements, plus every element that did not validate. */
export interface Parsed<T> {
  items: T[];
  rejected: RejectedItem[];
}
