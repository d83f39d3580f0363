/**
 * On-demand backfill (`amber-collector backfill`): re-collecting a range of days through the same rate
 * limiter, chunk transactions and coverage ledger as everything else. Requests are rows in
 * `backfill_requests`; the process holding the single-writer lock runs them: the daemon (woken by
 * NOTIFY, or at its next cycle), or the command itself when no daemon is running.
 *
 * On-demand chunks never move a stream's watermark: it records how far the backfill has got, and a
 * request may cover any days, including ones before HISTORICAL_START_DATE.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import type { DataType, NemDate, Site } from '../domain/models.ts';
import { addDays, compareNemDates, maxDate, minDate, nemToday, splitIntoChunks } from '../domain/nem-time.ts';
import { abortError, CollectorError, isCollectorError, isFatal } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  BACKFILL_REQUEST_CHANNEL,
  claimBackfillRequest,
  finishBackfillRequest,
  listenForNotifications,
  readBackfillRequest,
  recordBackfillProgress,
  type BackfillRequest,
  type BackfillRequestStatus,
  type PlannedCall,
} from '../db/backfill-request-store.ts';
import { readStoredSites } from '../db/sites-store.ts';
import type { CollectDays } from './chunk.ts';

export interface BackfillPlan {
  calls: PlannedCall[];
  /** Data types asked for that have nothing to collect in the range, with the reason. */
  skipped: Array<{ dataType: DataType; reason: string }>;
}

/**
 * The calls that re-collect `from`..`to` for a site: per data type (prices first), the range clipped to
 * the days the site can have data (its activeFrom and closedOn; prices up to today, usage up to
 * yesterday, NEM time), in chunks of at most 7 days, oldest first.
 */
export function planBackfillCalls(
  site: Pick<Site, 'activeFrom' | 'closedOn'>,
  request: { from: NemDate; to: NemDate; dataTypes: readonly DataType[] },
  now: Date,
): BackfillPlan {
  const plan: BackfillPlan = { calls: [], skipped: [] };
  for (const dataType of (['price', 'usage'] as const).filter((t) => request.dataTypes.includes(t))) {
    const newest = dataType === 'price' ? nemToday(now) : addDays(nemToday(now), -1);
    const first = site.activeFrom ? maxDate(request.from, site.activeFrom) : request.from;
    const last = minDate(site.closedOn ? minDate(request.to, site.closedOn) : request.to, newest);
    if (compareNemDates(first, last) <= 0) {
      plan.calls.push(...splitIntoChunks(first, last).map((chunk) => ({ dataType, ...chunk })));
      continue;
    }
    const reason =
      site.activeFrom && compareNemDates(request.to, site.activeFrom) < 0
        ? `the site became active on ${site.activeFrom}`
        : site.closedOn && compareNemDates(request.from, site.closedOn) > 0
          ? `the site closed on ${site.closedOn}`
          : `${dataType === 'price' ? 'prices exist up to today' : 'usage exists up to yesterday'} (${newest}, NEM time)`;
    plan.skipped.push({ dataType, reason });
  }
  return plan;
}

/** Who runs or asks for a request, as shown in `backfill_requests`: host and process. */
export function processIdentity(): string {
  return `${hostname()}:${process.pid}`;
}

export interface RequestRunnerDeps {
  pool: pg.Pool;
  collect: CollectDays;
  logger: Logger;
  /** Told after every stored call. */
  onProgress?: (request: BackfillRequest, callsDone: number) => void;
}

/**
 * Runs a claimed request from where it stopped, one call at a time, and returns how it ended. A stop
 * (abort) leaves it `running`, so the next lock holder resumes it; an API or database error fails it
 * with the message; only a rejected API key is rethrown.
 */
export async function runBackfillRequest(deps: RequestRunnerDeps, request: BackfillRequest, signal: AbortSignal): Promise<BackfillRequestStatus> {
  const { pool, logger } = deps;
  const site = (await readStoredSites(pool)).find((s) => s.id === request.siteId);
  if (site === undefined) {
    await finishBackfillRequest(pool, request.id, { status: 'failed', error: `site ${request.siteId} is not stored` });
    return 'failed';
  }
  for (let index = request.callsDone; index < request.calls.length; index += 1) {
    const call = request.calls[index] as PlannedCall;
    // Cancelled while the previous call ran: stop before spending another one.
    const current = await readBackfillRequest(pool, request.id);
    if (current?.status !== 'running') return current?.status ?? 'cancelled';
    let stillWanted = true;
    try {
      await deps.collect(site, call.dataType, call, signal, {
        inTransaction: async (tx) => {
          stillWanted = await recordBackfillProgress(tx, request.id);
        },
      });
    } catch (err) {
      if (signal.aborted || isCollectorError(err, 'ABORTED')) throw abortError(signal.reason);
      const code = err instanceof CollectorError ? err.code : 'UNEXPECTED';
      await finishBackfillRequest(pool, request.id, { status: 'failed', error: `${code}: ${err instanceof Error ? err.message : String(err)}` });
      logger.warn({ request: request.id, site: site.id, ...call, code, err }, 'backfill request failed');
      if (isFatal(err)) throw err;
      return 'failed';
    }
    if (!stillWanted) return 'cancelled';
    deps.onProgress?.(request, index + 1);
    logger.info(
      { request: request.id, site: site.id, ...call, callsDone: index + 1, callsTotal: request.calls.length },
      'backfill request: chunk stored',
    );
  }
  await finishBackfillRequest(pool, request.id, { status: 'done' });
  return 'done';
}

export interface RequestServerDeps extends RequestRunnerDeps {
  /** This process, recorded as the executor of the requests it runs. */
  executor: string;
  onFatal: (err: unknown) => void;
}

/** The daemon's side: runs every open request, oldest first, while this process holds the writer lock. */
export class BackfillRequestServer {
  private readonly deps: RequestServerDeps;
  private draining: Promise<void> | null = null;
  private lookAgain = false;

  constructor(deps: RequestServerDeps) {
    this.deps = deps;
  }

  /** Runs open requests until none is left. A call while it runs makes it look again when done. Never rejects. */
  serve(signal: AbortSignal): Promise<void> {
    this.lookAgain = true;
    this.draining ??= this.drain(signal).finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  /** Serves at once whenever a request is made (NOTIFY), for as long as `signal` is live. */
  listen(signal: AbortSignal): Promise<void> {
    return listenForNotifications(this.deps.pool, BACKFILL_REQUEST_CHANNEL, () => void this.serve(signal), signal, this.deps.logger);
  }

  /** Waits for the request being run (after `signal` aborted) to commit or roll back its chunk. */
  async settle(): Promise<void> {
    await this.draining;
  }

  private async drain(signal: AbortSignal): Promise<void> {
    const { pool, logger, executor } = this.deps;
    try {
      while (this.lookAgain && !signal.aborted) {
        this.lookAgain = false;
        for (let request = await claimBackfillRequest(pool, executor); request !== null && !signal.aborted; request = await claimBackfillRequest(pool, executor)) {
          logger.info(
            { request: request.id, site: request.siteId, from: request.from, to: request.to, dataTypes: request.dataTypes, callsDone: request.callsDone, callsTotal: request.calls.length },
            'running a backfill request',
          );
          const status = await runBackfillRequest(this.deps, request, signal);
          logger.info({ request: request.id, status }, 'backfill request ended');
        }
      }
    } catch (err) {
      if (isCollectorError(err, 'ABORTED') || signal.aborted) return;
      if (isFatal(err)) this.deps.onFatal(err);
      else logger.error({ err }, 'could not run backfill requests; the next cycle tries again');
    }
  }
}
