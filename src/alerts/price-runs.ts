/**
 * Price events from one forecast snapshot: runs of consecutive intervals beyond a threshold, with
 * hysteresis in value and in time, so a forecast that wobbles around the threshold makes one event and
 * not a string of them. Only an interval strictly beyond the threshold can start an event; once started,
 * it goes on through intervals within the hysteresis band and across short gaps (BRIDGE_MS).
 */
import type { AlertConfig } from '../config/config.ts';
import type { PriceAlertKind } from './alert.ts';

/** What detection reads of an interval (`/prices/current` elements, or rows of the forecast archive). */
export interface SnapshotInterval {
  type: string;
  channelType: string;
  /** The interval's end, an instant. */
  endTime: string;
  duration: number;
  perKwh: number;
  spikeStatus: string;
}

export interface PriceRule {
  kind: PriceAlertKind;
  channel: 'general' | 'feedIn';
  threshold: number | null;
  /** The price the rule reads, in its own sense (feed-in: what exporting earns, so the sign is flipped). */
  value(interval: SnapshotInterval): number;
  /** Strictly beyond the threshold: starts a run. */
  enters(interval: SnapshotInterval): boolean;
  /** Within the hysteresis band: keeps a started run going. */
  stays(interval: SnapshotInterval): boolean;
  /** True when `a` is more extreme than `b` in the rule's direction (higher, or lower for price_below). */
  beyond(a: number, b: number): boolean;
}

export interface Run {
  rule: PriceRule;
  /**
   * Start of the first interval strictly beyond the threshold: when an event starts. Null for a run that
   * stays within the band throughout: it can keep a started event going but never start one.
   */
  start: Date | null;
  /** Start of the run's first interval. */
  from: Date;
  end: Date;
  intervals: SnapshotInterval[];
  /** The most extreme value of the run, in the rule's sense. */
  peak: number;
}

/** Gaps up to this long between matching intervals do not split a run (one 5-minute dip, or two). */
export const BRIDGE_MS = 10 * 60_000;

/** The band a started run may fall back into: a tenth of the threshold, at least 1 c/kWh. */
function hysteresisBand(threshold: number): number {
  return Math.max(1, Math.abs(threshold) / 10);
}

/** The rules the configuration switches on. */
export function priceRules(config: Pick<AlertConfig, 'priceAbove' | 'priceBelow' | 'feedInAbove' | 'spikeStatuses'>): PriceRule[] {
  const rules: PriceRule[] = [];
  const above = (kind: PriceAlertKind, channel: PriceRule['channel'], threshold: number, value: (i: SnapshotInterval) => number): PriceRule => ({
    kind,
    channel,
    threshold,
    value,
    enters: (i) => value(i) > threshold,
    stays: (i) => value(i) > threshold - hysteresisBand(threshold),
    beyond: (a, b) => a > b,
  });
  if (config.priceAbove !== null) rules.push(above('price_above', 'general', config.priceAbove, (i) => i.perKwh));
  if (config.priceBelow !== null) {
    const threshold = config.priceBelow;
    rules.push({
      kind: 'price_below',
      channel: 'general',
      threshold,
      value: (i) => i.perKwh,
      enters: (i) => i.perKwh < threshold,
      stays: (i) => i.perKwh < threshold + hysteresisBand(threshold),
      beyond: (a, b) => a < b,
    });
  }
  // Amber's feed-in perKwh is negative when the customer is paid: earning X c/kWh is perKwh = -X.
  if (config.feedInAbove !== null) rules.push(above('feed_in_above', 'feedIn', config.feedInAbove, (i) => -i.perKwh));
  if (config.spikeStatuses.length > 0) {
    const statuses: readonly string[] = config.spikeStatuses;
    rules.push({
      kind: 'spike',
      channel: 'general',
      threshold: null,
      value: (i) => i.perKwh,
      enters: (i) => statuses.includes(i.spikeStatus),
      stays: (i) => statuses.includes(i.spikeStatus),
      beyond: (a, b) => a > b,
    });
  }
  return rules;
}

/**
 * The runs of `rule` among the current and forecast intervals that have not ended by `now`, earliest
 * first, keeping those that begin before `now + lookaheadMs`. A run is followed to its end, however far
 * beyond the lookahead that lies.
 */
export function findRuns(rule: PriceRule, intervals: readonly SnapshotInterval[], now: Date, lookaheadMs: number): Run[] {
  const candidates = intervals
    .filter((i) => i.channelType === rule.channel && i.type !== 'ActualInterval')
    .map((i) => ({ interval: i, end: Date.parse(i.endTime), start: Date.parse(i.endTime) - i.duration * 60_000 }))
    .filter((c) => c.end > now.getTime())
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const runs: Run[] = [];
  let current: { from: number; end: number; start: number | null; items: SnapshotInterval[] } | null = null;
  for (const c of candidates) {
    const enters = rule.enters(c.interval);
    if (!enters && !rule.stays(c.interval)) continue;
    if (current !== null && c.start - current.end > BRIDGE_MS) {
      runs.push(toRun(rule, current));
      current = null;
    }
    current ??= { from: c.start, end: c.end, start: null, items: [] };
    current.end = Math.max(current.end, c.end);
    if (enters) current.start ??= c.start;
    current.items.push(c.interval);
  }
  if (current !== null) runs.push(toRun(rule, current));
  const horizon = now.getTime() + lookaheadMs;
  return runs.filter((run) => (run.start ?? run.from).getTime() < horizon);
}

function toRun(rule: PriceRule, run: { from: number; end: number; start: number | null; items: SnapshotInterval[] }): Run {
  const peak = run.items.map((i) => rule.value(i)).reduce((best, v) => (rule.beyond(v, best) ? v : best));
  return {
    rule,
    from: new Date(run.from),
    start: run.start === null ? null : new Date(run.start),
    end: new Date(run.end),
    intervals: run.items,
    peak,
  };
}
