/**
 * Liveness, readiness and metrics routes.
 *
 * - `/healthz` answers 200 while the process can answer at all. It is what Docker's HEALTHCHECK and
 *   Railway's deploy check call: during a deploy the new collector waits for the old one's writer lock,
 *   so a check that demanded collection would never pass and the old one would never be stopped. The one
 *   exception is a part of the process itself that is gone: the embedded PostgreSQL it owns (503).
 * - `/readyz` answers 200 only when the database is reachable, its schema is migrated, this process holds
 *   the writer lock and something was stored recently; otherwise 503 with the first failing check as
 *   `reason`, plus every check's result.
 * - `/metrics` is the Prometheus exposition of `CollectorMetrics`.
 */
import type pg from 'pg';
import type { CollectorEvents } from '../collector/collector.ts';
import type { CycleSummary } from '../collector/cycle.ts';
import { readSchemaVersion } from '../db/migrate.ts';
import { CollectorError, isCollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { CollectorMetrics } from '../metrics.ts';
import { sendJson, type Route } from './server.ts';

/** A readiness probe must answer quickly; a database that needs longer than this counts as unreachable. */
const DEFAULT_DATABASE_TIMEOUT_MS = 3_000;

export interface ReadinessOptions {
  pool: pg.Pool;
  /** Collection counts as stalled when nothing succeeded for longer than this (two cycle intervals). */
  maxQuietMs: number;
  databaseTimeoutMs?: number;
  now?: () => Date;
  /** Where the driver's own words about a failed check go (they name hosts and users, so /readyz omits them). */
  logger?: Logger;
}

export interface CheckResult {
  ok: boolean;
  /** Why the check failed, in words a person can act on; absent when ok. */
  reason?: string;
  [detail: string]: unknown;
}

export interface ReadinessReport {
  ready: boolean;
  /** The first failing check's reason; null when ready. */
  reason: string | null;
  checks: { database: CheckResult; migrations: CheckResult; writerLock: CheckResult; collection: CheckResult };
}

/**
 * What `/readyz` knows. The daemon reports the milestones it passes (migrated, holding the lock,
 * stopping); collection progress arrives through `collectorEvents`; the database is asked on every check.
 */
export class Readiness {
  private readonly pool: pg.Pool;
  private readonly maxQuietMs: number;
  private readonly databaseTimeoutMs: number;
  private readonly now: () => Date;
  private schemaVersion: number | null = null;
  private collecting = false;
  private stopping = false;
  private lastProgressAt: Date | null = null;
  private readonly logger: Logger | null;
  private lastLoggedFailure: string | null = null;

  constructor(options: ReadinessOptions) {
    this.logger = options.logger ?? null;
    this.pool = options.pool;
    this.maxQuietMs = options.maxQuietMs;
    this.databaseTimeoutMs = options.databaseTimeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
    this.now = options.now ?? (() => new Date());
  }

  /** Progress: a stored chunk, or a cycle in which every stream succeeded (an account with nothing left to fetch still counts). */
  readonly collectorEvents: CollectorEvents = {
    chunkStored: () => this.progressed(),
    cycleFinished: (summary: CycleSummary) => {
      if (summary.failedStreams === 0) this.progressed();
    },
  };

  /** The schema version this process migrated the database to. */
  markMigrated(schemaVersion: number): void {
    this.schemaVersion = schemaVersion;
  }

  setCollecting(collecting: boolean): void {
    this.collecting = collecting;
  }

  markStopping(): void {
    this.stopping = true;
  }

  async check(): Promise<ReadinessReport> {
    const { database, migrations } = await this.checkDatabase();
    const writerLock = this.collecting
      ? { ok: true }
      : { ok: false, reason: 'not holding the single-writer lock: another collector is active on this database, or this one is starting' };
    const collection = this.checkProgress();
    const checks = { database, migrations, writerLock, collection };
    const shutdown = this.stopping ? 'shutting down' : null;
    const reason = shutdown ?? Object.values(checks).find((c) => !c.ok)?.reason ?? null;
    return { ready: reason === null, reason, checks };
  }

  private progressed(): void {
    this.lastProgressAt = this.now();
  }

  private async checkDatabase(): Promise<{ database: CheckResult; migrations: CheckResult }> {
    const started = performance.now();
    let version: number;
    try {
      version = await withTimeout(readSchemaVersion(this.pool), this.databaseTimeoutMs);
    } catch (err) {
      if ((err as { code?: unknown }).code === '42P01') {
        return { database: { ok: true }, migrations: { ok: false, reason: 'the database has no schema_migrations table: migrations have not run' } };
      }
      const reason = `database unreachable: ${publicReason(err)}`;
      // Once per change of reason, not on every probe of a database that stays down.
      if (reason !== this.lastLoggedFailure) this.logger?.warn({ err }, `readiness check: ${reason}`);
      this.lastLoggedFailure = reason;
      return {
        database: { ok: false, reason },
        migrations: { ok: false, reason: 'unknown while the database is unreachable' },
      };
    }
    this.lastLoggedFailure = null;
    const database = { ok: true, latencyMs: Math.round(performance.now() - started) };
    if (this.schemaVersion === null) {
      return { database, migrations: { ok: false, reason: 'migrations have not run yet in this process', version } };
    }
    if (version < this.schemaVersion) {
      return { database, migrations: { ok: false, reason: `the database schema is at version ${version}, expected ${this.schemaVersion}`, version } };
    }
    return { database, migrations: { ok: true, version } };
  }

  private checkProgress(): CheckResult {
    const limitSeconds = Math.round(this.maxQuietMs / 1000);
    if (this.lastProgressAt === null) {
      return { ok: false, reason: 'nothing collected yet since the collector started', lastProgressAt: null, limitSeconds };
    }
    const quietMs = this.now().getTime() - this.lastProgressAt.getTime();
    const detail = { lastProgressAt: this.lastProgressAt.toISOString(), secondsSinceProgress: Math.round(quietMs / 1000), limitSeconds };
    return quietMs <= this.maxQuietMs
      ? { ok: true, ...detail }
      : { ok: false, reason: `nothing collected for ${Math.round(quietMs / 1000)} s (limit ${limitSeconds} s, two cycle intervals)`, ...detail };
  }
}

export interface HealthRouteDeps {
  readiness: Readiness;
  metrics: CollectorMetrics;
  /** Why the process itself is broken (its own embedded PostgreSQL is gone), or null; default never. */
  liveness?: () => string | null;
}

/** `/healthz`, `/readyz` and `/metrics`, open even when HTTP_API_TOKEN protects the read API. */
export function healthRoutes({ readiness, metrics, liveness = () => null }: HealthRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      handle: (_req, res) => {
        const problem = liveness();
        const uptimeSeconds = Math.round(process.uptime());
        if (problem === null) sendJson(res, 200, { status: 'ok', uptimeSeconds });
        else sendJson(res, 503, { status: 'failing', reason: problem, uptimeSeconds });
      },
    },
    {
      method: 'GET',
      path: '/readyz',
      handle: async (_req, res) => {
        const report = await readiness.check();
        sendJson(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', reason: report.reason, checks: report.checks });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handle: async (_req, res) => {
        const text = await metrics.render();
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(text);
      },
    },
  ];
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CollectorError('DB_TIMEOUT', `no answer within ${ms} ms`, { retryable: true, details: { timeoutMs: ms } })), ms);
  });
  // The losing query keeps running; pg's own connection timeout ends it, and its error is not wanted here.
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Kinds of database failure by SQLSTATE or socket error code, in words an unauthenticated caller may read. */
const PUBLIC_REASONS: ReadonlyArray<[RegExp, string]> = [
  [/^28(P01|000)$/, 'the database refused the credentials'],
  [/^3D000$/, 'the database does not exist'],
  [/^ECONNREFUSED$/, 'connection refused'],
  [/^(ENOTFOUND|EAI_AGAIN)$/, 'host name not resolved'],
  [/^(08|57P|53)/, 'the server is not accepting connections'],
];

/**
 * What `/readyz` says about a failed database check: the kind of failure and its codes, never the driver's
 * message, which names hosts, addresses, users and databases (the log has it).
 */
function publicReason(err: unknown): string {
  if (isCollectorError(err, 'DB_TIMEOUT')) return err.message;
  const errors = err instanceof AggregateError && err.errors.length > 0 ? err.errors : [err];
  const codes = [...new Set(errors.map((e) => (e as { code?: unknown } | null)?.code).filter((c): c is string => typeof c === 'string'))];
  const kind = PUBLIC_REASONS.find(([pattern]) => pattern.test(codes[0] ?? ''))?.[1] ?? 'connection failed';
  return codes.length === 0 ? kind : `${kind} (${codes.join(', ')})`;
}
