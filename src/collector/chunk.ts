/**
 * The chunk: one API call whose rows, coverage counts and progress marker commit in one transaction, so
 * an interruption at any moment resumes from the last committed chunk with no gap and no duplicate. The
 * backfill, the cycles, gap repair and on-demand backfill requests all collect through here.
 */
import type pg from 'pg';
import type { AmberClient } from '../amber/client.ts';
import type { Priority } from '../amber/rate-limiter.ts';
import { truncatedSample } from '../amber/schemas.ts';
import type { DataType, NemDate, Parsed, RejectedItem, Site } from '../domain/models.ts';
import type { DayRange } from '../domain/nem-time.ts';
import { CollectorError, isCollectorError, isFatal } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { asDatabaseUnavailable, withTransaction } from '../db/pool.ts';
import { isRowDataError, type UpsertCounts } from '../db/upsert.ts';
import { recordRejectedIntervals } from '../db/rejected-intervals.ts';
import { lockStreamCoverage, recountCoverage, type DayCount } from '../db/coverage-ledger.ts';
import { advanceWatermark, markSuccess, recordCollectionError } from '../db/collection-state.ts';
import { ChunkSlots } from './chunk-slots.ts';
import { strategyFor } from './data-types.ts';
import { streamRange, watermarkAfter, type Stream } from '../domain/fetch-plan.ts';

/** A chunk whose response keeps failing validation is retried this many times before the watermark moves past it. */
const MAX_ATTEMPTS_WITH_REJECTED_ROWS = 5;
/**
 * Chunks held in memory at once, between response and commit (see ChunkSlots). The backfill uses one at a
 * time, so a cycle always finds the other free and fresh data never queues behind a backfill call. Two
 * chunks of a 5-minute, 3-channel site are ~30 MB, whatever the number of sites; the rate budget (a call
 * every ~6 s) is far below what even one chunk at a time can use.
 */
const CHUNKS_IN_MEMORY = 2;

export interface ChunkResult extends UpsertCounts {
  siteId: string;
  dataType: DataType;
  startDate: NemDate;
  endDate: NemDate;
  /** Elements refused (logged by the client with a sample, kept in rejected_intervals). */
  rejected: number;
  /** The watermark after this chunk, when it moved. */
  collectedThrough: NemDate | null;
}

/** What one chunk's transaction stored. */
type StoredChunk = Omit<ChunkResult, 'siteId' | 'dataType' | 'startDate' | 'endDate'>;

/** Work a caller adds to a chunk's transaction (gap repair, on-demand backfill requests). */
export interface CollectOptions {
  /** Runs inside the chunk's transaction, after its rows are stored and its days' coverage recounted. */
  inTransaction?: (tx: pg.PoolClient, days: DayCount[]) => Promise<void>;
}

/** Fetches and stores days of a stream outside the backfill and the cycles (see `ChunkCollector.collectDays`). */
export type CollectDays = (site: Site, dataType: DataType, days: DayRange, signal: AbortSignal, options?: CollectOptions) => Promise<ChunkResult>;

/** Observers of chunks (metrics, readiness). */
export interface ChunkEvents {
  chunkStored?(result: ChunkResult, priority: Priority): void;
  streamFailed?(stream: { siteId: string; dataType: DataType; code: string }): void;
}

export interface ChunkCollectorDeps {
  pool: pg.Pool;
  client: AmberClient;
  logger: Logger;
  /** Streams start here (or at a site's activeFrom); errors for days before it are recorded against the days asked for. */
  historicalStartDate: NemDate;
  now: () => Date;
  events?: ChunkEvents | undefined;
}

interface ChunkOptions extends CollectOptions {
  /** False for days outside the backfill's order (repair, requests): the watermark stays where it is. */
  advanceWatermark: boolean;
}

export class ChunkCollector {
  private readonly deps: ChunkCollectorDeps;
  private readonly slots = new ChunkSlots(CHUNKS_IN_MEMORY);
  private readonly rejectedAttempts = new Map<string, number>();

  constructor(deps: ChunkCollectorDeps) {
    this.deps = deps;
  }

  /** Fetches one chunk of a stream and stores its rows together with the stream's progress, in one transaction. */
  collect(stream: Stream, days: DayRange, priority: Priority, signal: AbortSignal): Promise<ChunkResult> {
    return this.slots.use(priority, () => this.fetchAndStore(stream.dataType, stream, days, priority, signal, { advanceWatermark: true }));
  }

  /**
   * Fetches and stores `days` of a stream for gap repair or an on-demand backfill request: backfill
   * priority, rows, coverage and `options.inTransaction` in one transaction, and the watermark untouched
   * (it records how far the backfill has got, and these days may lie anywhere). A failure is recorded
   * against the stream and rethrown.
   */
  readonly collectDays: CollectDays = async (site, dataType, days, signal, options = {}) => {
    // Days before HISTORICAL_START_DATE (a request may ask for them) still need a range to record errors against.
    const range = streamRange(site, dataType, this.deps.historicalStartDate, this.deps.now()) ?? {
      from: days.startDate,
      to: days.endDate,
      lastCompleteDay: days.endDate,
    };
    const stream: Stream = { site, dataType, range };
    try {
      return await this.slots.use('backfill', () =>
        this.fetchAndStore(dataType, stream, days, 'backfill', signal, { ...options, advanceWatermark: false }),
      );
    } catch (err) {
      await this.recordStreamError(stream, err);
      throw err;
    }
  };

  /** Records a stream's failure and lets the others carry on; only a bad API key stops everything (rethrown). */
  async recordStreamError(stream: Stream, err: unknown): Promise<void> {
    if (isCollectorError(err, 'ABORTED')) return;
    if (isFatal(err)) throw err;
    // withTransaction already reports a lost connection as DB_UNAVAILABLE; a plain pool query (outside a
    // transaction) still fails with pg's own error, so both are named here before the code is read.
    const failure = asDatabaseUnavailable(err);
    const code = failure instanceof CollectorError ? failure.code : 'UNEXPECTED';
    const message = failure instanceof Error ? failure.message : String(failure);
    this.deps.logger.warn({ site: stream.site.id, dataType: stream.dataType, code, err: failure }, 'stream failed; it will be retried next cycle');
    this.deps.events?.streamFailed?.({ siteId: stream.site.id, dataType: stream.dataType, code });
    try {
      await recordCollectionError(this.deps.pool, {
        siteId: stream.site.id,
        dataType: stream.dataType,
        backfillFrom: stream.range.from,
        error: `${code}: ${message}`,
      });
    } catch (recordErr) {
      this.deps.logger.warn({ err: recordErr }, 'could not record the stream error (is the database reachable?)');
    }
  }

  private async fetchAndStore<Type extends DataType>(
    type: Type,
    stream: Stream,
    days: DayRange,
    priority: Priority,
    signal: AbortSignal,
    options: ChunkOptions,
  ): Promise<ChunkResult> {
    const { site, dataType } = stream;
    const strategy = strategyFor(type);
    const parsed = await strategy.fetch(this.deps.client, site, days, { priority, signal });
    let stored: StoredChunk;
    try {
      stored = await this.store(stream, days, parsed, options, 'batch', (tx) => strategy.store(tx, site.id, parsed.items));
    } catch (err) {
      if (!isRowDataError(err)) throw err;
      // The edge's checks should make this impossible; if one is missing, one bad row must not stall the stream.
      this.deps.logger.error(
        { site: site.id, dataType, startDate: days.startDate, endDate: days.endDate, code: err.code, reason: err.message },
        'the database refused a row that passed validation (a bug); storing the chunk row by row',
      );
      stored = await this.store(stream, days, parsed, options, 'row-by-row', async (tx) => {
        const { counts, refused } = await strategy.storeOneByOne(tx, site.id, parsed.items);
        return { ...counts, refused: refused.map(({ row, code, message }) => refusedByDatabase(row.raw, code, message)) };
      });
    }

    if (parsed.items.length === 0 && parsed.rejected.length === 0 && priority === 'backfill') {
      // A past range with no data (before the API's retention, or a site with no data yet): the watermark
      // records it as checked, so it is logged here once and not fetched again.
      this.deps.logger.info({ site: site.id, dataType, startDate: days.startDate, endDate: days.endDate }, 'no data for this range');
    }
    const chunkResult: ChunkResult = { siteId: site.id, dataType, startDate: days.startDate, endDate: days.endDate, ...stored };
    this.deps.events?.chunkStored?.(chunkResult, priority);
    return chunkResult;
  }

  /**
   * One transaction: the chunk's rows (`upsert`), its refused elements, its days' coverage and the stream's
   * progress. `upsert` may refuse rows itself (the row-by-row retry); they join the elements the client refused.
   */
  private store(
    stream: Stream,
    days: DayRange,
    parsed: Parsed<unknown>,
    options: ChunkOptions,
    mode: 'batch' | 'row-by-row',
    upsert: (tx: pg.PoolClient) => Promise<UpsertCounts & { refused?: RejectedItem[] }>,
  ): Promise<StoredChunk> {
    const { site, dataType, range } = stream;
    return withTransaction(this.deps.pool, async (tx) => {
      const recount = () => recountCoverage(tx, site.id, dataType, days.startDate, days.endDate);
      // A batch upsert is one statement: sent together, the pool pipelines the three (with BEGIN) in one round
      // trip, and one connection runs them in order, so the lock is held before the upsert and the recount sees
      // its rows. The row-by-row retry issues many statements, so the recount waits for them.
      const [, { refused = [], ...counts }, counted] = mode === 'batch'
        ? await Promise.all([lockStreamCoverage(tx, site.id, dataType), upsert(tx), recount()])
        : [await lockStreamCoverage(tx, site.id, dataType), await upsert(tx), await recount()];
      const rejected = [...parsed.rejected, ...refused];
      await recordRejectedIntervals(tx, { siteId: site.id, dataType, from: days.startDate, to: days.endDate, items: rejected });
      await options.inTransaction?.(tx, counted);
      const through = this.watermarkTarget(stream, days, rejected.length, options);
      let collectedThrough: NemDate | null = null;
      if (rejected.length > 0 && through === null) {
        await recordCollectionError(tx, {
          siteId: site.id,
          dataType,
          backfillFrom: range.from,
          error: `${rejected.length} invalid elements in ${days.startDate}..${days.endDate}`,
        });
      } else if (through !== null) {
        collectedThrough = await advanceWatermark(tx, { siteId: site.id, dataType, backfillFrom: range.from, chunkStart: days.startDate, through });
      } else {
        await markSuccess(tx, site.id, dataType);
      }
      return { ...counts, rejected: rejected.length, collectedThrough };
    });
  }

  /**
   * How far this chunk may move the watermark: not at all while its response keeps failing validation
   * (later cycles fetch it again), past it once the invalid elements have persisted through
   * MAX_ATTEMPTS_WITH_REJECTED_ROWS fetches.
   */
  private watermarkTarget(stream: Stream, days: DayRange, rejected: number, options: ChunkOptions): NemDate | null {
    const { site, dataType, range } = stream;
    const attemptsKey = `${site.id}|${dataType}|${days.startDate}`;
    const through = options.advanceWatermark ? watermarkAfter(days, range) : null;
    if (rejected === 0) {
      this.rejectedAttempts.delete(attemptsKey);
      return through;
    }
    const attempts = (this.rejectedAttempts.get(attemptsKey) ?? 0) + 1;
    this.rejectedAttempts.set(attemptsKey, attempts);
    if (attempts < MAX_ATTEMPTS_WITH_REJECTED_ROWS) return null;
    this.deps.logger.error(
      { site: site.id, dataType, startDate: days.startDate, endDate: days.endDate, rejected, attempts },
      'invalid elements persist after repeated fetches; storing the valid rows and moving on',
    );
    return through;
  }
}

/** A row the database refused, as a rejected element: rule `database`, with the server's reason. */
function refusedByDatabase(raw: Record<string, unknown>, code: string, message: string): RejectedItem {
  return { index: -1, rule: 'database', problems: [`SQLSTATE ${code}: ${message}`], element: raw, sample: truncatedSample(raw) };
}
