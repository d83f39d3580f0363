/**
 * The composition root of the long-running collector: config → HTTP server (health, metrics) → database →
 * migrations → single-writer lock → Amber client → collector → cron cycles. It owns the order of start-up
 * and shutdown; the pieces it wires know nothing of each other.
 */
import cron from 'node-cron';
import type { Dispatcher } from 'undici';
import { createAmberClient } from './amber/client.ts';
import { createRateLimiter } from './amber/rate-limiter.ts';
import { Collector, type CollectorEvents } from './collector/collector.ts';
import type { Config } from './config.ts';
import { readCollectionStates, resetCollectionState } from './db/collection-state.ts';
import { migrate } from './db/migrate.ts';
import { createPool, waitForDatabase } from './db/pool.ts';
import { WriterLock } from './db/writer-lock.ts';
import { isCollectorError, isFatal } from './errors.ts';
import { dashboardRoutes } from './http/dashboard.ts';
import { healthRoutes, Readiness, readSchemaVersion } from './http/health.ts';
import { readRoutes } from './http/read-api.ts';
import { startHttpServer, type Route } from './http/server.ts';
import type { Logger } from './logger.ts';
import { CollectorMetrics } from './metrics.ts';

export interface DaemonOptions {
  /** Cron expression for cycles; derived from COLLECTION_INTERVAL_MINUTES unless a test sets a faster one. */
  cycleCron?: string;
  /** How often a collector that found another one active asks for the lock again. */
  lockRetryMs?: number;
  /** HTTP dispatcher for Amber calls (tests inject one with short timeouts). */
  dispatcher?: Dispatcher;
}

/** `*\/N * * * *`: cycles start on minute boundaries that are multiples of N (UTC). */
export function cycleCronFor(intervalMinutes: number): string {
  return intervalMinutes >= 60 ? '0 * * * *' : `*/${intervalMinutes} * * * *`;
}

/** Runs until `signal` aborts (clean stop, resolves) or a fatal error (rejects with it). */
export async function runDaemon(config: Config, logger: Logger, signal: AbortSignal, options: DaemonOptions = {}): Promise<void> {
  const pool = createPool(config.database, logger.child({ component: 'db' }));
  const limiter = createRateLimiter({ policy: config.amber.rateLimit });
  const metrics = new CollectorMetrics({ rateLimit: () => limiter.snapshot() });
  const readiness = new Readiness({ pool, maxQuietMs: 2 * config.collection.intervalMinutes * 60_000 });
  // Every HTTP route the daemon serves; the read API adds its routes to this list.
  const routes: Route[] = [...healthRoutes({ readiness, metrics }), ...readRoutes({ pool }), ...dashboardRoutes()];
  // Listening before the database is reachable lets /healthz answer (and a deploy's health check pass)
  // while Postgres is still starting.
  const http = await startHttpServer({ port: config.http.port, routes, apiToken: config.http.apiToken, logger: logger.child({ component: 'http' }) });
  const client = createAmberClient({
    baseUrl: config.amber.baseUrl,
    apiKey: config.amber.apiKey,
    limiter,
    logger: logger.child({ component: 'amber' }),
    requestTimeoutMs: config.amber.requestTimeoutMs,
    onCall: metrics.onCall,
    onRateLimited: metrics.onRateLimited,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const lock = new WriterLock(pool, logger, options.lockRetryMs === undefined ? {} : { retryMs: options.lockRetryMs });
  let fatal: unknown = null;
  const stopOnFatal = new AbortController();
  const run = AbortSignal.any([signal, stopOnFatal.signal]);
  const failFatally = (err: unknown): void => {
    fatal ??= err;
    stopOnFatal.abort();
  };
  const collector = new Collector({
    pool,
    client,
    settings: { ...config.collection, siteIds: config.amber.siteIds },
    logger: logger.child({ component: 'collector' }),
    estimateDurationMs: (calls) => limiter.estimateDurationMs(calls),
    events: notifyAll([metrics.collectorEvents, readiness.collectorEvents], logger),
    onFatal: failFatally,
  });

  try {
    await waitForDatabase(pool, logger, run);
    await migrate(pool, logger);
    readiness.markMigrated(await readSchemaVersion(pool));
    metrics.recordCollectionStates(await readCollectionStates(pool));
    let reinitPending = config.collection.forceReinit;
    while (!run.aborted) {
      await lock.acquire(run);
      readiness.setCollecting(true);
      metrics.setWriterLockHeld(true);
      if (reinitPending) {
        await resetCollectionState(pool);
        reinitPending = false;
        logger.warn('FORCE_REINIT=true: collecting everything again from HISTORICAL_START_DATE (rows are upserted, nothing is deleted); unset it once this run is done');
      }
      const session = AbortSignal.any([run, lock.lostSignal]);
      await collect(collector, session, options.cycleCron ?? cycleCronFor(config.collection.intervalMinutes), logger, failFatally);
      readiness.setCollecting(false);
      metrics.setWriterLockHeld(false);
      if (lock.lostSignal.aborted && !run.aborted) await waitForDatabase(pool, logger, run);
    }
  } catch (err) {
    if (!isCollectorError(err, 'ABORTED')) throw err;
  } finally {
    readiness.markStopping();
    await collector.settle();
    await lock.release();
    await client.close();
    await pool.end();
    // Last, so /healthz keeps answering while the collector drains.
    await http.close();
  }
  if (fatal) throw fatal;
}

/** Fans each collector event out to every observer; an observer's bug is logged, never allowed to fail a chunk. */
function notifyAll(observers: readonly CollectorEvents[], logger: Logger): CollectorEvents {
  const each =
    <K extends keyof CollectorEvents>(hook: K) =>
    (...args: Parameters<NonNullable<CollectorEvents[K]>>): void => {
      for (const observer of observers) {
        try {
          (observer[hook] as ((...a: typeof args) => void) | undefined)?.(...args);
        } catch (err) {
          logger.warn({ err, hook }, 'a collector observer failed; collection carries on');
        }
      }
    };
  return {
    chunkStored: each('chunkStored'),
    backfillProgress: each('backfillProgress'),
    cycleFinished: each('cycleFinished'),
    streamFailed: each('streamFailed'),
    forecastsArchived: each('forecastsArchived'),
  };
}

/** One collection session: runs while this process holds the writer lock. */
async function collect(
  collector: Collector,
  session: AbortSignal,
  cycleCron: string,
  logger: Logger,
  onFatal: (err: unknown) => void,
): Promise<void> {
  const tick = async (): Promise<void> => {
    try {
      await collector.runCycle(session);
    } catch (err) {
      if (isCollectorError(err, 'ABORTED')) return;
      if (isFatal(err)) onFatal(err);
      else logger.error({ err }, 'cycle failed; the next cycle tries again');
    }
  };
  // Requests made with `amber-collector backfill` run as soon as they are made, while this session holds the lock.
  const servingRequests = collector.serveBackfillRequests(session);
  try {
    await collector.discoverSites(session);
    await collector.logPlan();
    void collector.backfill(session);
  } catch (err) {
    if (isCollectorError(err, 'ABORTED')) return;
    if (isFatal(err)) return onFatal(err);
    logger.error({ err }, 'could not read the sites list; the next cycle tries again');
  }
  const task = cron.createTask(cycleCron, tick, { name: 'collection-cycle', timezone: 'UTC' });
  task.on('execution:missed', () => logger.warn('a cycle was missed (the process was paused or busy); the next one catches up'));
  await task.start();
  void tick();
  await new Promise<void>((resolve) => {
    if (session.aborted) resolve();
    else session.addEventListener('abort', () => resolve(), { once: true });
  });
  await task.stop();
  await task.destroy();
  await collector.settle();
  await servingRequests;
}
