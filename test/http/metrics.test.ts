/**
 * CollectorMetrics on its own: the hooks it offers the client and the collector, fed by hand, and the
 * exposition text they produce. The end-to-end numbers (after a real backfill) are in health.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { RateLimiterSnapshot } from '../../src/amber/rate-limiter.ts';
import { DeliveryQueue } from '../../src/alerts/delivery.ts';
import type { ChunkResult } from '../../src/collector/chunk.ts';
import { silentLogger } from '../../src/logger.ts';
import { CollectorMetrics } from '../../src/metrics.ts';
import { announcer, minimalAlert } from '../helpers/alerts.ts';
import { databaseForTest } from '../helpers/database.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';
import { parsePrometheusText, valueOf, type Sample } from './prometheus-text.ts';

const NOW = new Date('2026-03-01T00:00:00Z');

function chunk(overrides: Partial<ChunkResult> = {}): ChunkResult {
  return {
    siteId: 'S1',
    dataType: 'price',
    startDate: '2026-02-01',
    endDate: '2026-02-07',
    inserted: 10,
    updated: 2,
    unchanged: 3,
    rejected: 0,
    collectedThrough: '2026-02-07',
    ...overrides,
  };
}

async function scrape(metrics: CollectorMetrics): Promise<Sample[]> {
  return parsePrometheusText(await metrics.render());
}

describe('CollectorMetrics', () => {
  it('counts API attempts by endpoint and status, and 429s by endpoint', async () => {
    const metrics = new CollectorMetrics({ now: () => NOW });
    metrics.onCall({ endpoint: 'prices', status: 200, durationMs: 120, attempt: 1 });
    metrics.onCall({ endpoint: 'prices', status: 200, durationMs: 80, attempt: 1 });
    metrics.onCall({ endpoint: 'usage', status: 429, durationMs: 10, attempt: 1 });
    metrics.onCall({ endpoint: 'usage', status: 'error', durationMs: 30_000, attempt: 2 });
    metrics.onRateLimited({ endpoint: 'usage', attempt: 1, waitMs: 300_000, source: 'retry-after' });

    const samples = await scrape(metrics);
    expect(valueOf(samples, 'amber_collector_api_calls_total', { endpoint: 'prices', status: '200' })).toBe(2);
    expect(valueOf(samples, 'amber_collector_api_calls_total', { endpoint: 'usage', status: '429' })).toBe(1);
    expect(valueOf(samples, 'amber_collector_api_calls_total', { endpoint: 'usage', status: 'error' })).toBe(1);
    expect(valueOf(samples, 'amber_collector_api_rate_limited_total', { endpoint: 'usage' })).toBe(1);
    expect(valueOf(samples, 'amber_collector_api_call_duration_seconds_count', { endpoint: 'prices' })).toBe(2);
    expect(valueOf(samples, 'amber_collector_api_call_duration_seconds_sum', { endpoint: 'prices' })).toBeCloseTo(0.2);
  });

  it('counts rows by table and keeps per-stream progress, last success and watermark', async () => {
    const metrics = new CollectorMetrics({ now: () => NOW });
    const events = metrics.collectorEvents;
    events.chunkStored?.(chunk(), 'backfill');
    events.chunkStored?.(chunk({ dataType: 'usage', inserted: 48, updated: 0, unchanged: 0, rejected: 2, collectedThrough: null }), 'fresh');
    events.backfillProgress?.({ siteId: 'S1', dataType: 'price', done: 3, total: 4 });
    events.streamFailed?.({ siteId: 'S1', dataType: 'usage', code: 'AMBER_SERVER' });

    const samples = await scrape(metrics);
    const price = { site: 'S1', data_type: 'price' };
    expect(valueOf(samples, 'amber_collector_rows_inserted_total', { table: 'price_data' })).toBe(10);
    expect(valueOf(samples, 'amber_collector_rows_updated_total', { table: 'price_data' })).toBe(2);
    expect(valueOf(samples, 'amber_collector_rows_unchanged_total', { table: 'price_data' })).toBe(3);
    expect(valueOf(samples, 'amber_collector_rows_inserted_total', { table: 'usage_data' })).toBe(48);
    expect(valueOf(samples, 'amber_collector_rejected_elements_total', { data_type: 'usage' })).toBe(2);
    expect(valueOf(samples, 'amber_collector_chunks_stored_total', { data_type: 'price', priority: 'backfill' })).toBe(1);
    expect(valueOf(samples, 'amber_collector_backfill_chunks_done', price)).toBe(3);
    expect(valueOf(samples, 'amber_collector_backfill_chunks_planned', price)).toBe(4);
    expect(valueOf(samples, 'amber_collector_backfill_progress_ratio', price)).toBe(0.75);
    expect(valueOf(samples, 'amber_collector_last_success_timestamp_seconds', price)).toBe(NOW.getTime() / 1000);
    // NEM day 2026-02-07 ends at 2026-02-08T00:00+10:00.
    expect(valueOf(samples, 'amber_collector_collected_through_timestamp_seconds', price)).toBe(Date.parse('2026-02-07T14:00:00Z') / 1000);
    // A chunk that did not move the watermark leaves the series absent rather than zero.
    expect(valueOf(samples, 'amber_collector_collected_through_timestamp_seconds', { site: 'S1', data_type: 'usage' })).toBeUndefined();
    expect(valueOf(samples, 'amber_collector_stream_failures_total', { site: 'S1', data_type: 'usage', code: 'AMBER_SERVER' })).toBe(1);
  });

  it('records cycles: duration, outcome and when the last one finished', async () => {
    const metrics = new CollectorMetrics({ now: () => NOW });
    const summary = { calls: 4, inserted: 1, updated: 0, unchanged: 100, durationMs: 1500 };
    metrics.collectorEvents.cycleFinished?.({ ...summary, failedStreams: 0 });
    metrics.collectorEvents.cycleFinished?.({ ...summary, failedStreams: 1 });

    const samples = await scrape(metrics);
    expect(valueOf(samples, 'amber_collector_cycle_duration_seconds_count')).toBe(2);
    expect(valueOf(samples, 'amber_collector_cycle_duration_seconds_bucket', { le: '2' })).toBe(2);
    expect(valueOf(samples, 'amber_collector_cycle_duration_seconds_bucket', { le: '1' })).toBe(0);
    expect(valueOf(samples, 'amber_collector_cycles_total', { outcome: 'ok' })).toBe(1);
    expect(valueOf(samples, 'amber_collector_cycles_total', { outcome: 'streams_failed' })).toBe(1);
    expect(valueOf(samples, 'amber_collector_last_cycle_timestamp_seconds')).toBe(NOW.getTime() / 1000);
  });

  it('counts forecast archive rows stored, pruned and compacted, and refused forecast elements', async () => {
    const metrics = new CollectorMetrics({ now: () => NOW });
    const archived = { calls: 2, unchanged: 900, failedSites: 0, rejected: 0, rejectedPruned: 0 };
    metrics.collectorEvents.forecastsArchived?.({ ...archived, stored: 300, pruned: 0, compacted: 0, rejected: 3 });
    metrics.collectorEvents.forecastsArchived?.({ ...archived, stored: 20, pruned: 5, compacted: 1_000 });

    const samples = await scrape(metrics);
    expect(valueOf(samples, 'amber_collector_forecast_rows_total', { change: 'stored' })).toBe(320);
    expect(valueOf(samples, 'amber_collector_forecast_rows_total', { change: 'pruned' })).toBe(5);
    expect(valueOf(samples, 'amber_collector_forecast_rows_total', { change: 'compacted' })).toBe(1_000);
    expect(valueOf(samples, 'amber_collector_rejected_elements_total', { data_type: 'forecast' })).toBe(3);
  });

  it('counts characters replaced because PostgreSQL cannot store them, by endpoint', async () => {
    const metrics = new CollectorMetrics({ now: () => NOW });
    metrics.onUnstorableText({ endpoint: 'sites', replaced: 2 });
    metrics.onUnstorableText({ endpoint: 'prices', replaced: 5 });
    metrics.onUnstorableText({ endpoint: 'prices', replaced: 1 });
    const samples = await scrape(metrics);
    expect(valueOf(samples, 'amber_collector_unstorable_characters_replaced_total', { endpoint: 'sites' })).toBe(2);
    expect(valueOf(samples, 'amber_collector_unstorable_characters_replaced_total', { endpoint: 'prices' })).toBe(6);
  });

  it('counts alerts sent by kind and format, and failed delivery attempts', async () => {
    const metrics = new CollectorMetrics({ now: () => NOW });
    const receiver = await startWebhookReceiver((n) => (n === 1 ? 500 : 200));
    const db = await databaseForTest();
    const queue = new DeliveryQueue({
      pool: db.pool,
      targets: [{ url: receiver.url, format: 'ntfy' }],
      maxPerHour: 20,
      quietHours: null,
      logger: silentLogger(),
      retryDelaysMs: [10],
      events: metrics.alertEvents,
    });
    await announcer(db.pool)(queue, minimalAlert('event-1', 'started', 'stale'));
    await queue.drain(5_000);

    const samples = await scrape(metrics);
    expect(valueOf(samples, 'amber_collector_alerts_sent_total', { kind: 'stale', format: 'ntfy' })).toBe(1);
    expect(valueOf(samples, 'amber_collector_alert_delivery_failures_total', { format: 'ntfy' })).toBe(1);
    expect(valueOf(samples, 'amber_collector_alerts_dropped_total', { reason: 'gave_up' })).toBeUndefined();
  });

  it('reads the rate limiter at scrape time, preferring the server\'s RateLimit-Remaining', async () => {
    let snapshot: RateLimiterSnapshot = { limit: 50, windowSeconds: 300, remaining: null, inWindow: 12, pausedUntil: null, queued: 0 };
    const metrics = new CollectorMetrics({ rateLimit: () => snapshot });
    let samples = await scrape(metrics);
    expect(valueOf(samples, 'amber_collector_rate_limit_remaining')).toBe(38);
    expect(valueOf(samples, 'amber_collector_rate_limit_limit')).toBe(50);
    expect(valueOf(samples, 'amber_collector_rate_limit_window_seconds')).toBe(300);
    expect(valueOf(samples, 'amber_collector_rate_limit_window_calls')).toBe(12);
    expect(valueOf(samples, 'amber_collector_rate_limit_paused')).toBe(0);

    snapshot = { ...snapshot, remaining: 3, queued: 7, pausedUntil: 123_456 };
    samples = await scrape(metrics);
    expect(valueOf(samples, 'amber_collector_rate_limit_remaining')).toBe(3);
    expect(valueOf(samples, 'amber_collector_rate_limit_queued_calls')).toBe(7);
    expect(valueOf(samples, 'amber_collector_rate_limit_paused')).toBe(1);
  });

  it('seeds last success and watermark from the stored collection state', async () => {
    const metrics = new CollectorMetrics();
    metrics.recordCollectionStates([
      {
        siteId: 'S2',
        dataType: 'usage',
        backfillFrom: '2025-01-01',
        collectedThrough: '2026-02-27',
        lastSuccessAt: new Date('2026-02-28T10:00:00Z'),
        lastError: null,
        lastErrorAt: null,
        consecutiveFailures: 0,
      },
    ]);
    const samples = await scrape(metrics);
    const usage = { site: 'S2', data_type: 'usage' };
    expect(valueOf(samples, 'amber_collector_last_success_timestamp_seconds', usage)).toBe(Date.parse('2026-02-28T10:00:00Z') / 1000);
    expect(valueOf(samples, 'amber_collector_collected_through_timestamp_seconds', usage)).toBe(Date.parse('2026-02-27T14:00:00Z') / 1000);
  });

  it('uses its own registry, prefixes every series, and includes the process metrics', async () => {
    const a = new CollectorMetrics();
    const b = new CollectorMetrics();
    a.onCall({ endpoint: 'sites', status: 200, durationMs: 5, attempt: 1 });
    const samples = await scrape(a);
    expect(valueOf(await scrape(b), 'amber_collector_api_calls_total', { endpoint: 'sites', status: '200' })).toBeUndefined();
    expect(samples.every((s) => s.name.startsWith('amber_collector_'))).toBe(true);
    for (const name of ['amber_collector_process_cpu_user_seconds_total', 'amber_collector_process_resident_memory_bytes', 'amber_collector_nodejs_eventloop_lag_seconds']) {
      expect(samples.some((s) => s.name === name), name).toBe(true);
    }
    expect(samples.find((s) => s.name === 'amber_collector_build_info')?.labels['version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
