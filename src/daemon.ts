/**
 * The composition root of the long-running collector: config → database server (DATABASE_URL's, or the
 * embedded PostgreSQL) → HTTP server (health, metrics) → database → migrations → single-writer lock → Amber
 * client → collector → cron cycles. It owns the order of start-up and shutdown; the pieces it wires know
 * nothing of each other.
 */
import type { Dispatcher } from 'undici';
import { Alerter } from './alerts/alerter.ts';
import { dailyBackupMetrics } from './backup/backup-metrics.ts';
import { DailyBackup } from './backup/daily.ts';
import { connectAmber } from './amber/connect.ts';
import { Collector, type CollectorEvents } from './collector/collector.ts';
import type { Config } from './config/config.ts';
import { loadFixedCharges } from './config/fixed-charges-file.ts';
import type { FixedCharges } from './domain/fixed-charges.ts';
import { readCollectionStates, resetCollectionState } from './db/collection-state.ts';
import { openDatabaseServer, type DatabaseServer } from './embedded/database-server.ts';
import { migrate, readSchemaVersion } from './db/migrate.ts';
import { createPool, waitForDatabase } from './db/pool.ts';
import { WriterLock } from './db/writer-lock.ts';
import { isCollectorError } from './errors.ts';
import { batteryRoutes } from './http/battery-api.ts';
import { batteryRunner } from './http/battery-thread.ts';
import { compareRoutes } from './http/compare-api.ts';
import { dashboardRoutes } from './http/dashboard.ts';
import { healthRoutes, Readiness } from './http/health.ts';
import { readRoutes } from './http/read-api.ts';
import { statusSettingsOf } from './query/collection-status.ts';
import { startHttpServer, type Route } from './http/server.ts';
import type { Logger } from './logger.ts';
import { CollectorMetrics } from './metrics.ts';
import { homeAssistantMetrics } from './home-assistant/sync-metrics.ts';
import { checkHomeAssistant, HomeAssistantSyncer } from './home-assistant/syncer.ts';
import { MqttFeed } from './mqtt/feed.ts';
import { mqttMetrics } from './mqtt/mqtt-metrics.ts';

export interface DaemonOptions {
  /** Cron expression for cycles; derived from COLLECTION_INTERVAL_MINUTES unless a test sets a faster one. */
  cycleCron?: string;
  /** How often a collector that found another one active asks for the lock again. */
  lockRetryMs?: number;
  /** HTTP dispatcher for Amber calls (tests inject one with short timeouts). */
  dispatcher?: Dispatcher;
}

const READ_POOL_SIZE = 3;
const READ_STATEMENT_TIMEOUT_MS = 15_000;

/** How long alerts under way may still try at shutdown, and after a rejected key before the exit. */
const ALERT_DRAIN_MS = 3_000;

/** Runs until `signal` aborts (clean stop, resolves) or a fatal error (rejects with it). */
export async function runDaemon(config: Config, logger: Logger, signal: AbortSignal, options: DaemonOptions = {}): Promise<void> {
  // A fixed-charges file that does not check out stops the start, before anything else is started.
  const fixedCharges = loadFixedCharges(config.fixedChargesFile);
  const server = await openDatabaseServer(config.database, { logger: logger.child({ component: 'db' }), user: 'daemon' });
  try {
    await collectUntilStopped(config, fixedCharges, server, logger, signal, options);
  } finally {
    // Last: an embedded PostgreSQL stops only once the collector has finished its transaction and closed its pool.
    await server.close();
  }
}

async function collectUntilStopped(config: Config, fixedCharges: FixedCharges | null, server: DatabaseServer, logger: Logger, signal: AbortSignal, options: DaemonOptions): Promise<void> {
  const { connection } = server;
  const pool = createPool(connection, logger.child({ component: 'db' }));
  // The read API's own few connections: however many clients read, the collector's writes, the writer lock
  // and /readyz (all on `pool`) never wait behind them. Reads are read-only and cut off after 15 s.
  const readPool = createPool(connection, logger.child({ component: 'db-read' }), {
    max: READ_POOL_SIZE,
    applicationName: 'amber-collector-read',
    statementTimeoutMs: READ_STATEMENT_TIMEOUT_MS,
    readOnly: true,
  });
  // The metrics read the limiter's state when scraped, and the client reports its calls to the metrics.
  const metrics = new CollectorMetrics({ rateLimit: () => amber.limiter.snapshot() });
  const readiness = new Readiness({ pool, maxQuietMs: 2 * config.collection.intervalMinutes * 60_000, logger: logger.child({ component: 'readiness' }) });
  // The what-if, the plans and the comparison with a battery share one worker thread at a time.
  const battery = { defaults: config.battery, runner: batteryRunner({ pool: readPool, connection }) };
  // Every HTTP route the daemon serves; the read API adds its routes to this list.
  const routes: Route[] = [
    ...healthRoutes({ readiness, metrics, liveness: () => server.problem() }),
    ...readRoutes({ pool: readPool, status: statusSettingsOf(config), fixedCharges }),
    ...batteryRoutes({ pool: readPool, defaults: config.battery, runner: battery.runner }),
    ...compareRoutes({ pool: readPool, plansFile: config.comparePlansFile, fixedCharges, battery }),
    ...dashboardRoutes(),
  ];
  // Listening before the database is reachable lets /healthz answer (and a deploy's health check pass)
  // while Postgres is still starting.
  const http = await startHttpServer({
    port: config.http.port,
    routes,
    apiToken: config.http.apiToken,
    allowedHosts: config.http.allowedHosts,
    logger: logger.child({ component: 'http' }),
  });
  const amber = connectAmber(config.amber, {
    logger: logger.child({ component: 'amber' }),
    onCall: metrics.onCall,
    onRateLimited: metrics.onRateLimited,
    onUnstorableText: metrics.onUnstorableText,
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
  // Alerts are on once a webhook is configured; they observe the collector and never sit on its path.
  const alerter =
    config.alerts.targets.length === 0
      ? null
      : new Alerter({
          pool,
          config: config.alerts,
          publicUrl: config.http.publicUrl,
          logger: logger.child({ component: 'alerts' }),
          events: metrics.alertEvents,
        });
  // The MQTT feed is on once MQTT_URL is set; like alerts, it observes the collector and never sits on its path.
  const mqtt =
    config.mqtt === null
      ? null
      : new MqttFeed({
          pool,
          config: config.mqtt,
          status: statusSettingsOf(config),
          logger: logger.child({ component: 'mqtt' }),
          events: mqttMetrics(metrics.registry),
        });
  // Home Assistant's statistics follow the database, after the cycles that change it, off their path.
  const homeAssistant =
    config.homeAssistant === null
      ? null
      : new HomeAssistantSyncer({
          pool,
          config: config.homeAssistant,
          siteIds: config.amber.siteIds,
          logger: logger.child({ component: 'home-assistant' }),
          events: homeAssistantMetrics(metrics.registry),
        });
  const collector = new Collector({
    pool,
    amber,
    settings: { ...config.collection, siteIds: config.amber.siteIds },
    ...(options.cycleCron ? { cycleCron: options.cycleCron } : {}),
    logger: logger.child({ component: 'collector' }),
    events: notifyAll([metrics.collectorEvents, readiness.collectorEvents, ...(alerter ? [alerter.collectorEvents] : []), ...(mqtt ? [mqtt.collectorEvents] : []), ...(homeAssistant ? [homeAssistant.collectorEvents] : [])], logger),
    onFatal: failFatally,
  });

  // The daily backup reads through a cursor (no pipeline mode) on a connection of its own, beside collection.
  const backupDir = config.backup.dir;
  const backupPool = backupDir === null ? null : createPool(connection, logger.child({ component: 'backup' }), { max: 1, applicationName: 'amber-collector-backup', pipeline: false });
  const dailyBackup =
    backupPool === null || backupDir === null
      ? null
      : new DailyBackup({ pool: backupPool, dir: backupDir, keep: config.backup.keep, logger: logger.child({ component: 'backup' }), events: dailyBackupMetrics(metrics.registry) });

  try {
    // A refused token is a configuration mistake, said before any work; an unreachable Home Assistant is not.
    if (config.homeAssistant) await checkHomeAssistant(config.homeAssistant, logger.child({ component: 'home-assistant' }));
    await waitForDatabase(pool, logger, run);
    await migrate(pool, logger);
    readiness.markMigrated(await readSchemaVersion(pool));
    metrics.recordCollectionStates(await readCollectionStates(pool));
    await dailyBackup?.start();
    mqtt?.start();
    homeAssistant?.trigger();
    let reinitPending = config.collection.forceReinit;
    while (!run.aborted) {
      await lock.acquire(run);
      readiness.setCollecting(true);
      metrics.setWriterLockHeld(true);
      // Only the collector that writes delivers alerts, those a previous run left pending included.
      alerter?.start();
      if (reinitPending) {
        await resetCollectionState(pool);
        reinitPending = false;
        logger.warn('FORCE_REINIT=true: collecting everything again from HISTORICAL_START_DATE (rows are upserted, nothing is deleted); unset it once this run is done');
      }
      // One collection session: the collector runs while this process holds the writer lock. Not awaited,
      // so a stop during start-up (sites still being read) aborts it instead of waiting for it.
      collector.start().catch(failFatally);
      await aborted(AbortSignal.any([run, lock.lostSignal]));
      await collector.stop();
      readiness.setCollecting(false);
      metrics.setWriterLockHeld(false);
      alerter?.collectionPaused();
      if (lock.lostSignal.aborted && !run.aborted) await waitForDatabase(pool, logger, run);
    }
  } catch (err) {
    if (!isCollectorError(err, 'ABORTED')) throw err;
  } finally {
    readiness.markStopping();
    await Promise.all([collector.stop(), dailyBackup?.stop()]);
    // A rejected key stops the collector: the people relying on it hear why before it exits.
    if (alerter && isCollectorError(fatal, 'AMBER_AUTH')) await alerter.apiKeyRejected(ALERT_DRAIN_MS);
    await alerter?.close(ALERT_DRAIN_MS);
    await mqtt?.stop(ALERT_DRAIN_MS);
    await homeAssistant?.stop();
    await lock.release();
    await amber.client.close();
    await Promise.all([pool.end(), readPool.end(), backupPool?.end()]);
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
    forecastSnapshot: each('forecastSnapshot'),
  };
}

/** Resolves once `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
