/**
 * An alert as every format sees it: what happened, to which site and channel, over which intervals, at
 * what price, with a title and a text a person can read on a phone. The formatters only rearrange it.
 */

export type PriceAlertKind = 'price_above' | 'price_below' | 'feed_in_above' | 'spike';
export type TroubleAlertKind = 'stale' | 'stream_failing' | 'api_key_rejected' | 'gaps_unrepaired';
export type AlertKind = PriceAlertKind | TroubleAlertKind | 'test';

/**
 * Price events are announced when first forecast, when they start and when they end; collector trouble
 * when it opens and when it is resolved.
 */
export type AlertPhase = 'forecast' | 'started' | 'ended' | 'opened' | 'resolved' | 'test';

/** One alert, rendered for one target's format: the request body and its headers. */
export interface RenderedAlert {
  headers: Record<string, string>;
  body: string;
}

type Severity = 'info' | 'warning' | 'critical';

export interface AlertInterval {
  /** NEM time (+10:00), ISO 8601. */
  start: string;
  end: string;
  /** c/kWh as Amber sends it (feed-in: negative means the customer is paid). */
  perKwh: number;
  spikeStatus: string;
  /** ActualInterval, CurrentInterval or ForecastInterval. */
  type: string;
}

export interface Alert {
  /** Stable per event and phase: a receiver that sees the same id twice has seen the same announcement. */
  id: string;
  /** The event the alert announces a phase of; every phase of one event shares it. */
  event: string;
  kind: AlertKind;
  phase: AlertPhase;
  severity: Severity;
  title: string;
  text: string;
  site: { id: string; nmi: string | null } | null;
  /** general | controlledLoad | feedIn for price events; price | usage for a stream; null otherwise. */
  channel: string | null;
  /** NEM time (+10:00) of the first interval's start and the last one's end. */
  window: { start: string; end: string } | null;
  intervals: AlertInterval[];
  price: {
    threshold: number | null;
    /** The most extreme price forecast for the event (in the rule's direction). */
    forecast: number | null;
    /** The most extreme and the mean actual price of the event's finished intervals, once known. */
    actual: number | null;
    actualMean: number | null;
  } | null;
  dashboardUrl: string | null;
  /** When the alert was made, UTC ISO 8601. */
  createdAt: string;
}

const TROUBLE: ReadonlySet<string> = new Set<TroubleAlertKind>(['stale', 'stream_failing', 'api_key_rejected', 'gaps_unrepaired']);

/** Collector trouble is never held by quiet hours nor dropped by the hourly cap: it is what users fear most. */
export function isTroubleKind(kind: string): kind is TroubleAlertKind {
  return TROUBLE.has(kind);
}

const NEM_OFFSET_MS = 10 * 60 * 60 * 1000;

/** `2025-11-21T18:05:00+10:00`. */
export function nemIso(instant: Date): string {
  return `${new Date(instant.getTime() + NEM_OFFSET_MS).toISOString().slice(0, 19)}+10:00`;
}

/** `18:05`, NEM time. */
function nemClock(instant: Date): string {
  return new Date(instant.getTime() + NEM_OFFSET_MS).toISOString().slice(11, 16);
}

/** `Fri 21 Nov 18:05–18:30 NEM`, or with both days when the window crosses midnight. */
export function nemWindow(start: Date, end: Date): string {
  const day = (d: Date) => {
    const shifted = new Date(d.getTime() + NEM_OFFSET_MS);
    return `${WEEKDAYS[shifted.getUTCDay()]} ${shifted.getUTCDate()} ${MONTHS[shifted.getUTCMonth()]}`;
  };
  // An interval ending at midnight belongs to the day before: name the end's day by its last millisecond.
  const endDay = day(new Date(end.getTime() - 1));
  return endDay === day(start)
    ? `${day(start)} ${nemClock(start)}–${nemClock(end)} NEM`
    : `${day(start)} ${nemClock(start)} – ${endDay} ${nemClock(end)} NEM`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `31.2 c/kWh`. A price that one decimal would show as 0 keeps two significant digits instead (`-0.04
 * c/kWh`), so a negative price never reads as 0 inside a "Negative prices" alert.
 */
export function cents(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  const shown = rounded !== 0 || value === 0 ? rounded : Number(value.toPrecision(2));
  return `${shown === 0 ? 0 : shown} c/kWh`;
}

/** The facts beside the text, as name and value pairs, for the formats that show fields (Discord, Slack, ntfy). */
export function alertFacts(alert: Alert): Array<{ name: string; value: string }> {
  const facts: Array<{ name: string; value: string }> = [];
  if (alert.site) facts.push({ name: 'Site', value: `NMI ${alert.site.nmi ?? 'unknown'} (site ${alert.site.id})` });
  if (alert.channel) facts.push({ name: 'Channel', value: alert.channel });
  if (alert.window) facts.push({ name: 'When', value: nemWindow(new Date(alert.window.start), new Date(alert.window.end)) });
  const price = alert.price;
  if (price) {
    const parts = [
      price.forecast === null ? null : `forecast ${cents(price.forecast)}`,
      price.actual === null ? null : `actual ${cents(price.actual)}${price.actualMean === null ? '' : ` (mean ${cents(price.actualMean)})`}`,
      price.threshold === null ? null : `threshold ${cents(price.threshold)}`,
    ].filter((part) => part !== null);
    if (parts.length > 0) facts.push({ name: 'Price', value: parts.join(', ') });
  }
  if (alert.intervals.length > 0) {
    const shown = alert.intervals.slice(0, MAX_INTERVAL_LINES).map((i) => {
      const kind = i.type === 'ActualInterval' ? 'actual' : i.type === 'CurrentInterval' ? 'now' : 'forecast';
      const spike = i.spikeStatus === 'none' ? '' : `, spike: ${i.spikeStatus}`;
      return `${nemClock(new Date(i.start))}–${nemClock(new Date(i.end))} ${cents(i.perKwh)} (${kind}${spike})`;
    });
    const more = alert.intervals.length - shown.length;
    facts.push({ name: 'Intervals', value: [...shown, ...(more > 0 ? [`… and ${more} more`] : [])].join('\n') });
  }
  return facts;
}

const MAX_INTERVAL_LINES = 8;

/** `text` cut to `max` characters, with an ellipsis when cut (the services reject longer fields). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
