/**
 * The collection orchestrator: discovers sites, backfills every stream (site × data type) from the start
 * date, and runs incremental cycles on a cron schedule, with gap repair and on-demand backfill requests in
 * the background. `start()` and `stop()` are idempotent; the daemon calls them as it gains and loses the
 * single-writer lock.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type pg from 'pg';
import type { AmberConnection } from '../amber/connect.ts';
import type { Site } from '../domain/models.ts';
import { isCollectorError, isFatal } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Config } from '../config/config.ts';
import { readCollectionStates } from '../db/collection-state.ts';
import { logPlan, planBackfill, runBackfill, type BackfillEvents, type BackfillPlan } from './history-backfill.ts';
import { BackfillRequestServer, processIdentity } from './on-demand-backfill.ts';
import { ChunkCollector, type ChunkEvents, type CollectDays } from './chunk.ts';
import { IncrementalCycle, type CycleEvents, type CycleSummary } from './cycle.ts';
import { streamsOf, type Stream } from '../domain/fetch-plan.ts';
import { DEFAULT_REPAIR_POLICY, type RepairPolicy } from '../domain/repair-rules.ts';
import { repairGaps, repairStreams } from './repair.ts';
import { discoverSites } from './site-discovery.ts';

/** The sites list rarely changes; re-reading it hourly notices new and closed sites without spending budget. */
const SITE_REFRESH_MS = 60 * 60 * 1000;

export type CollectionSettings = Pick<
  Config['collection'],
  'historicalStartDate' | 'intervalMinutes' | 'priceRevisionDays' | 'usageRevisionDays' | 'usagePollMinutes'
> & {
  siteIds: readonly string[] | null;
  /** Unset or null: keep every forecast. */
  forecastRetentionDays?: number | null;
  /** Unset or null: never compact the forecast archive (the daemon passes the configured default, 7). */
  forecastCompactAfterDays?: number | null;
};

export interface CollectorEvents extends ChunkEvents, BackfillEvents, CycleEvents {
  cycleFinished?(summary: CycleSummary): void;
}

export interface CollectorDeps {
  pool: pg.Pool;
  /** The Amber client, and the limiter that paces it and estimates how long the remaining calls take. */
  amber: AmberConnection;
  settings: CollectionSettings;
  /** When cycles run once started (node-cron expression, UTC); default `cycleCronFor(settings.intervalMinutes)`. */
  cycleCron?: string;
  logger: Logger;
  /** Called when background work meets an error no retry can cure (a rejected API key). */
  onFatal: (err: unknown) => void;
  /** Observers (metrics); optional so tests and commands can leave them out. */
  events?: CollectorEvents;
  now?: () => Date;
  /** Gap repair limits; default DEFAULT_REPAIR_POLICY (2 calls per cycle, back-off 1 h, 6 h, 1 d, weekly). */
  repairPolicy?: RepairPolicy;
}

/** `*\/N * * * *`: cycles start on minute boundaries that are multiples of N (UTC). */
function cycleCronFor(intervalMinutes: number): string {
  return intervalMinutes >= 60 ? '0 * * * *' : `*/${intervalMinutes} * * * *`;
}

/** What `start()` set running, which `stop()` takes down. */
interface Session {
  controller: AbortController;
  started: Promise<void>;
  task: ScheduledTask | null;
  servingRequests: Promise<void> | null;
}

export class Collector {
  /** Fetches and stores days of a stream outside the backfill and cycles (see ChunkCollector.collectDays). */
  readonly collectDays: CollectDays;
  private readonly deps: CollectorDeps;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly chunks: ChunkCollector;
  private readonly cycle: IncrementalCycle;
  private readonly requests: BackfillRequestServer;
  private sites: Site[] = [];
  private sitesRefreshedAt = 0;
  private cycleInFlight: Promise<CycleSummary> | null = null;
  private backfillInFlight: Promise<void> | null = null;
  private repairInFlight: Promise<void> | null = null;
  private session: Session | null = null;
  private stopping: Promise<void> | null = null;
  /** Expected wall time for N more API calls under the rate budget as it stands. */
  private readonly estimateDurationMs = (calls: number): number => this.deps.amber.limiter.estimateDurationMs(calls);

  constructor(deps: CollectorDeps) {
    this.deps = deps;
    this.log = deps.logger;
    const now = deps.now ?? (() => new Date());
    this.now = now;
    const { pool, settings, events, logger } = deps;
    const { client } = deps.amber;
    this.chunks = new ChunkCollector({ pool, client, logger, historicalStartDate: settings.historicalStartDate, now, events });
    this.collectDays = this.chunks.collectDays;
    this.cycle = new IncrementalCycle({
      pool,
      client,
      chunks: this.chunks,
      logger,
      now,
      events,
      settings: {
        ...settings,
        forecastRetentionDays: settings.forecastRetentionDays ?? null,
        forecastCompactAfterDays: settings.forecastCompactAfterDays ?? null,
      },
    });
    this.requests = new BackfillRequestServer({ pool, collect: this.collectDays, logger, executor: processIdentity(), onFatal: deps.onFatal });
  }

  /**
   * Starts collecting: reads the sites, logs the plan, starts the backfill, runs a cycle now and on every
   * cron tick, and serves on-demand backfill requests as soon as they are made. Calling it again while
   * started is a no-op; after a `stop()` (awaited or not) it starts afresh.
   */
  async start(): Promise<void> {
    if (this.stopping) await this.stopping;
    this.session ??= this.open();
    await this.session.started;
  }

  /** Stops the schedule, aborts in-flight work and waits for its transactions to commit or roll back. Idempotent. */
  stop(): Promise<void> {
    const session = this.session;
    if (session === null) return Promise.resolve();
    this.stopping ??= this.close(session).finally(() => {
      this.session = null;
      this.stopping = null;
    });
    return this.stopping;
  }

  /** The sites being collected (after the AMBER_SITE_IDS filter). */
  get collectedSites(): readonly Site[] {
    return this.sites;
  }

  get backfillRunning(): boolean {
    return this.backfillInFlight !== null;
  }

  /** Reads `/sites`, stores every site (closed ones too) and keeps the ones to collect. */
  async discoverSites(signal: AbortSignal): Promise<readonly Site[]> {
    const { pool, settings } = this.deps;
    const { client } = this.deps.amber;
    this.sites = await discoverSites({ pool, client, logger: this.log, siteIds: settings.siteIds }, signal);
    this.sitesRefreshedAt = this.now().getTime();
    return this.sites;
  }

  /** Logs what will be collected and what the backfill will cost, before any of it starts. */
  async logPlan(): Promise<void> {
    logPlan(this.log, this.sites, await this.planBackfill(), this.deps.settings.historicalStartDate, this.estimateDurationMs);
  }

  /** Runs the backfill unless one is already running (see backfill.ts). */
  backfill(signal: AbortSignal): Promise<void> {
    this.backfillInFlight ??= this.planBackfill()
      .then((plan) => runBackfill({ chunks: this.chunks, logger: this.log, now: this.now, estimateDurationMs: this.estimateDurationMs, events: this.deps.events }, plan, signal))
      .catch(this.backgroundFailure('backfill stopped; the next cycle resumes it', signal))
      .finally(() => {
        this.backfillInFlight = null;
      });
    return this.backfillInFlight;
  }

  /**
   * One incremental cycle (see cycle.ts), then makes sure a backfill, gap repair and any open backfill
   * requests run if there is work for them. A tick that finds the previous cycle still running is skipped.
   */
  async runCycle(signal: AbortSignal): Promise<CycleSummary | null> {
    if (this.cycleInFlight) {
      this.log.info('previous cycle still running; skipping this tick');
      return null;
    }
    this.cycleInFlight = this.cycleOnce(signal);
    try {
      return await this.cycleInFlight;
    } finally {
      this.cycleInFlight = null;
    }
  }

  /** Waits for in-flight work to finish (after its signal was aborted) so transactions commit or roll back. */
  async settle(): Promise<void> {
    await Promise.allSettled([this.cycleInFlight, this.backfillInFlight, this.repairInFlight, this.requests.settle()]);
  }

  private open(): Session {
    const session: Session = { controller: new AbortController(), started: Promise.resolve(), task: null, servingRequests: null };
    session.started = this.begin(session);
    return session;
  }

  private async begin(session: Session): Promise<void> {
    const signal = session.controller.signal;
    // Requests made with `amber-collector backfill` run as soon as they are made, while this collector runs.
    session.servingRequests = this.requests.listen(signal);
    try {
      await this.discoverSites(signal);
      await this.logPlan();
      void this.backfill(signal);
    } catch (err) {
      if (isCollectorError(err, 'ABORTED') || signal.aborted) return;
      if (isFatal(err)) return this.deps.onFatal(err);
      this.log.error({ err }, 'could not read the sites list; the next cycle tries again');
    }
    const task = cron.createTask(this.deps.cycleCron ?? cycleCronFor(this.deps.settings.intervalMinutes), () => this.tick(signal), { name: 'collection-cycle', timezone: 'UTC' });
    task.on('execution:missed', () => this.log.warn('a cycle was missed (the process was paused or busy); the next one catches up'));
    session.task = task;
    await task.start();
    void this.tick(signal);
  }

  private async close(session: Session): Promise<void> {
    session.controller.abort();
    // A start still in flight settles first (its calls see the abort), so nothing it schedules outlives stop().
    await session.started;
    await session.task?.stop();
    await session.task?.destroy();
    await this.settle();
    await session.servingRequests;
  }

  private async tick(signal: AbortSignal): Promise<void> {
    try {
      await this.runCycle(signal);
    } catch (err) {
      if (isCollectorError(err, 'ABORTED')) return;
      if (isFatal(err)) this.deps.onFatal(err);
      else this.log.error({ err }, 'cycle failed; the next cycle tries again');
    }
  }

  private async cycleOnce(signal: AbortSignal): Promise<CycleSummary> {
    const started = this.now().getTime();
    if (this.sites.length === 0 || started - this.sitesRefreshedAt >= SITE_REFRESH_MS) {
      await this.discoverSites(signal);
    }
    const counts = await this.cycle.run(this.streams(), started, signal);
    const summary: CycleSummary = { ...counts, durationMs: this.now().getTime() - started };
    this.log.info({ ...summary, backfillRunning: this.backfillRunning }, 'cycle finished');
    this.deps.events?.cycleFinished?.(summary);
    if (!signal.aborted) {
      void this.backfill(signal);
      void this.repairGaps(signal);
      void this.requests.serve(signal);
    }
    return summary;
  }

  /**
   * How background work (backfill, gap repair) ends on an error: quietly when stopping, the whole daemon for
   * an error no retry can cure (a rejected key), otherwise a log line and the next cycle tries again.
   */
  private backgroundFailure(message: string, signal: AbortSignal): (err: unknown) => void {
    return (err) => {
      if (isCollectorError(err, 'ABORTED') || signal.aborted) return;
      if (isFatal(err)) this.deps.onFatal(err);
      else this.log.error({ err }, message);
    };
  }

  /** A round of gap repair in the background after each cycle, unless the previous round is still running. */
  private repairGaps(signal: AbortSignal): Promise<void> {
    this.repairInFlight ??= this.runRepairRound(signal)
      .catch(this.backgroundFailure('gap repair stopped; the next cycle tries again', signal))
      .finally(() => {
        this.repairInFlight = null;
      });
    return this.repairInFlight;
  }

  private async runRepairRound(signal: AbortSignal): Promise<void> {
    const { pool, settings } = this.deps;
    const streams = repairStreams(this.streams(), await readCollectionStates(pool), settings, this.now());
    const policy = this.deps.repairPolicy ?? DEFAULT_REPAIR_POLICY;
    await repairGaps({ pool, collect: this.collectDays, logger: this.log, now: this.now, policy }, streams, signal);
  }

  private streams(): Stream[] {
    return streamsOf(this.sites, this.deps.settings.historicalStartDate, this.now());
  }

  private async planBackfill(): Promise<BackfillPlan> {
    return planBackfill(this.streams(), await readCollectionStates(this.deps.pool));
  }
}
