/**
 * Keeps Home Assistant's long-term statistics in step with the database while the daemon runs: after a cycle that
 * stored usage or prices, one sync (sync.ts) over a fresh connection, off the cycle's path. Home Assistant down,
 * slow, restarting or refusing never delays collection: a failed sync waits a back-off (1 minute, doubling to 30)
 * and resumes where the last one stopped. Its state reaches the log, /metrics, `status` and /api/status.
 */
import type pg from 'pg';
import type { CollectorEvents } from '../collector/collector.ts';
import type { HomeAssistantConfig } from '../config/home-assistant-settings.ts';
import { recordIntegrationStatus } from '../db/integration-status.ts';
import { CollectorError, isCollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { syncStatistics, type SyncOptions, type SyncSummary } from './sync.ts';
import { HomeAssistantSocket } from './websocket.ts';

export interface HomeAssistantSyncEvents {
  synced?(summary: SyncSummary, at: Date): void;
  mismatched?(statistics: number): void;
  failed?(): void;
}

export interface HomeAssistantSyncStatus {
  url: string;
  lastSyncAt: string | null;
  lastSuccessAt: string | null;
  hoursPending: number | null;
  lastError: string | null;
  mismatches: number;
}

export interface HomeAssistantSyncerDeps {
  pool: pg.Pool;
  config: HomeAssistantConfig;
  siteIds: readonly string[] | null;
  logger: Logger;
  events?: HomeAssistantSyncEvents;
  now?: () => Date;
  /** First and longest pause after a failed sync; default 1 and 30 minutes. */
  backoffMs?: { initial: number; max: number };
  /** Sync knobs for tests. */
  sync?: Pick<SyncOptions, 'chunkHours' | 'verifyTimeoutMs'>;
}

export class HomeAssistantSyncer {
  private readonly deps: HomeAssistantSyncerDeps;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly state: HomeAssistantSyncStatus;
  private dirty = true;
  private running: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private stopped = false;
  private readonly controller = new AbortController();

  constructor(deps: HomeAssistantSyncerDeps) {
    this.deps = deps;
    this.log = deps.logger;
    this.now = deps.now ?? (() => new Date());
    this.retryMs = this.backoff.initial;
    this.state = { url: new URL(deps.config.url).origin, lastSyncAt: null, lastSuccessAt: null, hoursPending: null, lastError: null, mismatches: 0 };
  }

  private get backoff(): { initial: number; max: number } {
    return this.deps.backoffMs ?? { initial: 60_000, max: 30 * 60_000 };
  }

  /** For `new Collector({ events })`: a stored chunk marks the statistics stale; the cycle's end syncs them. */
  readonly collectorEvents: CollectorEvents = {
    chunkStored: (result) => {
      if (result.inserted + result.updated > 0) this.dirty = true;
    },
    cycleFinished: () => this.trigger(),
  };

  status(): HomeAssistantSyncStatus {
    return { ...this.state };
  }

  /** Starts a sync now if one is due and none is running or waiting out a back-off. */
  trigger(): void {
    if (this.stopped || this.running || this.retryTimer || !this.dirty) return;
    this.dirty = false;
    this.running = this.syncOnce().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when the sync under way (if any) has finished. */
  async idle(): Promise<void> {
    await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.controller.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.running;
  }

  private async syncOnce(): Promise<void> {
    const started = this.now();
    let socket: HomeAssistantSocket | null = null;
    try {
      socket = await HomeAssistantSocket.connect(this.deps.config.url, this.deps.config.token);
      const summary = await syncStatistics(
        { pool: this.deps.pool, socket, logger: this.log },
        { siteIds: this.deps.siteIds, signal: this.controller.signal, ...this.deps.sync },
      );
      Object.assign(this.state, { lastSyncAt: started.toISOString(), hoursPending: summary.hoursPending, mismatches: this.state.mismatches + summary.mismatches });
      if (summary.mismatches > 0) {
        this.deps.events?.mismatched?.(summary.mismatches);
        throw new Error(`${summary.mismatches} statistics did not read back as sent`);
      }
      Object.assign(this.state, { lastSuccessAt: started.toISOString(), lastError: null });
      this.retryMs = this.backoff.initial;
      this.deps.events?.synced?.(summary, started);
      if (summary.hoursSent > 0) this.log.info({ statistics: summary.statistics, hoursSent: summary.hoursSent, durationMs: this.now().getTime() - started.getTime() }, 'Home Assistant statistics synced');
    } catch (err) {
      if (this.stopped && isCollectorError(err, 'ABORTED')) return;
      if (this.controller.signal.aborted) return;
      this.dirty = true;
      this.state.lastSyncAt = started.toISOString();
      this.state.lastError = (err as Error).message;
      this.deps.events?.failed?.();
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, this.backoff.max);
      this.log.warn({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code }, retryInMs: delay }, 'Home Assistant sync failed; collection goes on and the sync resumes later');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.trigger();
      }, delay);
      this.retryTimer.unref();
    } finally {
      socket?.close();
      await recordIntegrationStatus(this.deps.pool, 'home_assistant', this.state).catch(() => {});
    }
  }
}

/**
 * `GET /api/` with the token, at start: a refused token is fatal (HOME_ASSISTANT_AUTH: a person must fix it), an
 * unreachable Home Assistant is only logged (it may be starting too).
 */
export async function checkHomeAssistant(config: HomeAssistantConfig, logger: Logger, timeoutMs = 10_000): Promise<void> {
  const origin = new URL(config.url).origin;
  let status: number;
  try {
    const response = await fetch(`${config.url}/api/`, { headers: { authorization: `Bearer ${config.token}` }, signal: AbortSignal.timeout(timeoutMs) });
    status = response.status;
    await response.body?.cancel();
  } catch (err) {
    logger.warn({ url: origin, err: { message: (err as Error).message } }, 'Home Assistant is not reachable now; statistics are synced once it is');
    return;
  }
  if (status === 401 || status === 403) {
    throw new CollectorError('HOME_ASSISTANT_AUTH', `Home Assistant at ${origin} refused HOME_ASSISTANT_TOKEN (HTTP ${status}): create a long-lived access token of an administrator (your profile, Security)`, {
      details: { url: origin, code: status },
    });
  }
  if (status !== 200) logger.warn({ url: origin, status }, 'Home Assistant answered GET /api/ unexpectedly; statistics are synced once it works');
}
