/**
 * The incremental cycle: re-fetches each stream's recent days, whose data still changes (fresh priority,
 * ahead of backfill), polls usage at its own slower cadence, and snapshots price forecasts.
 */
import type pg from 'pg';
import type { AmberClient } from '../amber/client.ts';
import type { NemDate, Site } from '../domain/models.ts';
import { addDays, compareNemDates, maxDate, minDate, nemToday, splitIntoChunks, type DayRange } from '../domain/nem-time.ts';
import type { Logger } from '../logger.ts';
import { readCollectionState } from '../db/collection-state.ts';
import type { UpsertCounts } from '../db/upsert.ts';
import type { ChunkCollector } from './chunk.ts';
import { strategyFor, type RevisionSettings } from './data-types.ts';
import { archiveForecasts, type ForecastSnapshot, type ForecastSummary } from './forecast-polling.ts';
import type { Stream } from '../domain/fetch-plan.ts';

export interface CycleSummary {
  calls: number;
  inserted: number;
  updated: number;
  unchanged: number;
  failedStreams: number;
  durationMs: number;
}

export interface CycleEvents {
  /** After each cycle's forecast snapshot: rows stored, pruned (retention) and deleted by compaction. */
  forecastsArchived?(summary: ForecastSummary): void;
  /** Each site's current and forecast prices, once stored; before `cycleFinished` of the same cycle. */
  forecastSnapshot?(snapshot: ForecastSnapshot): void;
}

export interface CycleSettings extends RevisionSettings {
  usagePollMinutes: number;
  /** Null: keep every forecast. */
  forecastRetentionDays: number | null;
  /** Null: never compact the forecast archive. */
  forecastCompactAfterDays: number | null;
}

export interface CycleDeps {
  pool: pg.Pool;
  client: AmberClient;
  chunks: ChunkCollector;
  settings: CycleSettings;
  logger: Logger;
  now: () => Date;
  events?: CycleEvents | undefined;
}

const ZERO_COUNTS: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };

function addCounts(a: UpsertCounts, b: UpsertCounts): UpsertCounts {
  return { inserted: a.inserted + b.inserted, updated: a.updated + b.updated, unchanged: a.unchanged + b.unchanged };
}

export class IncrementalCycle {
  private readonly deps: CycleDeps;
  /** When each site's usage was last polled (usage changes slowly: polled every USAGE_POLL_MINUTES). */
  private readonly usagePolledAt = new Map<string, number>();

  constructor(deps: CycleDeps) {
    this.deps = deps;
  }

  /**
   * One cycle over `streams`, started at `started` (ms; the usage cadence counts from there); a failing
   * stream is recorded and the others carry on. The caller times the whole cycle.
   */
  async run(streams: readonly Stream[], started: number, signal: AbortSignal): Promise<Omit<CycleSummary, 'durationMs'>> {
    const due = streams.filter((s) => s.dataType === 'price' || this.usageDue(s.site.id, started));
    let totals = ZERO_COUNTS;
    let calls = 0;
    let failedStreams = 0;
    const [forecastCalls] = await Promise.all([
      this.snapshotForecasts(streams, signal),
      ...due.map(async (stream) => {
        try {
          const missed = stream.dataType === 'usage' ? await this.missedRevisionDays(stream) : [];
          for (const chunk of [...missed, ...strategyFor(stream.dataType).revisionWindow(stream.range, this.deps.settings)]) {
            const result = await this.deps.chunks.collect(stream, chunk, 'fresh', signal);
            calls += 1;
            totals = addCounts(totals, result);
          }
          if (stream.dataType === 'usage') this.usagePolledAt.set(stream.site.id, started);
        } catch (err) {
          failedStreams += 1;
          await this.deps.chunks.recordStreamError(stream, err);
        }
      }),
    ]);
    calls += forecastCalls;
    return { calls, ...totals, failedStreams };
  }

  /** One `/prices/current` snapshot per site whose prices run to today (see forecasts.ts); returns the calls made. */
  private async snapshotForecasts(streams: readonly Stream[], signal: AbortSignal): Promise<number> {
    const today = nemToday(this.deps.now());
    const sites: Site[] = streams.filter((s) => s.dataType === 'price' && s.range.to === today).map((s) => s.site);
    const { pool, client, settings, logger, now } = this.deps;
    const summary = await archiveForecasts(
      {
        pool,
        client,
        logger,
        now,
        retentionDays: settings.forecastRetentionDays,
        compactAfterDays: settings.forecastCompactAfterDays,
        onSnapshot: (snapshot) => this.deps.events?.forecastSnapshot?.(snapshot),
      },
      sites,
      signal,
    );
    this.deps.events?.forecastsArchived?.(summary);
    return summary.calls;
  }

  /**
   * After a pause (a stopped process, an outage), the usage days the previous poll's window held that have
   * since left the window before reaching its far end. A day is normally last fetched as the window's
   * oldest; these were last fetched younger, before their final revision, and nothing else fetches them
   * again: the backfill starts after the watermark and gap repair looks for missing intervals only. The
   * previous poll is remembered, or after a restart its window's end is the watermark.
   */
  private async missedRevisionDays(stream: Stream): Promise<DayRange[]> {
    const { usageRevisionDays } = this.deps.settings;
    const polledAt = this.usagePolledAt.get(stream.site.id);
    const previousEnd: NemDate | null =
      polledAt === undefined
        ? ((await readCollectionState(this.deps.pool, stream.site.id, 'usage'))?.collectedThrough ?? null)
        : addDays(nemToday(new Date(polledAt)), -1);
    const windowStart = strategyFor('usage').revisionWindow(stream.range, this.deps.settings)[0]?.startDate;
    if (previousEnd === null || windowStart === undefined) return [];
    const from = maxDate(stream.range.from, addDays(previousEnd, 2 - usageRevisionDays));
    const to = minDate(previousEnd, addDays(windowStart, -1));
    return compareNemDates(from, to) <= 0 ? splitIntoChunks(from, to) : [];
  }

  private usageDue(siteId: string, now: number): boolean {
    const last = this.usagePolledAt.get(siteId);
    return last === undefined || now - last >= this.deps.settings.usagePollMinutes * 60_000;
  }
}
