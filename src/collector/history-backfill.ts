/**
 * The backfill: every stream from its watermark to the newest day that can have data. Streams take
 * turns, one chunk each, so sites share the rate budget fairly and every site's history grows from the
 * start; a failing stream stops itself and never the others.
 */
import type { DataType, Site } from '../domain/models.ts';
import type { DayRange } from '../domain/nem-time.ts';
import type { Logger } from '../logger.ts';
import type { CollectionState } from '../db/collection-state.ts';
import type { ChunkCollector } from './chunk.ts';
import { backfillChunks, type Stream } from '../domain/fetch-plan.ts';
import { BackfillProgress } from './progress.ts';

export interface BackfillPlan {
  streams: Array<{ stream: Stream; chunks: DayRange[] }>;
  /** API calls over all streams. */
  total: number;
}

export interface BackfillEvents {
  /** Per stream: `done` of `total` backfill chunks stored in this backfill run. */
  backfillProgress?(progress: { siteId: string; dataType: DataType; done: number; total: number }): void;
}

export interface BackfillDeps {
  chunks: ChunkCollector;
  logger: Logger;
  now: () => Date;
  /** Expected wall time for N more API calls under the rate budget. */
  estimateDurationMs: (calls: number) => number;
  events?: BackfillEvents | undefined;
}

/** A stream's place in the backfill: its planned chunks and the index of the next one to store. */
interface BackfillTurn {
  stream: Stream;
  chunks: DayRange[];
  next: number;
}

/** The chunks each stream still needs, from its watermark (pure: the states are read by the caller). */
export function planBackfill(streams: readonly Stream[], states: readonly CollectionState[]): BackfillPlan {
  const plans = streams.map((stream) => {
    const state = states.find((st) => st.siteId === stream.site.id && st.dataType === stream.dataType);
    // A start date moved earlier than the one the watermark was built from: the watermark no longer
    // proves the earlier days are stored, so this stream starts over (upserts make that harmless).
    const stale = state !== undefined && state.backfillFrom > stream.range.from;
    return { stream, chunks: backfillChunks(stream.range, stale ? null : (state?.collectedThrough ?? null)) };
  });
  return { streams: plans, total: plans.reduce((n, p) => n + p.chunks.length, 0) };
}

/** The `collection plan` log line: what will be collected and what the backfill will cost, before any of it starts. */
export function logPlan(logger: Logger, sites: readonly Site[], plan: BackfillPlan, startDate: string, estimateDurationMs: (calls: number) => number): void {
  logger.info(
    {
      sites: sites.map((s) => ({
        site: s.id,
        nmi: s.nmi,
        status: s.status,
        intervalLength: s.intervalLength,
        channels: s.channels.map((c) => `${c.identifier}:${c.type}`),
        activeFrom: s.activeFrom,
        closedOn: s.closedOn,
      })),
      startDate,
      backfillCalls: plan.total,
      backfillEtaSeconds: Math.round(estimateDurationMs(plan.total) / 1000),
      streams: plan.streams.map(({ stream, chunks }) => ({
        site: stream.site.id,
        dataType: stream.dataType,
        from: stream.range.from,
        to: stream.range.to,
        calls: chunks.length,
      })),
    },
    'collection plan',
  );
}

/** Runs `plan` until it is done or `signal` aborts; stream failures are recorded, not thrown. */
export async function runBackfill(deps: BackfillDeps, plan: BackfillPlan, signal: AbortSignal): Promise<void> {
  // Streams with nothing left still report, so progress gauges show complete streams after a restart.
  for (const { stream, chunks } of plan.streams) {
    if (chunks.length === 0) deps.events?.backfillProgress?.({ siteId: stream.site.id, dataType: stream.dataType, done: 0, total: 0 });
  }
  if (plan.total === 0) return;
  const progress = new BackfillProgress(plan.total, deps.estimateDurationMs, deps.now);
  const started = deps.now().getTime();
  deps.logger.info({ calls: plan.total, ...progress.snapshot() }, 'backfill started');
  // Streams take turns, one chunk a turn, so every site moves from the first minute; a stream's own chunks
  // still land in order, which is what lets its watermark advance.
  const turns: BackfillTurn[] = plan.streams.filter((p) => p.chunks.length > 0).map((p) => ({ ...p, next: 0 }));
  for (let turn = turns.shift(); turn !== undefined && !signal.aborted; turn = turns.shift()) {
    if (await storeNextChunk(deps, turn, progress, signal)) turns.push(turn);
  }
  if (!signal.aborted) {
    deps.logger.info({ calls: plan.total, durationMs: deps.now().getTime() - started }, 'backfill finished');
  }
}

/** Stores the stream's next backfill chunk; true when the stream has more to do. */
async function storeNextChunk(deps: BackfillDeps, turn: BackfillTurn, progress: BackfillProgress, signal: AbortSignal): Promise<boolean> {
  const { stream, chunks } = turn;
  const chunk = chunks[turn.next];
  if (chunk === undefined) return false;
  turn.next += 1;
  try {
    const result = await deps.chunks.collect(stream, chunk, 'backfill', signal);
    const snapshot = progress.advance();
    deps.events?.backfillProgress?.({ siteId: stream.site.id, dataType: stream.dataType, done: turn.next, total: chunks.length });
    deps.logger.info(
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
    await deps.chunks.recordStreamError(stream, err);
    return false;
  }
}
