/**
 * The delivery queue between alert detection and the webhooks. An announcement is stored first, one row
 * per target in `alert_deliveries`, in the transaction that records its phase as announced (`record`);
 * `accept` then starts delivering it and returns at once, so collection never waits for a receiver:
 * every target gets its own delivery, retried with growing pauses that start within seconds (an alert
 * about the next hour is useless an hour late), and a receiver that hangs is abandoned after `timeoutMs`
 * and tried again. Every attempt and outcome is written back, so a stop loses nothing: `resume` picks up
 * what an earlier process left held, retrying or cut short, and each phase reaches each target once.
 *
 * Price alerts count against ALERT_MAX_PER_HOUR and wait out ALERT_QUIET_HOURS; when the quiet hours end,
 * only the newest phase of each held event is sent (the older ones are superseded). Collector trouble is
 * never held back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Dispatcher } from 'undici';
import {
  finishAlertDeliveries,
  insertAlertDeliveries,
  markAlertDeliveriesDispatched,
  readPendingAlertDeliveries,
  recordAlertDeliveryAttempt,
  type StoredDelivery,
} from '../db/alert-deliveries.ts';
import type { Queryable } from '../db/pool.ts';
import type { Logger } from '../logger.ts';
import { isTroubleKind, type Alert } from './alert.ts';
import { isQuiet, quietEnds, type QuietHours } from './quiet-hours.ts';
import { sendAlert } from './send.ts';
import type { AlertFormat, AlertTarget } from '../domain/alert-formats.ts';
import { describeTarget, targetKey } from './targets.ts';

type DropReason = 'hourly_cap' | 'gave_up' | 'target_removed';

/** Observers of deliveries (metrics). */
export interface AlertDeliveryEvents {
  sent?(alert: Pick<Alert, 'kind' | 'phase'>, format: AlertFormat): void;
  /** One failed attempt; it may still be retried. */
  failed?(format: AlertFormat): void;
  /** An alert not sent: over the hourly cap (once per alert), or to one target after its last attempt, or to a target no longer configured. */
  dropped?(reason: DropReason): void;
}

export interface DeliveryOptions {
  pool: pg.Pool;
  targets: readonly AlertTarget[];
  maxPerHour: number;
  quietHours: QuietHours | null;
  logger: Logger;
  now?: () => Date;
  /** Pauses before the 2nd, 3rd, … attempt; the last one repeats. */
  retryDelaysMs?: readonly number[];
  maxAttempts?: number;
  /** How long one attempt may wait for an answer. */
  timeoutMs?: number;
  events?: AlertDeliveryEvents;
  dispatcher?: Dispatcher;
}

const SECOND_MS = 1000;
const HOUR_MS = 60 * 60 * SECOND_MS;
/** 2 s, 10 s, 30 s, then every minute, then every 5: about 20 minutes over 10 attempts. */
const DEFAULT_RETRY_DELAYS_MS = [2, 10, 30, 60, 60, 300].map((s) => s * SECOND_MS);
const DEFAULT_MAX_ATTEMPTS = 10;
const DEFAULT_TIMEOUT_MS = 10 * SECOND_MS;
/** A Retry-After longer than this is not waited for in full: the next attempt comes after this. */
const MAX_RETRY_AFTER_MS = 5 * 60 * SECOND_MS;

export class DeliveryQueue {
  private readonly options: DeliveryOptions;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly targets: Map<string, AlertTarget>;
  private readonly inFlight = new Set<Promise<void>>();
  /** Deliveries this process has taken on (held or under way), so `resume` never starts one twice. */
  private readonly taken = new Set<string>();
  /** Alerts dispatched in the last hour, for the cap. */
  private readonly recent: number[] = [];
  /** Held during quiet hours: the deliveries of the newest phase of each event. */
  private readonly held = new Map<string, StoredDelivery[]>();
  private releaseTimer: NodeJS.Timeout | null = null;
  /** Aborted when this process stops delivering (it stops, or another collector writes now). */
  private stopping = new AbortController();
  private closed = false;

  constructor(options: DeliveryOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.log = options.logger;
    this.targets = new Map(options.targets.map((target) => [targetKey(target.url), target]));
  }

  /** Records the delivery of `alert` to every target, in the caller's transaction; `accept` what it returns after the commit. */
  record(db: Queryable, eventId: string, alert: Alert): Promise<StoredDelivery[]> {
    return insertAlertDeliveries(db, { eventId, phase: alert.phase, alert, targets: [...this.targets.keys()], at: this.now() });
  }

  /** Starts delivering recorded deliveries (or holds them during quiet hours) and returns at once. */
  accept(deliveries: readonly StoredDelivery[]): void {
    if (this.closed) return;
    for (const group of byAnnouncement(deliveries.filter((d) => !this.taken.has(d.id)))) {
      for (const delivery of group) this.taken.add(delivery.id);
      this.route(group);
    }
  }

  /**
   * Takes on the deliveries an earlier process left pending: retries carry on where they stopped; of the
   * announcements never dispatched (held for quiet hours), only the newest phase of each event is kept.
   */
  async resume(): Promise<void> {
    const pending = (await readPendingAlertDeliveries(this.options.pool)).filter((d) => !this.taken.has(d.id));
    const groups = byAnnouncement(pending);
    const newest = new Map<string, StoredDelivery[]>();
    const superseded: StoredDelivery[] = [];
    for (const group of groups) {
      if (group[0]!.dispatchedAt !== null) continue;
      const previous = newest.get(group[0]!.eventId);
      if (previous) superseded.push(...previous);
      newest.set(group[0]!.eventId, group);
    }
    if (superseded.length > 0) await this.finish(superseded, { state: 'superseded' });
    const dropped = new Set(superseded.map((d) => d.id));
    if (pending.length > 0) this.log.info({ pending: pending.length - dropped.size, superseded: dropped.size }, 'resuming alert deliveries left pending by the last run');
    this.accept(pending.filter((d) => !dropped.has(d.id)));
  }

  /** Resolves once every delivery under way has finished (sent or given up), or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = sleep(timeoutMs, undefined, { ref: false });
    while (this.inFlight.size > 0) {
      const settled = await Promise.race([Promise.allSettled([...this.inFlight]).then(() => true), deadline.then(() => false)]);
      if (!settled) return;
    }
  }

  /**
   * This process stopped collecting (another collector holds the writer lock): its deliveries end at their
   * next pause and stay stored, for whichever collector resumes them, so two never send the same one.
   */
  pause(): void {
    this.halt();
    this.stopping = new AbortController();
  }

  /** Stops: deliveries under way end at their next pause, held ones wait in the database for the next start. */
  close(): void {
    this.closed = true;
    this.halt();
  }

  private halt(): void {
    this.stopping.abort();
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    if (this.held.size > 0) this.log.info({ held: this.held.size }, 'alerts held for the quiet hours stay stored; the next start delivers them');
    this.held.clear();
    this.taken.clear();
  }

  private route(group: StoredDelivery[]): void {
    const alert = group[0]!.alert as Alert;
    if (group.every((d) => d.dispatchedAt !== null)) {
      // Retries an earlier process began: the cap and the quiet hours were passed already.
      for (const delivery of group) this.track(this.deliver(delivery));
    } else if (!isTroubleKind(alert.kind) && isQuiet(this.options.quietHours, this.now())) {
      this.hold(alert, group);
    } else {
      this.track(this.dispatch(alert, group));
    }
  }

  private hold(alert: Alert, group: StoredDelivery[]): void {
    const previous = this.held.get(alert.event);
    this.held.set(alert.event, group);
    this.log.info({ alert: alert.id, kind: alert.kind, phase: alert.phase }, 'alert held until the quiet hours end');
    if (previous) this.track(this.finish(previous, { state: 'superseded' }));
    const quiet = this.options.quietHours;
    if (this.releaseTimer || quiet === null) return;
    const now = this.now();
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = null;
      const released = [...this.held.values()];
      this.held.clear();
      for (const held of released) this.route(held);
    }, quietEnds(quiet, now).getTime() - now.getTime());
    this.releaseTimer.unref();
  }

  private async dispatch(alert: Alert, group: StoredDelivery[]): Promise<void> {
    if (!isTroubleKind(alert.kind)) {
      const hourAgo = this.now().getTime() - HOUR_MS;
      while (this.recent.length > 0 && this.recent[0]! <= hourAgo) this.recent.shift();
      if (this.recent.length >= this.options.maxPerHour) {
        this.log.warn({ alert: alert.id, kind: alert.kind, phase: alert.phase, maxPerHour: this.options.maxPerHour }, 'alert dropped: ALERT_MAX_PER_HOUR reached');
        this.options.events?.dropped?.('hourly_cap');
        await this.finish(group, { state: 'dropped', reason: 'hourly_cap' });
        return;
      }
      this.recent.push(this.now().getTime());
    }
    await this.write(() => markAlertDeliveriesDispatched(this.options.pool, group.map((d) => d.id), this.now()));
    for (const delivery of group) this.track(this.deliver(delivery));
  }

  private async deliver(delivery: StoredDelivery): Promise<void> {
    const alert = delivery.alert as Alert;
    const target = this.targets.get(delivery.target);
    if (target === undefined) {
      this.log.warn({ alert: alert.id, kind: alert.kind, phase: alert.phase }, 'alert dropped: its target is no longer in ALERT_WEBHOOK_URL');
      this.options.events?.dropped?.('target_removed');
      await this.finish([delivery], { state: 'dropped', reason: 'target_removed' });
      return;
    }
    const delays = this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const maxAttempts = this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const signal = this.stopping.signal;
    const facts = { alert: alert.id, kind: alert.kind, phase: alert.phase, target: describeTarget(target.url), format: target.format };
    // A delivery resumed after a restart first waits out the pause its last failure asked for.
    let pause = delivery.nextAttemptAt.getTime() - this.now().getTime();
    for (let attempt = delivery.attempts + 1; ; attempt++) {
      if (pause > 0) {
        try {
          await sleep(pause, undefined, { signal, ref: false });
        } catch {
          return;
        }
      }
      const outcome = await sendAlert(alert, target, {
        timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        signal,
        ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
      });
      if (outcome.ok) {
        this.options.events?.sent?.(alert, target.format);
        this.log.info({ ...facts, attempt, status: outcome.status, durationMs: outcome.durationMs }, 'alert delivered');
        await this.finish([delivery], { state: 'delivered', attempts: attempt });
        return;
      }
      if (signal.aborted) {
        // Cut short by the stop, its outcome unknown: the next start tries again.
        await this.write(() => recordAlertDeliveryAttempt(this.options.pool, delivery.id, attempt, this.now()));
        return;
      }
      this.options.events?.failed?.(target.format);
      if (!outcome.retryable || attempt >= maxAttempts) {
        this.options.events?.dropped?.('gave_up');
        this.log.error({ ...facts, attempt, status: outcome.status, detail: outcome.detail }, 'alert delivery failed; giving up');
        await this.finish([delivery], { state: 'dropped', reason: 'gave_up', attempts: attempt });
        return;
      }
      pause = Math.max(delays[Math.min(attempt, delays.length) - 1] ?? 0, Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
      this.log.warn({ ...facts, attempt, status: outcome.status, detail: outcome.detail, retryInMs: pause }, 'alert delivery failed; retrying');
      const next = new Date(this.now().getTime() + pause);
      await this.write(() => recordAlertDeliveryAttempt(this.options.pool, delivery.id, attempt, next));
    }
  }

  private async finish(
    deliveries: readonly StoredDelivery[],
    outcome: { state: 'delivered' | 'dropped' | 'superseded'; reason?: DropReason; attempts?: number },
  ): Promise<void> {
    await this.write(() => finishAlertDeliveries(this.options.pool, deliveries.map((d) => d.id), { ...outcome, at: this.now() }));
    for (const delivery of deliveries) this.taken.delete(delivery.id);
  }

  /** A delivery's bookkeeping; a database that fails it is logged, never allowed to stop the delivery itself. */
  private async write(statement: () => Promise<void>): Promise<void> {
    try {
      await statement();
    } catch (err) {
      this.log.warn({ err }, 'could not record an alert delivery in the database; a restart may send it again');
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}

/** Deliveries grouped by announcement (event and phase), in the order they were recorded. */
function byAnnouncement(deliveries: readonly StoredDelivery[]): StoredDelivery[][] {
  const groups = new Map<string, StoredDelivery[]>();
  for (const delivery of deliveries) {
    const key = `${delivery.eventId}:${delivery.phase}`;
    groups.set(key, [...(groups.get(key) ?? []), delivery]);
  }
  return [...groups.values()];
}
