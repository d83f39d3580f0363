/**
 * The words of every alert: titles short enough for a phone's lock screen, texts that say what happened,
 * where, when (NEM time) and at what price, without needing the facts beside them.
 */
import type { Alert, AlertInterval, AlertPhase, PriceAlertKind, TroubleAlertKind } from './alert.ts';
import { cents, nemIso, nemWindow } from './alert.ts';

export interface MessageContext {
  site: { id: string; nmi: string | null } | null;
  dashboardUrl: string | null;
  now: Date;
}

/**
 * The dashboard's address under PUBLIC_URL, on `siteId` when given, as `URL` writes it: a non-ASCII host
 * in punycode and a non-ASCII path percent-encoded, so it is valid where only ASCII is (ntfy's `Click` header).
 */
export function dashboardLink(publicUrl: string | null, siteId: string | null): string | null {
  if (publicUrl === null) return null;
  const url = new URL(`${publicUrl}/`);
  if (siteId !== null) url.searchParams.set('site', siteId);
  return url.href;
}

/** The title with the site it concerns, so two sites' events never read the same: `… (NMI 4103827719)`. */
function titled(title: string, site: MessageContext['site']): string {
  if (site === null) return title;
  return `${title} (${site.nmi === null ? `site ${site.id}` : `NMI ${site.nmi}`})`;
}

interface PriceAnnouncement {
  event: string;
  kind: PriceAlertKind;
  phase: Extract<AlertPhase, 'forecast' | 'started' | 'ended'>;
  channel: string;
  threshold: number | null;
  start: Date;
  end: Date;
  intervals: AlertInterval[];
  /** The most extreme forecast value, in the rule's sense (feed-in: earnings). */
  forecastPeak: number | null;
  /** Ended events: the most extreme and the mean actual value of the finished intervals, when stored. */
  actual: { peak: number; mean: number } | null;
  /** Ended events: whether the event ever started (a forecast that did not happen ends too). */
  happened: boolean;
  /** Spike events: the strongest status seen (potential or spike). */
  spikeStatus: string | null;
}

function subjectOf(a: Pick<PriceAnnouncement, 'kind' | 'threshold' | 'spikeStatus'>): string {
  const t = a.threshold ?? 0;
  switch (a.kind) {
    case 'price_above':
      return `Price above ${cents(t)}`;
    case 'price_below':
      return t === 0 ? 'Negative prices' : `Price below ${cents(t)}`;
    case 'feed_in_above':
      return `Feed-in paying over ${cents(t)}`;
    case 'spike':
      return a.spikeStatus === 'spike' ? 'Price spike' : 'Possible price spike';
  }
}

function describeRule(a: Pick<PriceAnnouncement, 'kind' | 'threshold' | 'spikeStatus'>): string {
  const t = a.threshold ?? 0;
  switch (a.kind) {
    case 'price_above':
      return `the general price above ${cents(t)}`;
    case 'price_below':
      return t === 0 ? 'negative general prices' : `the general price below ${cents(t)}`;
    case 'feed_in_above':
      return `feed-in paying more than ${cents(t)} (a good time to export)`;
    case 'spike':
      return a.spikeStatus === 'spike' ? 'a price spike (Amber: spike)' : 'a possible price spike (Amber: potential)';
  }
}

export function priceAlert(a: PriceAnnouncement, context: MessageContext): Alert {
  const window = nemWindow(a.start, a.end);
  const peakWord = a.kind === 'price_below' ? 'lowest' : a.kind === 'feed_in_above' ? 'best' : 'peak';
  const forecast = a.forecastPeak === null ? '' : ` Forecast ${peakWord}: ${cents(a.forecastPeak)}.`;
  let title: string;
  let text: string;
  switch (a.phase) {
    case 'forecast':
      title = `${subjectOf(a)} forecast: ${window}`;
      text = `Amber forecasts ${describeRule(a)} ${window}.${forecast}`;
      break;
    case 'started':
      title = `${subjectOf(a)} now: ${window}`;
      text = `Now: ${describeRule(a)}, forecast for ${window}.${forecast}`;
      break;
    case 'ended': {
      const actual = a.actual === null ? ' No actual prices are stored for it yet.' : ` Actual ${peakWord}: ${cents(a.actual.peak)} (mean ${cents(a.actual.mean)}).`;
      title = a.happened ? `${subjectOf(a)} over: ${window}` : `${subjectOf(a)} did not happen: ${window}`;
      text = a.happened
        ? `Over: ${describeRule(a)}, ${window}.${forecast}${actual}`
        : `The forecast of ${describeRule(a)} for ${window} did not come true.${forecast}${actual}`;
      break;
    }
  }
  return {
    id: `${a.event}:${a.phase}`,
    event: a.event,
    kind: a.kind,
    phase: a.phase,
    severity: a.kind === 'price_above' || a.kind === 'spike' ? 'warning' : 'info',
    title: titled(title, context.site),
    text,
    site: context.site,
    channel: a.channel,
    window: { start: nemIso(a.start), end: nemIso(a.end) },
    intervals: a.intervals,
    price: { threshold: a.threshold, forecast: a.forecastPeak, actual: a.actual?.peak ?? null, actualMean: a.actual?.mean ?? null },
    dashboardUrl: context.dashboardUrl,
    createdAt: context.now.toISOString(),
  };
}

interface TroubleAnnouncement {
  event: string;
  kind: TroubleAlertKind;
  phase: Extract<AlertPhase, 'opened' | 'resolved'>;
  /** The data type of a stream, when the trouble is a stream's. */
  subject: string;
  detail: Record<string, unknown>;
}

const TROUBLE_TEXT: Record<TroubleAlertKind, { opened: (d: Record<string, unknown>, s: string) => [string, string]; resolved: (d: Record<string, unknown>, s: string) => [string, string] }> = {
  stale: {
    opened: (d) => ['Collector stale: no new prices', `No price data has been collected for ${String(d['minutes'])} minutes (last at ${String(d['lastAt'] ?? 'start-up')}). Check the collector's log.`],
    resolved: () => ['Collector fresh again', 'Price data is being collected again.'],
  },
  stream_failing: {
    opened: (d, s) => [`Collector: ${s} collection failing`, `Collecting ${s} has failed ${String(d['cycles'])} cycles in a row (last error: ${String(d['code'])}).`],
    resolved: (_d, s) => [`Collector: ${s} collection working again`, `Collecting ${s} succeeded again.`],
  },
  api_key_rejected: {
    opened: () => ['Collector stopped: Amber rejected the API key', 'Amber rejected AMBER_API_KEY, so nothing is being collected. Create a new key at https://app.amber.com.au/developers and restart the collector.'],
    resolved: () => ['Collector: Amber accepts the API key again', 'Amber accepted the API key again; collection has resumed.'],
  },
  gaps_unrepaired: {
    opened: (d, s) => [`Collector: ${s} gaps repair cannot close`, `${String(d['days'])} day(s) of ${s} (${String(d['first'])} to ${String(d['last'])}) are still incomplete after repeated re-fetches; Amber may not have that data. See \`amber-collector status\`.`],
    resolved: (_d, s) => [`Collector: ${s} gaps closed`, `The ${s} days gap repair could not close are complete now (or no longer checked).`],
  },
};

export function troubleAlert(a: TroubleAnnouncement, context: MessageContext): Alert {
  const [title, text] = TROUBLE_TEXT[a.kind][a.phase === 'opened' ? 'opened' : 'resolved'](a.detail, a.subject || 'prices');
  return {
    id: `${a.event}:${a.phase}`,
    event: a.event,
    kind: a.kind,
    phase: a.phase,
    severity: 'critical',
    title: titled(title, context.site),
    text,
    site: context.site,
    channel: a.subject === '' ? null : a.subject,
    window: null,
    intervals: [],
    price: null,
    dashboardUrl: context.dashboardUrl,
    createdAt: context.now.toISOString(),
  };
}

/** What `amber-collector alerts test` sends. */
export function testAlert(context: MessageContext): Alert {
  const id = `test-${context.now.getTime()}`;
  return {
    id: `${id}:test`,
    event: id,
    kind: 'test',
    phase: 'test',
    severity: 'info',
    title: 'amber-collector test alert',
    text: 'This is a test from amber-collector: alerts about prices and collector trouble will arrive here.',
    site: context.site,
    channel: null,
    window: null,
    intervals: [],
    price: null,
    dashboardUrl: context.dashboardUrl,
    createdAt: context.now.toISOString(),
  };
}
