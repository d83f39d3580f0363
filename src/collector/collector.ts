/**
 * The collection orchestrator: discovers sites, backfills every stream (site × data type) from the start
 * date, and runs incremental cycles that re-fetch the recent days whose data still changes.
 *
 * Every chunk is one API call whose rows and progress marker commit in one transaction, so an interruption
 * at any moment resumes from the last committed chunk with no gap and no duplicate.
 */
import type pg from 'pg';
import type { AmberClient } from '../amber/client.ts';
import type { Priority } from '../amber/rate-limiter.ts';
import type { DataType, NemDate, Parsed, PriceInterval, Site, UsageInterval } from '../amber/models.ts';
import { CollectorError, isCollectorError, isFatal } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Config } from '../config.ts';
import { asDatabaseUnavailable, withTransaction } from '../db/pool.ts';
import { upsertSites, type UpsertCounts } from '../db/sites.ts';
import { upsertPriceIntervals } from '../db/prices.ts';
import { upsertUsageIntervals } from '../db/usage.ts';
import { lockStreamCoverage, recountCoverage, type DayCount } from '../db/coverage.ts';
import { addDays, compareNemDates, nemToday, splitIntoChunks } from '../amber/nem-time.ts';
import {
  advanceWatermark,
  markSuccess,
  readCollectionState,
  readCollectionStates,
  recordCollectionError,
  type CollectionState,
} from '../db/collection-state.ts';
import { backfillChunks, maxDate, minDate, streamRange, trailingWindow, watermarkAfter, type DayRange, type StreamRange } from './plan.ts';
import { ChunkSlots } from './chunk-slots.ts';
import { BackfillProgress } from './progress.ts';
import { BackfillRequestServer, processIdentity } from './backfill-requests.ts';
import { archiveForecasts, type ForecastSummary } from './forecasts.ts';
import { DEFAULT_REPAIR_POLICY, repairGaps, repairWindow, type RepairPolicy } from './repair.ts';

/** A chunk whose response keeps failing validation is retried this many times before the watermark moves past it. */
const MAX_ATTEMPTS_WITH_REJECTED_ROWS = 5;
/**
 * Chunks held in memory at once, between response and commit (see ChunkSlots). The backfill uses one at a
 * time, so a cycle always finds the other free and fresh data never queues behind a backfill call. Two
 * chunks of a 5-minute, 3-channel site are ~30 MB, whatever the number of sites; the rate budget (a call
 * every ~6 s) is far below what even one chunk at a time can use.
 */
const CHUNKS_IN_MEMORY = 2;
/** The sites list rarely changes; re-reading it hourly notices new and closed sites without spending budget. */
const SITE_REFRESH_MS = 60 * 60 * 1000;

export type CollectionSettings = Pick<
  Config['collection'],
  'historicalStartDate' | 'priceRevisionDays' | 'usageRevisionDays' | 'usagePollMinutes'
> & {
  siteIds: readonly string[] | null;
  /** Unset or null: keep every forecast. */
  forecastRetentionDays?: number | null;
  /** Unset or null: never compact the forecast archive (the daemon passes the configured default, 7). */
  forecastCompactAfterDays?: number | null;
};

export interface CollectorDeps {
  pool: pg.Pool;
  client: AmberClient;
  settings: CollectionSettings;
  logger: Logger;
  /** Expected wall time for N more API calls under the current rate budget (the limiter knows). */
  estimateDurationMs: (calls: number) => number;
  /** Called when background work meets an error no retry can cure (a rejected API key). */
  onFatal: (err: unknown) => void;
  /** Observers (metrics); optional so tests and commands can leave them out. */
  events?: CollectorEvents;
  now?: () => Date;
  /** Gap repair limits; default DEFAULT_REPAIR_POLICY (2 calls per cycle, back-off 1 h, 6 h, 1 d, weekly). */
  repairPolicy?: RepairPolicy;
}

/** Work a caller adds to a chunk's transaction (gap repair, on-demand backfill requests). */
export interface CollectOptions {
  /** Runs inside the chunk's transaction, after its rows are stored and its days' coverage recounted. */
  inTransaction?: (tx: pg.PoolClient, days: DayCount[]) => Promise<void>;
}

/** Fetches and stores days of a stream outside the backfill and the cycles (see `Collector.collectDays`). */
export type CollectDays = (site: Site, dataType: DataType, chunk: DayRange, signal: AbortSignal, options?: CollectOptions) => Promise<ChunkResult>;

export interface CollectorEvents {
  chunkStored?(result: ChunkResult, priority: 'fresh' | 'backfill'): void;
  /** Per stream: `done` of `total` backfill chunks stored in this backfill run. */
  backfillProgress?(progress: { siteId: string; dataType: DataType; done: number; total: number }): void;
  cycleFinished?(summary: CycleSummary): void;
  streamFailed?(stream: { siteId: string; dataType: DataType; code: string }): void;
  /** After each cycle's forecast snapshot: rows stored, pruned (retention) and deleted by compaction. */
  forecastsArchived?(summary: ForecastSummary): void;
}

export interface ChunkResult extends UpsertCounts {
  siteId: string;
  dataType: DataType;
  startDate: NemDate;
  endDate: NemDate;
  /** Elements the API sent that failed validation (logged by the client with a sample). */
  rejected: number;
  /** The watermark after this chunk, when it moved. */
  collectedThrough: NemDate | null;
}

export interface CycleSummary {
  calls: number;
  inserted: number;
  updated: number;
  unchanged: number;
  failedStreams: number;
  durationMs: number;
}

interface Stream {
  site: Site;
  dataType: DataType;
  range: StreamRange;
}

/** A stream's place in the backfill: its planned chunks and the index of the next one to store. */
interface BackfillTurn {
  stream: Stream;
  chunks: DayRange[];
  next: number;
}

const ZERO_COUNTS: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };

function addCounts(a: UpsertCounts, b: UpsertCounts): UpsertCounts {
  return { inserted: a.inserted + b.inserted, updated: a.updated + b.updated, unchanged: a.unchanged + b.unchanged };
}

export class Collector {
  private readonly deps: CollectorDeps;
  private readonly log: Logger;
  private readonly now: () => Date;
  private sites: Site[] = [];
  private sitesRefreshedAt = 0;
  private readonly usagePolledAt = new Map<string, number>();
  private readonly rejectedAttempts = new Map<string, number>();
  private cycleInFlight: Promise<CycleSummary> | null = null;
  private backfillInFlight: Promise<void> | null = null;
  private repairInFlight: Promise<void> | null = null;
  private readonly requests: BackfillRequestServer;
  private readonly slots = new ChunkSlots(CHUNKS_IN_MEMORY);
  private lastProgress: Date | null = null;

  constructor(deps: CollectorDeps) {
    this.deps = deps;
    this.log = deps.logger;
    this.now = deps.now ?? (() => new Date());
    this.requests = new BackfillRequestServer({
      pool: deps.pool,
      collect: (...args) => this.collectDays(...args),
      logger: deps.logger,
      executor: processIdentity(),
      onFatal: deps.onFatal,
    });
  }

  /** The sites being collected (after the AMBER_SITE_IDS filter). */
  get collectedSites(): readonly Site[] {
    return this.sites;
  }

  /** Reads `/sites`, stores every site (closed ones too) and keeps the ones to collect. */
  async discoverSites(signal: AbortSignal): Promise<readonly Site[]> {
    const parsed = await this.deps.client.listSites({ priority: 'fresh', signal });
    await upsertSites(this.deps.pool, parsed.items);
    const wanted = this.deps.settings.siteIds;
    const sites = wanted ? parsed.items.filter((s) => wanted.includes(s.id)) : parsed.items;
    for (const id of wanted ?? []) {
      if (!parsed.items.some((s) => s.id === id)) {
        this.log.warn({ site: id }, 'AMBER_SITE_IDS names a site this API key cannot see; it is ignored');
      }
    }
    this.sites = sites;
    this.sitesRefreshedAt = this.now().getTime();
    return sites;
  }

  /** Logs what will be collected and what the backfill will cost, before any of it starts. */
  async logPlan(): Promise<void> {
    const { plans, total } = await this.planBackfill();
    const streams = plans.map(({ stream, chunks }) => ({
      site: stream.site.id,
      dataType: stream.dataType,
      from: stream.range.from,
      to: stream.range.to,
      calls: chunks.length,
    }));
    this.log.info(
      {
        sites: this.sites.map((s) => ({
          site: s.id,
          nmi: s.nmi,
          status: s.status,
          intervalLength: s.intervalLength,
          channels: s.channels.map((c) => `${c.identifier}:${c.type}`),
          activeFrom: s.activeFrom,
          closedOn: s.closedOn,
        })),
        startDate: this.deps.settings.historicalStartDate,
        backfillCalls: total,
        backfillEtaSeconds: Math.round(this.deps.estimateDurationMs(total) / 1000),
        streams,
      },
      'collection plan',
    );
  }

  /**
   * Runs the backfill unless one is already running: every stream from its watermark to the newest day
   * that can have data. Streams take turns, one chunk each, so sites share the rate budget fairly and every
   * site's history grows from the start; a failing stream stops itself and never the others.
   */
  backfill(signal: AbortSignal): Promise<void> {
    this.backfillInFlight ??= this.runBackfill(signal)
      .catch(this.backgroundFailure('backfill stopped; the next cycle resumes it', signal))
      .finally(() => {
        this.backfillInFlight = null;
      });
    return this.backfillInFlight;
  }

  get backfillRunning(): boolean {
    return this.backfillInFlight !== null;
  }

  /** When a chunk was last stored (backfill or cycle): readiness checks that collection is moving. */
  get lastProgressAt(): Date | null {
    return this.lastProgress;
  }

  /**
   * One incremental cycle: re-fetches each stream's trailing window (fresh priority, ahead of backfill),
   * then makes sure a backfill runs if any stream is behind (after downtime, say). A tick that finds the
   * previous cycle still running is skipped.
   */
  async runCycle(signal: AbortSignal): Promise<CycleSummary | null> {
    if (this.cycleInFlight) {
      this.log.info('previous cycle still running; skipping this tick');
      return null;
    }
    this.cycleInFlight = this.cycle(signal);
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

  /**
   * Fetches and stores `chunk` of a stream for gap repair or an on-demand backfill request: backfill
   * priority, rows, coverage and `options.inTransaction` in one transaction, and the watermark untouched
   * (it records how far the backfill has got, and these days may lie anywhere).
   */
  async collectDays(site: Site, dataType: DataType, chunk: DayRange, signal: AbortSignal, options: CollectOptions = {}): Promise<ChunkResult> {
    // Days before HISTORICAL_START_DATE (a request may ask for them) still need a range to record errors against.
    const range = streamRange(site, dataType, this.deps.settings.historicalStartDate, this.now()) ?? {
      from: chunk.startDate,
      to: chunk.endDate,
      lastCompleteDay: chunk.endDate,
    };
    const stream: Stream = { site, dataType, range };
    try {
      return await this.collectChunk(stream, chunk, 'backfill', signal, { ...options, advanceWatermark: false });
    } catch (err) {
      await this.handleStreamError(stream, err);
      throw err;
    }
  }

  /** Runs on-demand backfill requests as soon as they are made (LISTEN/NOTIFY), while `signal` is live. */
  serveBackfillRequests(signal: AbortSignal): Promise<void> {
    return this.requests.listen(signal);
  }

  private async cycle(signal: AbortSignal): Promise<CycleSummary> {
    const started = this.now().getTime();
    if (this.sites.length === 0 || started - this.sitesRefreshedAt >= SITE_REFRESH_MS) {
      await this.discoverSites(signal);
    }
    const settings = this.deps.settings;
    const streams = this.streams().filter((s) => s.dataType === 'price' || this.usageDue(s.site.id, started));
    let totals = ZERO_COUNTS;
    let calls = 0;
    let failedStreams = 0;
    const [forecastCalls] = await Promise.all([
      this.snapshotForecasts(signal),
      ...streams.map(async (stream) => {
        const days = stream.dataType === 'price' ? settings.priceRevisionDays : settings.usageRevisionDays;
        try {
          const missed = stream.dataType === 'usage' ? await this.missedRevisionDays(stream) : [];
          for (const chunk of [...missed, ...trailingWindow(stream.range, stream.dataType, days)]) {
            const result = await this.collectChunk(stream, chunk, 'fresh', signal);
            calls += 1;
            totals = addCounts(totals, result);
          }
          if (stream.dataType === 'usage') this.usagePolledAt.set(stream.site.id, started);
        } catch (err) {
          failedStreams += 1;
          await this.handleStreamError(stream, err);
        }
      }),
    ]);
    calls += forecastCalls;
    const summary: CycleSummary = { calls, ...totals, failedStreams, durationMs: this.now().getTime() - started };
    this.log.info({ ...summary, backfillRunning: this.backfillRunning }, 'cycle finished');
    this.deps.events?.cycleFinished?.(summary);
    if (!signal.aborted) {
      void this.backfill(signal);
      void this.repairGaps(signal);
      void this.requests.serve(signal);
    }
    return summary;
  }

  /** One `/prices/current` snapshot per site whose prices run to today (see forecasts.ts); returns the calls made. */
  private async snapshotForecasts(signal: AbortSignal): Promise<number> {
    const today = nemToday(this.now());
    const sites = this.streams().filter((s) => s.dataType === 'price' && s.range.to === today).map((s) => s.site);
    const { pool, client, settings } = this.deps;
    const summary = await archiveForecasts(
      {
        pool,
        client,
        logger: this.log,
        now: this.now,
        retentionDays: settings.forecastRetentionDays ?? null,
        compactAfterDays: settings.forecastCompactAfterDays ?? null,
      },
      sites,
      signal,
    );
    this.deps.events?.forecastsArchived?.(summary);
    return summary.calls;
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
    const states = await readCollectionStates(pool);
    const now = this.now();
    const streams = this.streams().flatMap((stream) => {
      const state = states.find((st) => st.siteId === stream.site.id && st.dataType === stream.dataType);
      const revisionDays = stream.dataType === 'price' ? settings.priceRevisionDays : settings.usageRevisionDays;
      const collected = { from: state?.backfillFrom ?? stream.range.from, through: state?.collectedThrough ?? null };
      const window = repairWindow(stream.range, stream.dataType, collected, revisionDays, now);
      return window ? [{ site: stream.site, dataType: stream.dataType, window }] : [];
    });
    const policy = this.deps.repairPolicy ?? DEFAULT_REPAIR_POLICY;
    await repairGaps({ pool, collect: (...args) => this.collectDays(...args), logger: this.log, now: this.now, policy }, streams, signal);
  }

  /**
   * After a pause (a stopped process, an outage), the usage days the previous poll's window held that have
   * since left the window before reaching its far end. A day is normally last fetched as the window's
   * oldest; these were last fetched younger, before their final revision, and nothing else fetches them
   * again: the backfill starts after the watermark and gap repair looks for missing intervals only. The
   * previous poll is remembered, or after a restart its window's end is the watermark.
   */
  private async missedRevisionDays(stream: Stream): Promise<DayRange[]> {
    const polledAt = this.usagePolledAt.get(stream.site.id);
    const previousEnd =
      polledAt === undefined
        ? ((await readCollectionState(this.deps.pool, stream.site.id, 'usage'))?.collectedThrough ?? null)
        : addDays(nemToday(new Date(polledAt)), -1);
    const windowStart = trailingWindow(stream.range, 'usage', this.deps.settings.usageRevisionDays)[0]?.startDate;
    if (previousEnd === null || windowStart === undefined) return [];
    const from = maxDate(stream.range.from, addDays(previousEnd, 2 - this.deps.settings.usageRevisionDays));
    const to = minDate(previousEnd, addDays(windowStart, -1));
    return compareNemDates(from, to) <= 0 ? splitIntoChunks(from, to) : [];
  }

  private usageDue(siteId: string, now: number): boolean {
    const last = this.usagePolledAt.get(siteId);
    return last === undefined || now - last >= this.deps.settings.usagePollMinutes * 60_000;
  }

  private streams(): Stream[] {
    const now = this.now();
    const streams: Stream[] = [];
    for (const site of this.sites) {
      for (const dataType of ['price', 'usage'] as const) {
        const range = streamRange(site, dataType, this.deps.settings.historicalStartDate, now);
        if (range) streams.push({ site, dataType, range });
      }
    }
    return streams;
  }

  private async planBackfill(): Promise<{ plans: Array<{ stream: Stream; chunks: DayRange[] }>; total: number }> {
    const states = await readCollectionStates(this.deps.pool);
    const stateOf = (s: Stream): CollectionState | undefined =>
      states.find((st) => st.siteId === s.site.id && st.dataType === s.dataType);
    const plans = this.streams().map((stream) => {
      const state = stateOf(stream);
      // A start date moved earlier than the one the watermark was built from: the watermark no longer
      // proves the earlier days are stored, so this stream starts over (upserts make that harmless).
      const stale = state !== undefined && state.backfillFrom > stream.range.from;
      return { stream, chunks: backfillChunks(stream.range, stale ? null : (state?.collectedThrough ?? null)) };
    });
    return { plans, total: plans.reduce((n, p) => n + p.chunks.length, 0) };
  }

  private async runBackfill(signal: AbortSignal): Promise<void> {
    const { plans, total } = await this.planBackfill();
    // Streams with nothing left still report, so progress gauges show complete streams after a restart.
    for (const { stream, chunks } of plans) {
      if (chunks.length === 0) this.deps.events?.backfillProgress?.({ siteId: stream.site.id, dataType: stream.dataType, done: 0, total: 0 });
    }
    if (total === 0) return;
    const progress = new BackfillProgress(total, this.deps.estimateDurationMs, this.now);
    const started = this.now().getTime();
    this.log.info({ calls: total, ...progress.snapshot() }, 'backfill started');
    // Streams take turns, one chunk a turn, so every site moves from the first minute; a stream's own chunks
    // still land in order, which is what lets its watermark advance.
    const turns: BackfillTurn[] = plans.filter((p) => p.chunks.length > 0).map((p) => ({ ...p, next: 0 }));
    for (let turn = turns.shift(); turn !== undefined && !signal.aborted; turn = turns.shift()) {
      if (await this.backfillNextChunk(turn, progress, signal)) turns.push(turn);
    }
    if (!signal.aborted) {
      this.log.info({ calls: total, durationMs: this.now().getTime() - started }, 'backfill finished');
    }
  }

  /** Stores the stream's next backfill chunk; true when the stream has more to do. */
  private async backfillNextChunk(turn: BackfillTurn, progress: BackfillProgress, signal: AbortSignal): Promise<boolean> {
    const { stream, chunks } = turn;
    const chunk = chunks[turn.next];
    if (chunk === undefined) return false;
    turn.next += 1;
    try {
      const result = await this.collectChunk(stream, chunk, 'backfill', signal);
      const snapshot = progress.advance();
      this.deps.events?.backfillProgress?.({ siteId: stream.site.id, dataType: stream.dataType, done: turn.next, total: chunks.length });
      this.log.info(
        {
          site: stream.site.id,
          dataType: stream.dataType,
          startDate: chunk.startDate,
          endDate: chunk.endDate,
          inserted: result.inserted,
          updated: result.updated,
          unchanged: result.unchanged,
          rejected: result.rejected,
          percent: snapshot.percent,
          eta: snapshot.eta,
          etaSeconds: snapshot.etaSeconds,
        },
        'backfill chunk stored',
      );
      if (result.collectedThrough === null && result.rejected > 0) {
        // The watermark cannot pass a chunk with invalid elements; later cycles retry it.
        progress.advance(chunks.length - turn.next);
        return false;
      }
      return turn.next < chunks.length;
    } catch (err) {
      progress.advance(chunks.length - turn.next + 1);
      await this.handleStreamError(stream, err);
      return false;
    }
  }

  /** Fetches one chunk and stores its rows together with the stream's progress, in one transaction. */
  private collectChunk(
    stream: Stream,
    chunk: DayRange,
    priority: Priority,
    signal: AbortSignal,
    options: CollectOptions & { advanceWatermark?: boolean } = {},
  ): Promise<ChunkResult> {
    return this.slots.use(priority, () => this.fetchAndStore(stream, chunk, priority, signal, options));
  }

  private async fetchAndStore(
    stream: Stream,
    chunk: DayRange,
    priority: Priority,
    signal: AbortSignal,
    options: CollectOptions & { advanceWatermark?: boolean },
  ): Promise<ChunkResult> {
    const { site, dataType, range } = stream;
    const parsed = await this.fetch(stream, chunk, priority, signal);
    const attemptsKey = `${site.id}|${dataType}|${chunk.startDate}`;
    let through = options.advanceWatermark === false ? null : watermarkAfter(chunk, range);
    if (parsed.rejected.length > 0) {
      const attempts = (this.rejectedAttempts.get(attemptsKey) ?? 0) + 1;
      this.rejectedAttempts.set(attemptsKey, attempts);
      if (attempts < MAX_ATTEMPTS_WITH_REJECTED_ROWS) {
        through = null;
      } else {
        this.log.error(
          { site: site.id, dataType, startDate: chunk.startDate, endDate: chunk.endDate, rejected: parsed.rejected.length, attempts },
          'invalid elements persist after repeated fetches; storing the valid rows and moving on',
        );
      }
    } else {
      this.rejectedAttempts.delete(attemptsKey);
    }

    const result = await withTransaction(this.deps.pool, async (tx) => {
      // Sent together: the pool pipelines them (with BEGIN) in one round trip, and one connection runs them in
      // order, so the coverage lock is held before the upsert and the recount sees the upserted rows.
      const [, counts, days] = await Promise.all([
        lockStreamCoverage(tx, site.id, dataType),
        dataType === 'price'
          ? upsertPriceIntervals(tx, site.id, (parsed as Parsed<PriceInterval>).items.filter((i) => i.type === 'ActualInterval'))
          : upsertUsageIntervals(tx, site.id, (parsed as Parsed<UsageInterval>).items),
        recountCoverage(tx, site.id, dataType, chunk.startDate, chunk.endDate),
      ]);
      await options.inTransaction?.(tx, days);
      let collectedThrough: NemDate | null = null;
      if (parsed.rejected.length > 0 && through === null) {
        await recordCollectionError(tx, {
          siteId: site.id,
          dataType,
          backfillFrom: range.from,
          error: `${parsed.rejected.length} invalid elements in ${chunk.startDate}..${chunk.endDate}`,
        });
      } else if (through !== null) {
        collectedThrough = await advanceWatermark(tx, {
          siteId: site.id,
          dataType,
          backfillFrom: range.from,
          chunkStart: chunk.startDate,
          through,
        });
      } else {
        await markSuccess(tx, site.id, dataType);
      }
      return { ...counts, collectedThrough };
    });

    this.lastProgress = this.now();
    if (parsed.items.length === 0 && priority === 'backfill') {
      // A past range with no data (before the API's retention, or a site with no data yet): the watermark
      // records it as checked, so it is logged here once and not fetched again.
      this.log.info({ site: site.id, dataType, startDate: chunk.startDate, endDate: chunk.endDate }, 'no data for this range');
    }
    const chunkResult: ChunkResult = {
      siteId: site.id,
      dataType,
      startDate: chunk.startDate,
      endDate: chunk.endDate,
      rejected: parsed.rejected.length,
      ...result,
    };
    this.deps.events?.chunkStored?.(chunkResult, priority);
    return chunkResult;
  }

  private fetch(stream: Stream, chunk: DayRange, priority: Priority, signal: AbortSignal): Promise<Parsed<PriceInterval> | Parsed<UsageInterval>> {
    const { client } = this.deps;
    return stream.dataType === 'price'
      ? client.getPrices(stream.site.id, chunk.startDate, chunk.endDate, { resolution: stream.site.intervalLength, priority, signal })
      : client.getUsage(stream.site.id, chunk.startDate, chunk.endDate, { priority, signal });
  }

  /** Records a stream's failure and lets the others carry on; only a bad API key stops everything. */
  private async handleStreamError(stream: Stream, err: unknown): Promise<void> {
    if (isCollectorError(err, 'ABORTED')) return;
    if (isFatal(err)) throw err;
    // withTransaction already reports a lost connection as DB_UNAVAILABLE; a plain pool query (outside a
    // transaction) still fails with pg's own error, so both are named here before the code is read.
    const failure = asDatabaseUnavailable(err);
    const code = failure instanceof CollectorError ? failure.code : 'UNEXPECTED';
    const message = failure instanceof Error ? failure.message : String(failure);
    this.log.warn({ site: stream.site.id, dataType: stream.dataType, code, err: failure }, 'stream failed; it will be retried next cycle');
    this.deps.events?.streamFailed?.({ siteId: stream.site.id, dataType: stream.dataType, code });
    try {
      await recordCollectionError(this.deps.pool, {
        siteId: stream.site.id,
        dataType: stream.dataType,
        backfillFrom: stream.range.from,
        error: `${code}: ${message}`,
      });
    } catch (recordErr) {
      this.log.warn({ err: recordErr }, 'could not record the stream error (is the database reachable?)');
    }
  }
}
