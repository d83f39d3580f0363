/**
 * Alerts, wired to the collector: an observer of its events (`collectorEvents`) that, after each cycle,
 * turns the stored current and forecast prices and the collector's own health into events, records them
 * in `alert_events` (so each phase is announced once, across restarts) together with their deliveries
 * (so none is lost to a stop), and hands the announcements to the delivery queue. Nothing here runs
 * inside a cycle: the observer only notes what happened and queues the evaluation, so a slow database
 * read or a hanging webhook never delays collection.
 */
import type pg from 'pg';
import type { CollectorEvents } from '../collector/collector.ts';
import type { ForecastSnapshot } from '../collector/forecast-polling.ts';
import type { AlertConfig } from '../config/config.ts';
import {
  claimAlertPhase,
  openAlertEvent,
  readActualPrices,
  readOpenAlertEvents,
  readUnrepairedGaps,
  updateAlertEvent,
  type AlertEventRow,
} from '../db/alert-events.ts';
import { withTransaction } from '../db/pool.ts';
import { readStoredSites } from '../db/sites-store.ts';
import type { Logger } from '../logger.ts';
import { isTroubleKind, nemIso, type Alert, type AlertInterval, type AlertPhase, type TroubleAlertKind } from './alert.ts';
import { DeliveryQueue, type AlertDeliveryEvents, type DeliveryOptions } from './delivery.ts';
import { dashboardLink, priceAlert, troubleAlert, type MessageContext } from './messages.ts';
import { decidePriceEvents, type PriceDecision, type TrackedEvent } from './price-events.ts';
import { findRuns, priceRules, type PriceRule, type SnapshotInterval } from './price-runs.ts';
import { troubleKey, TroubleWatch, type TroubleCondition } from './trouble.ts';

/** A day gap repair has re-fetched this often in a row for nothing has used every back-off step (1 h, 6 h, 1 d, weekly). */
const GAP_GIVEN_UP_CHECKS = 4;
const DEFAULT_TROUBLE_CHECK_MS = 60_000;

interface AlerterDeps {
  pool: pg.Pool;
  config: AlertConfig;
  /** PUBLIC_URL: alerts link to the dashboard there. */
  publicUrl: string | null;
  logger: Logger;
  now?: () => Date;
  /** Metrics. */
  events?: AlertDeliveryEvents;
  /** Delivery knobs for tests: retry pauses, attempt timeout. */
  delivery?: Pick<DeliveryOptions, 'retryDelaysMs' | 'timeoutMs' | 'maxAttempts' | 'dispatcher'>;
  /** How often staleness is checked between cycles. */
  troubleCheckMs?: number;
}

export class Alerter {
  private readonly deps: AlerterDeps;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly queue: DeliveryQueue;
  private readonly rules: PriceRule[];
  private readonly trouble: TroubleWatch;
  private readonly snapshots = new Map<string, ForecastSnapshot>();
  private readonly nmis = new Map<string, string>();
  /** Evaluations run one at a time, in order. */
  private work: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(deps: AlerterDeps) {
    this.deps = deps;
    this.log = deps.logger;
    this.now = deps.now ?? (() => new Date());
    this.rules = priceRules(deps.config);
    this.trouble = new TroubleWatch(deps.config);
    this.queue = new DeliveryQueue({
      pool: deps.pool,
      targets: deps.config.targets,
      maxPerHour: deps.config.maxPerHour,
      quietHours: deps.config.quietHours,
      logger: deps.logger,
      now: this.now,
      ...(deps.events ? { events: deps.events } : {}),
      ...deps.delivery,
    });
  }

  /** For `new Collector({ events })`: notes what happened; evaluation runs after the cycle, off its path. */
  readonly collectorEvents: CollectorEvents = {
    forecastSnapshot: (snapshot) => {
      this.snapshots.set(snapshot.site.id, snapshot);
      this.nmis.set(snapshot.site.id, snapshot.site.nmi);
      this.trouble.watchSite(snapshot.site.id, this.now());
    },
    chunkStored: (result, priority) => this.trouble.chunkStored(result.siteId, result.dataType, this.now(), priority === 'fresh'),
    streamFailed: ({ siteId, dataType, code }) => this.trouble.streamFailed(siteId, dataType, code),
    cycleFinished: () => {
      this.trouble.cycleFinished();
      const snapshots = [...this.snapshots.values()];
      this.snapshots.clear();
      this.schedule(() => this.evaluate(snapshots, true));
    },
  };

  /**
   * This process collects (it holds the writer lock): delivers what an earlier run left pending, and checks
   * for staleness between cycles (a stuck cycle reports nothing by itself).
   */
  start(): void {
    this.schedule(() => this.queue.resume());
    this.timer ??= setInterval(() => this.schedule(() => this.evaluate([], false)), this.deps.troubleCheckMs ?? DEFAULT_TROUBLE_CHECK_MS);
    this.timer.unref();
  }

  /** This process stopped collecting (it lost the writer lock): stop watching for staleness until it collects again. */
  collectionPaused(): void {
    this.snapshots.clear();
    this.trouble.forget();
    this.queue.pause();
  }

  /**
   * Amber rejected the API key: the collector is about to stop, so this is announced now and given up to
   * `waitMs` to go out before the process exits.
   */
  async apiKeyRejected(waitMs: number): Promise<void> {
    this.trouble.apiKeyRejected();
    this.schedule(() => this.evaluate([], false));
    await this.idle();
    await this.queue.drain(waitMs);
  }

  /** Resolves when every evaluation queued so far has finished (deliveries may still be under way). */
  idle(): Promise<void> {
    return this.work;
  }

  /** Resolves when every delivery under way has finished, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void> {
    return this.queue.drain(timeoutMs);
  }

  /** Stops checking, lets queued evaluations finish and deliveries under way try for up to `waitMs`, then stops. */
  async close(waitMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle();
    await this.queue.drain(waitMs);
    this.queue.close();
  }

  private schedule(task: () => Promise<void>): void {
    this.work = this.work.then(task).catch((err: unknown) => {
      this.log.warn({ err }, 'could not evaluate alerts; the next cycle tries again');
    });
  }

  private async evaluate(snapshots: readonly ForecastSnapshot[], afterCycle: boolean): Promise<void> {
    const now = this.now();
    if (this.nmis.size === 0) {
      for (const site of await readStoredSites(this.deps.pool)) this.nmis.set(site.id, site.nmi);
    }
    const open = await readOpenAlertEvents(this.deps.pool);
    for (const snapshot of snapshots) {
      for (const rule of this.rules) {
        const runs = findRuns(rule, snapshot.intervals, now, this.deps.config.lookaheadMinutes * 60_000);
        const events = open.filter((e) => e.siteId === snapshot.site.id && e.kind === rule.kind && e.subject === rule.channel);
        for (const decision of decidePriceEvents(events.map(tracked), runs, now)) {
          await this.applyPriceDecision(snapshot.site.id, rule, decision, events, now);
        }
      }
    }
    const { active, cleared } = this.trouble.assess(now);
    if (afterCycle) {
      // Gap repair's own bookkeeping says which days it has given up on; read once per cycle.
      const gaps = await readUnrepairedGaps(this.deps.pool, GAP_GIVEN_UP_CHECKS);
      const streams = new Set(gaps.map((g) => `${g.siteId}|${g.dataType}`));
      for (const gap of gaps) active.push({ kind: 'gaps_unrepaired', siteId: gap.siteId, subject: gap.dataType, detail: { ...gap } });
      for (const e of open) {
        if (e.kind === 'gaps_unrepaired' && !streams.has(`${e.siteId}|${e.subject}`)) cleared.add(troubleKey(e));
      }
    }
    await this.applyTrouble(open, active, cleared, now);
  }

  private async applyPriceDecision(siteId: string, rule: PriceRule, decision: PriceDecision, rows: readonly AlertEventRow[], now: Date): Promise<void> {
    const pool = this.deps.pool;
    if (decision.type === 'open') {
      const { run, phase } = decision;
      const start = run.start ?? run.from;
      await this.announce(async (tx) => {
        const row = await openAlertEvent(tx, {
          siteId,
          kind: rule.kind,
          subject: rule.channel,
          startsAt: start,
          endsAt: run.end,
          forecastPeak: run.peak,
          phase,
          detail: { spikeStatus: strongestSpike(run.intervals) },
          openedAt: now,
        });
        return row && { eventId: row.id, alert: this.priceAlertFor(row, rule, phase, { start, end: run.end, intervals: run.intervals.map(toAlertInterval), actual: null }, now) };
      });
      return;
    }
    const row = rows.find((r) => r.id === decision.event.id)!;
    if (decision.type === 'update') {
      const { run, phase } = decision;
      const started = row.phasesSent.includes('started') || phase === 'started';
      const startsAt = row.phasesSent.includes('started') ? (row.startsAt ?? run.from) : (run.start ?? run.from);
      // The forecast peak is what was expected before the start: once running, it is kept for the comparison at the end.
      const spikeStatus = row.detail['spikeStatus'] === 'spike' ? 'spike' : strongestSpike(run.intervals);
      await updateAlertEvent(pool, row.id, { startsAt, endsAt: run.end, forecastPeak: started && phase === null ? null : run.peak, detail: { spikeStatus } });
      row.detail['spikeStatus'] = spikeStatus;
      if (phase === null) return;
      await this.announce(async (tx) => {
        if (!(await claimAlertPhase(tx, row.id, phase, { close: false, at: now }))) return null;
        const what = { start: startsAt, end: run.end, intervals: run.intervals.map(toAlertInterval), actual: null };
        return { eventId: row.id, alert: this.priceAlertFor({ ...row, forecastPeak: run.peak }, rule, phase, what, now) };
      });
      return;
    }
    // Ended: the actual prices of the event's intervals, as far as they are stored, are the verdict on the forecast.
    const start = row.startsAt ?? now;
    const forecastEnd = row.endsAt ?? now;
    const stored = await readActualPrices(pool, siteId, rule.channel, start, forecastEnd);
    const asInterval = (a: (typeof stored)[number]): SnapshotInterval => ({
      type: 'ActualInterval',
      channelType: rule.channel,
      endTime: a.endTime.toISOString(),
      duration: a.duration,
      perKwh: a.perKwh,
      spikeStatus: a.spikeStatus,
    });
    // An event that happened ended with its last actual interval still in the run, whatever end was last
    // forecast; without actual prices yet, by now at the latest. One that did not happen keeps its forecast window.
    const happened = row.phasesSent.includes('started');
    const lastInRun = happened ? stored.findLastIndex((a) => rule.stays(asInterval(a))) : -1;
    const actuals = lastInRun >= 0 ? stored.slice(0, lastInRun + 1) : stored;
    const end = !happened ? forecastEnd : lastInRun >= 0 ? stored[lastInRun]!.endTime : new Date(Math.min(forecastEnd.getTime(), now.getTime()));
    const values = actuals.map((a) => rule.value(asInterval(a)));
    const actual = values.length === 0 ? null : { peak: values.reduce((best, v) => (rule.beyond(v, best) ? v : best)), mean: values.reduce((sum, v) => sum + v, 0) / values.length };
    const intervals = actuals.map((a) => ({
      start: nemIso(new Date(a.endTime.getTime() - a.duration * 60_000)),
      end: nemIso(a.endTime),
      perKwh: a.perKwh,
      spikeStatus: a.spikeStatus,
      type: 'ActualInterval',
    }));
    await this.announce(async (tx) => {
      if (!(await claimAlertPhase(tx, row.id, 'ended', { close: true, at: now }))) return null;
      return { eventId: row.id, alert: this.priceAlertFor(row, rule, 'ended', { start, end, intervals, actual }, now) };
    });
  }

  private priceAlertFor(
    row: Pick<AlertEventRow, 'id' | 'siteId' | 'forecastPeak' | 'phasesSent' | 'detail'>,
    rule: PriceRule,
    phase: 'forecast' | 'started' | 'ended',
    what: { start: Date; end: Date; intervals: AlertInterval[]; actual: { peak: number; mean: number } | null },
    now: Date,
  ): Alert {
    return priceAlert(
      {
        event: `event-${row.id}`,
        kind: rule.kind,
        phase,
        channel: rule.channel,
        threshold: rule.threshold,
        start: what.start,
        end: what.end,
        intervals: what.intervals,
        forecastPeak: row.forecastPeak,
        actual: what.actual,
        happened: phase !== 'ended' || row.phasesSent.includes('started'),
        spikeStatus: rule.kind === 'spike' ? String(row.detail['spikeStatus'] ?? 'potential') : null,
      },
      this.context(row.siteId, now),
    );
  }

  private async applyTrouble(open: readonly AlertEventRow[], active: readonly TroubleCondition[], cleared: ReadonlySet<string>, now: Date): Promise<void> {
    const openByKey = new Map(open.filter((e) => isTroubleKind(e.kind)).map((e) => [troubleKey(e), e]));
    for (const condition of active) {
      if (openByKey.has(troubleKey(condition))) continue;
      await this.announce(async (tx) => {
        const row = await openAlertEvent(tx, { ...condition, startsAt: null, endsAt: null, forecastPeak: null, phase: 'opened', openedAt: now });
        return row && { eventId: row.id, alert: this.troubleAlertFor(row, condition.kind, 'opened', condition.detail, now) };
      });
    }
    for (const [key, row] of openByKey) {
      if (!cleared.has(key) || !isTroubleKind(row.kind)) continue;
      const kind = row.kind;
      await this.announce(async (tx) => {
        if (!(await claimAlertPhase(tx, row.id, 'resolved', { close: true, at: now }))) return null;
        return { eventId: row.id, alert: this.troubleAlertFor(row, kind, 'resolved', row.detail, now) };
      });
    }
  }

  private troubleAlertFor(row: AlertEventRow, kind: TroubleAlertKind, phase: 'opened' | 'resolved', detail: Record<string, unknown>, now: Date): Alert {
    return troubleAlert({ event: `event-${row.id}`, kind, phase, subject: row.subject, detail }, this.context(row.siteId, now));
  }

  /**
   * Records a phase as announced (`claim`, which says what to announce, or null when there is nothing to)
   * and its deliveries in one transaction, so no stop between the two can lose it; then starts delivering.
   */
  private async announce(claim: (tx: pg.PoolClient) => Promise<{ eventId: string; alert: Alert } | null>): Promise<void> {
    const recorded = await withTransaction(this.deps.pool, async (tx) => {
      const claimed = await claim(tx);
      return claimed && { alert: claimed.alert, deliveries: await this.queue.record(tx, claimed.eventId, claimed.alert) };
    });
    if (recorded === null) return;
    const alert = recorded.alert;
    this.log.info({ alert: alert.id, kind: alert.kind, phase: alert.phase, site: alert.site?.id, title: alert.title }, 'alert');
    this.queue.accept(recorded.deliveries);
  }

  private context(siteId: string | null, now: Date): MessageContext {
    return {
      site: siteId === null ? null : { id: siteId, nmi: this.nmis.get(siteId) ?? null },
      dashboardUrl: dashboardLink(this.deps.publicUrl, siteId),
      now,
    };
  }
}

function tracked(row: AlertEventRow): TrackedEvent {
  return { id: row.id, startsAt: row.startsAt ?? row.openedAt, endsAt: row.endsAt ?? row.openedAt, phases: row.phasesSent as AlertPhase[] };
}

function toAlertInterval(i: SnapshotInterval): AlertInterval {
  const end = new Date(i.endTime);
  return { start: nemIso(new Date(end.getTime() - i.duration * 60_000)), end: nemIso(end), perKwh: i.perKwh, spikeStatus: i.spikeStatus, type: i.type };
}

function strongestSpike(intervals: readonly SnapshotInterval[]): string {
  return intervals.some((i) => i.spikeStatus === 'spike') ? 'spike' : 'potential';
}
