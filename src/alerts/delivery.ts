/**
 * The delivery queue between alert detection and the webhooks. `enqueue` returns at once, so collection
 * never waits for a receiver: every target gets its own delivery, retried with growing pauses that start
 * within seconds (an alert about the next hour is useless an hour late), and a receiver that hangs is
 * abandoned after `timeoutMs` and tried again.
 *
 * Price alerts count against ALERT_MAX_PER_HOUR and wait out ALERT_QUIET_HOURS; when the quiet hours end,
 * only the newest phase of each held event is sent. Collector trouble is never held back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { Logger } from '../logger.ts';
import { isTroubleKind, type Alert } from './alert.ts';
import { isQuiet, quietEnds, type QuietHours } from './quiet-hours.ts';
import { sendAlert } from './send.ts';
import type { AlertFormat, AlertTarget } from '../domain/alert-formats.ts';
import { describeTarget } from './targets.ts';

/** Observers of deliveries (metrics). */
export interface AlertDeliveryEvents {
  sent?(alert: Pick<Alert, 'kind' | 'phase'>, format: AlertFormat): void;
  /** One failed attempt; it may still be retried. */
  failed?(format: AlertFormat): void;
  /** An alert not sent at all: over the hourly cap, or given up after its last attempt. */
  dropped?(reason: 'hourly_cap' | 'gave_up' | 'shutdown'): void;
}

export interface DeliveryOptions {
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
  private readonly inFlight = new Set<Promise<void>>();
  /** Alerts sent (or being sent) in the last hour, for the cap. */
  private readonly recent: number[] = [];
  /** Held during quiet hours: the newest alert of each event. */
  private readonly held = new Map<string, Alert>();
  private releaseTimer: NodeJS.Timeout | null = null;
  private readonly stopping = new AbortController();

  constructor(options: DeliveryOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.log = options.logger;
  }

  /** Starts delivering `alert` to every target (or holds it during quiet hours) and returns at once. */
  enqueue(alert: Alert): void {
    if (this.options.targets.length === 0 || this.stopping.signal.aborted) return;
    const now = this.now();
    if (!isTroubleKind(alert.kind) && isQuiet(this.options.quietHours, now)) {
      this.held.set(alert.event, alert);
      this.log.info({ alert: alert.id, kind: alert.kind, phase: alert.phase }, 'alert held until the quiet hours end');
      this.scheduleRelease(now);
      return;
    }
    this.dispatch(alert);
  }

  /** Resolves once every delivery under way has finished (sent or given up), or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = sleep(timeoutMs, undefined, { ref: false });
    while (this.inFlight.size > 0) {
      const settled = await Promise.race([Promise.allSettled([...this.inFlight]).then(() => true), deadline.then(() => false)]);
      if (!settled) return;
    }
  }

  /** Stops retrying and abandons held alerts; deliveries under way end at their next pause. */
  close(): void {
    this.stopping.abort();
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    if (this.held.size > 0) {
      this.log.warn({ held: this.held.size }, 'alerts held for the quiet hours are dropped at shutdown');
      for (const _ of this.held.values()) this.options.events?.dropped?.('shutdown');
      this.held.clear();
    }
  }

  private scheduleRelease(now: Date): void {
    const quiet = this.options.quietHours;
    if (this.releaseTimer || quiet === null) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = null;
      const released = [...this.held.values()];
      this.held.clear();
      for (const alert of released) this.enqueue(alert);
    }, quietEnds(quiet, now).getTime() - now.getTime());
    this.releaseTimer.unref();
  }

  private dispatch(alert: Alert): void {
    if (!isTroubleKind(alert.kind)) {
      const hourAgo = this.now().getTime() - HOUR_MS;
      while (this.recent.length > 0 && this.recent[0]! <= hourAgo) this.recent.shift();
      if (this.recent.length >= this.options.maxPerHour) {
        this.log.warn({ alert: alert.id, kind: alert.kind, phase: alert.phase, maxPerHour: this.options.maxPerHour }, 'alert dropped: ALERT_MAX_PER_HOUR reached');
        this.options.events?.dropped?.('hourly_cap');
        return;
      }
      this.recent.push(this.now().getTime());
    }
    for (const target of this.options.targets) {
      const delivery = this.deliver(alert, target).finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  private async deliver(alert: Alert, target: AlertTarget): Promise<void> {
    const delays = this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const maxAttempts = this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const signal = this.stopping.signal;
    const facts = { alert: alert.id, kind: alert.kind, phase: alert.phase, target: describeTarget(target.url), format: target.format };
    for (let attempt = 1; ; attempt++) {
      const outcome = await sendAlert(alert, target, {
        timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        signal,
        ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
      });
      if (outcome.ok) {
        this.options.events?.sent?.(alert, target.format);
        this.log.info({ ...facts, attempt, status: outcome.status, durationMs: outcome.durationMs }, 'alert delivered');
        return;
      }
      if (signal.aborted) return;
      this.options.events?.failed?.(target.format);
      if (!outcome.retryable || attempt >= maxAttempts) {
        this.options.events?.dropped?.('gave_up');
        this.log.error({ ...facts, attempt, status: outcome.status, detail: outcome.detail }, 'alert delivery failed; giving up');
        return;
      }
      const pause = Math.max(delays[Math.min(attempt, delays.length) - 1] ?? 0, Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
      this.log.warn({ ...facts, attempt, status: outcome.status, detail: outcome.detail, retryInMs: pause }, 'alert delivery failed; retrying');
      try {
        await sleep(pause, undefined, { signal, ref: false });
      } catch {
        return;
      }
    }
  }
}
