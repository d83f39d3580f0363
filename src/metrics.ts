/**
 * Prometheus metrics. One private `Registry` per daemon (never prom-client's global one, so two daemons or
 * test files in one process never share series), fed by the observer hooks of the Amber client and the
 * collector. Every series name starts with `amber_collector_`, the default process metrics included.
 *
 * Counters count what happened since this process started. The per-stream gauges that must survive a
 * restart (last success, watermark) are seeded from `collection_state` once the database is reachable.
 */
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallEvent, RateLimitedEvent, UnstorableTextEvent } from './amber/call-target.ts';
import type { DataType, NemDate } from './domain/models.ts';
import { addDays, nemDayStart } from './domain/nem-time.ts';
import type { RateLimiterSnapshot } from './amber/rate-limiter.ts';
import type { AlertDeliveryEvents } from './alerts/delivery.ts';
import type { ChunkResult } from './collector/chunk.ts';
import type { CollectorEvents } from './collector/collector.ts';
import type { CycleSummary } from './collector/cycle.ts';
import type { CollectionState } from './db/collection-state.ts';

const METRIC_PREFIX = 'amber_collector_';

/** The table each data type is stored in: the `table` label of the row counters. */
const TABLE_OF: Record<DataType, string> = { price: 'price_data', usage: 'usage_data' };

export interface MetricsOptions {
  /** Read at every scrape, so the rate-limit gauges show the limiter as it is at that moment. */
  rateLimit?: () => RateLimiterSnapshot;
  now?: () => Date;
}

type StreamLabels = { site: string; data_type: DataType };

export class CollectorMetrics {
  readonly registry = new Registry();
  private readonly now: () => Date;

  private readonly apiCalls: Counter<'endpoint' | 'status'>;
  private readonly apiCallDuration: Histogram<'endpoint'>;
  private readonly rateLimited: Counter<'endpoint'>;
  private readonly rowsInserted: Counter<'table'>;
  private readonly rowsUpdated: Counter<'table'>;
  private readonly rowsUnchanged: Counter<'table'>;
  private readonly rejectedElements: Counter<'data_type'>;
  private readonly unstorableCharacters: Counter<'endpoint'>;
  private readonly chunksStored: Counter<'data_type' | 'priority'>;
  private readonly backfillDone: Gauge<'site' | 'data_type'>;
  private readonly backfillTotal: Gauge<'site' | 'data_type'>;
  private readonly backfillRatio: Gauge<'site' | 'data_type'>;
  private readonly lastSuccess: Gauge<'site' | 'data_type'>;
  private readonly collectedThrough: Gauge<'site' | 'data_type'>;
  private readonly streamFailures: Counter<'site' | 'data_type' | 'code'>;
  private readonly cycleDuration: Histogram;
  private readonly cycles: Counter<'outcome'>;
  private readonly lastCycle: Gauge;
  private readonly writerLock: Gauge;
  private readonly forecastRows: Counter<'change'>;
  private readonly alertsSent: Counter<'kind' | 'format'>;
  private readonly alertFailures: Counter<'format'>;
  private readonly alertsDropped: Counter<'reason'>;

  constructor(options: MetricsOptions = {}) {
    this.now = options.now ?? (() => new Date());
    const registers = [this.registry];
    const name = (suffix: string): string => `${METRIC_PREFIX}${suffix}`;

    this.apiCalls = new Counter({
      name: name('api_calls_total'),
      help: 'HTTP attempts to the Amber API (retries included), by endpoint and HTTP status ("error" when no response arrived).',
      labelNames: ['endpoint', 'status'],
      registers,
    });
    this.apiCallDuration = new Histogram({
      name: name('api_call_duration_seconds'),
      help: 'Duration of one HTTP attempt to the Amber API, by endpoint.',
      labelNames: ['endpoint'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.rateLimited = new Counter({
      name: name('api_rate_limited_total'),
      help: 'Responses with HTTP 429 from the Amber API, by endpoint; each one pauses every call on the key.',
      labelNames: ['endpoint'],
      registers,
    });
    this.rowsInserted = new Counter({
      name: name('rows_inserted_total'),
      help: 'Rows inserted, by table.',
      labelNames: ['table'],
      registers,
    });
    this.rowsUpdated = new Counter({
      name: name('rows_updated_total'),
      help: 'Stored rows whose values changed on a re-fetch (a revision), by table.',
      labelNames: ['table'],
      registers,
    });
    this.rowsUnchanged = new Counter({
      name: name('rows_unchanged_total'),
      help: 'Rows fetched again with identical values (nothing written), by table.',
      labelNames: ['table'],
      registers,
    });
    this.rejectedElements = new Counter({
      name: name('rejected_elements_total'),
      help: 'Elements of Amber responses refused (wrong types, a broken consistency rule, or refused by the database) and kept in rejected_intervals instead of stored, by data type (price, usage, forecast).',
      labelNames: ['data_type'],
      registers,
    });
    this.unstorableCharacters = new Counter({
      name: name('unstorable_characters_replaced_total'),
      help: 'Characters PostgreSQL cannot store (NUL, lone surrogates) in Amber responses, replaced with U+FFFD, by endpoint.',
      labelNames: ['endpoint'],
      registers,
    });
    this.chunksStored = new Counter({
      name: name('chunks_stored_total'),
      help: 'Date ranges fetched and committed (one API call each), by data type and priority (fresh = cycles, backfill).',
      labelNames: ['data_type', 'priority'],
      registers,
    });
    this.backfillDone = new Gauge({
      name: name('backfill_chunks_done'),
      help: 'Backfill chunks stored in the current (or last) backfill run, per site and data type.',
      labelNames: ['site', 'data_type'],
      registers,
    });
    this.backfillTotal = new Gauge({
      name: name('backfill_chunks_planned'),
      help: 'Backfill chunks planned in the current (or last) backfill run, per site and data type.',
      labelNames: ['site', 'data_type'],
      registers,
    });
    this.backfillRatio = new Gauge({
      name: name('backfill_progress_ratio'),
      help: 'Share of the current (or last) backfill run stored, 0 to 1, per site and data type.',
      labelNames: ['site', 'data_type'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: name('last_success_timestamp_seconds'),
      help: 'Unix time a chunk was last stored, per site and data type (seeded from the database at start-up).',
      labelNames: ['site', 'data_type'],
      registers,
    });
    this.collectedThrough = new Gauge({
      name: name('collected_through_timestamp_seconds'),
      help: 'Unix time of the end of the last NEM day stored without gaps since the start date, per site and data type.',
      labelNames: ['site', 'data_type'],
      registers,
    });
    this.streamFailures = new Counter({
      name: name('stream_failures_total'),
      help: 'Times a stream (site and data type) stopped on an error until the next cycle, by error code.',
      labelNames: ['site', 'data_type', 'code'],
      registers,
    });
    this.cycleDuration = new Histogram({
      name: name('cycle_duration_seconds'),
      help: 'Duration of incremental collection cycles.',
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.cycles = new Counter({
      name: name('cycles_total'),
      help: 'Finished incremental cycles, by outcome (ok, or streams_failed when at least one stream failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.lastCycle = new Gauge({
      name: name('last_cycle_timestamp_seconds'),
      help: 'Unix time the last incremental cycle finished (0 before the first).',
      registers,
    });
    this.writerLock = new Gauge({
      name: name('writer_lock_held'),
      help: '1 while this process holds the single-writer lock and collects; 0 while another collector does.',
      registers,
    });
    this.forecastRows = new Counter({
      name: name('forecast_rows_total'),
      help: 'Rows of the forecast archive (price_forecasts), by change: stored (a forecast changed), pruned (FORECAST_RETENTION_DAYS) or compacted (deleted by FORECAST_COMPACT_AFTER_DAYS).',
      labelNames: ['change'],
      registers,
    });
    this.alertsSent = new Counter({
      name: name('alerts_sent_total'),
      help: 'Alerts a webhook accepted (one per target), by kind (price_above, spike, stale, ...) and format (json, ntfy, discord, slack).',
      labelNames: ['kind', 'format'],
      registers,
    });
    this.alertFailures = new Counter({
      name: name('alert_delivery_failures_total'),
      help: 'Failed attempts to deliver an alert (refused, timed out, or answered with an error), by format; most are retried.',
      labelNames: ['format'],
      registers,
    });
    this.alertsDropped = new Counter({
      name: name('alerts_dropped_total'),
      help: 'Alerts not delivered, by reason: hourly_cap (ALERT_MAX_PER_HOUR), gave_up (every attempt to a target failed), target_removed (pending for a URL no longer in ALERT_WEBHOOK_URL).',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: name('build_info'),
      help: 'Always 1; the labels carry the collector and Node.js versions.',
      labelNames: ['version', 'node_version'],
      registers,
    }).set({ version: packageVersion(), node_version: process.version }, 1);

    if (options.rateLimit) this.registerRateLimitGauges(options.rateLimit);
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for a scrape. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** For `createAmberClient({ onCall })`. */
  readonly onCall = (event: CallEvent): void => {
    this.apiCalls.inc({ endpoint: event.endpoint, status: String(event.status) });
    this.apiCallDuration.observe({ endpoint: event.endpoint }, event.durationMs / 1000);
  };

  /** For `createAmberClient({ onRateLimited })`. */
  readonly onRateLimited = (event: RateLimitedEvent): void => {
    this.rateLimited.inc({ endpoint: event.endpoint });
  };

  /** For `createAmberClient({ onUnstorableText })`. */
  readonly onUnstorableText = (event: UnstorableTextEvent): void => {
    this.unstorableCharacters.inc({ endpoint: event.endpoint }, event.replaced);
  };

  /** For `new Collector({ events })`. */
  readonly collectorEvents: CollectorEvents = {
    chunkStored: (result: ChunkResult, priority: 'fresh' | 'backfill') => {
      const table = { table: TABLE_OF[result.dataType] };
      this.rowsInserted.inc(table, result.inserted);
      this.rowsUpdated.inc(table, result.updated);
      this.rowsUnchanged.inc(table, result.unchanged);
      this.rejectedElements.inc({ data_type: result.dataType }, result.rejected);
      this.chunksStored.inc({ data_type: result.dataType, priority });
      const stream = streamLabels(result.siteId, result.dataType);
      this.lastSuccess.set(stream, this.now().getTime() / 1000);
      if (result.collectedThrough !== null) this.collectedThrough.set(stream, endOfNemDay(result.collectedThrough));
    },
    backfillProgress: ({ siteId, dataType, done, total }) => {
      const stream = streamLabels(siteId, dataType);
      this.backfillDone.set(stream, done);
      this.backfillTotal.set(stream, total);
      this.backfillRatio.set(stream, total === 0 ? 1 : done / total);
    },
    cycleFinished: (summary: CycleSummary) => {
      this.cycleDuration.observe(summary.durationMs / 1000);
      this.cycles.inc({ outcome: summary.failedStreams > 0 ? 'streams_failed' : 'ok' });
      this.lastCycle.set(this.now().getTime() / 1000);
    },
    streamFailed: ({ siteId, dataType, code }) => {
      this.streamFailures.inc({ ...streamLabels(siteId, dataType), code });
    },
    forecastsArchived: ({ stored, pruned, compacted, rejected }) => {
      this.rejectedElements.inc({ data_type: 'forecast' }, rejected);
      this.forecastRows.inc({ change: 'stored' }, stored);
      this.forecastRows.inc({ change: 'pruned' }, pruned);
      this.forecastRows.inc({ change: 'compacted' }, compacted);
    },
  };

  /** For the alert delivery queue. */
  readonly alertEvents: AlertDeliveryEvents = {
    sent: (alert, format) => this.alertsSent.inc({ kind: alert.kind, format }),
    failed: (format) => this.alertFailures.inc({ format }),
    dropped: (reason) => this.alertsDropped.inc({ reason }),
  };

  /** Seeds the per-stream gauges from the database, so a restart does not blank them until the next chunk. */
  recordCollectionStates(states: readonly CollectionState[]): void {
    for (const state of states) {
      const stream = streamLabels(state.siteId, state.dataType);
      if (state.lastSuccessAt) this.lastSuccess.set(stream, state.lastSuccessAt.getTime() / 1000);
      if (state.collectedThrough) this.collectedThrough.set(stream, endOfNemDay(state.collectedThrough));
    }
  }

  setWriterLockHeld(held: boolean): void {
    this.writerLock.set(held ? 1 : 0);
  }

  private registerRateLimitGauges(snapshot: () => RateLimiterSnapshot): void {
    const registers = [this.registry];
    // Each gauge reads the snapshot when scraped; one snapshot per gauge is cheap (a few array operations).
    const gauge = (suffix: string, help: string, value: (s: RateLimiterSnapshot) => number): void => {
      new Gauge({
        name: `${METRIC_PREFIX}${suffix}`,
        help,
        registers,
        collect() {
          this.set(value(snapshot()));
        },
      });
    };
    gauge(
      'rate_limit_remaining',
      'Calls left in the current window: RateLimit-Remaining from Amber\'s last response, or the local count before the first response.',
      (s) => s.remaining ?? Math.max(0, s.limit - s.inWindow),
    );
    gauge('rate_limit_limit', 'Calls allowed per window (the RateLimit-Policy Amber declares).', (s) => s.limit);
    gauge('rate_limit_window_seconds', 'Length of the rate-limit window.', (s) => s.windowSeconds);
    gauge('rate_limit_window_calls', 'Calls counted in the current sliding window (ours, plus any Amber reported from elsewhere).', (s) => s.inWindow);
    gauge('rate_limit_queued_calls', 'Calls waiting for a rate-limit slot.', (s) => s.queued);
    gauge('rate_limit_paused', '1 while every call is held after a 429, else 0.', (s) => (s.pausedUntil === null ? 0 : 1));
  }
}

function streamLabels(siteId: string, dataType: DataType): StreamLabels {
  return { site: siteId, data_type: dataType };
}

/** NEM day D ends when D+1 begins (00:00 +10:00). */
function endOfNemDay(date: NemDate): number {
  return nemDayStart(addDays(date, 1)).getTime() / 1000;
}

/** `package.json` sits one level above both `src/` and `dist/` (and next to `dist/` in the image). */
function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    return String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}
