/**
 * The PostgreSQL connection pool and the two ways code uses it: a transaction helper, and a start-up
 * wait that tolerates a database that is still booting (compose starts both containers together).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { DatabaseConnection } from '../config/database.ts';
import { abortError, CollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** Anything that runs a query: the pool itself, or a client checked out for a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

export interface PoolOptions {
  /** Connections at most. Default 5: one collector needs few, and hosted plans cap connections. */
  max?: number;
  /** Shown in `pg_stat_activity`. Default `amber-collector`. */
  applicationName?: string;
  /** The longest any statement may run. Default 60 s. */
  statementTimeoutMs?: number;
  /** Every transaction read-only (the read API's pool): a bug there cannot write. Default false. */
  readOnly?: boolean;
  /** Pipeline mode (see below). Default true; pg refuses cursors in it. */
  pipeline?: boolean;
}

export function createPool(config: DatabaseConnection, logger: Logger, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.url,
    ssl: config.ssl,
    max: options.max ?? 5,
    application_name: options.applicationName ?? 'amber-collector',
    // pg waits forever for a connection by default; a dead database must fail fast so retries and
    // shutdown stay in control.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    // No statement or forgotten transaction may hold a connection (and shutdown) hostage.
    statement_timeout: options.statementTimeoutMs ?? 60_000,
    idle_in_transaction_session_timeout: 60_000,
    // Instants are stored as timestamptz; a UTC session makes anything rendered as text unambiguous.
    options: options.readOnly ? '-c TimeZone=UTC -c default_transaction_read_only=on' : '-c TimeZone=UTC',
    // Pipeline mode: statements issued without waiting for the one before go out together and share one
    // round trip, which a hosted database charges ~50 ms for (test/bench/remote-db.ts). Each keeps its own
    // Sync, so a failure is still reported by the statement that caused it. pg refuses cursors and COPY
    // streams in this mode; `query sql` (a cursor) turns it off.
    pipeline: options.pipeline ?? true,
  });
  // An idle client whose server went away emits 'error' on the pool; unhandled, that would crash the
  // process. The next query gets a fresh connection, so logging is all there is to do.
  pool.on('error', (err) => {
    logger.warn({ err }, 'an idle database connection failed; it will be replaced');
  });
  return pool;
}

/**
 * Runs `fn` inside BEGIN/COMMIT on one client. Any error rolls back and is rethrown (a lost connection as
 * `DB_UNAVAILABLE`, see `asDatabaseUnavailable`); the client is then destroyed rather than returned to the
 * pool, because its state after a failure is unknown.
 *
 * On a pool from `createPool`, BEGIN shares the round trip of fn's first statement, and statements fn
 * issues without awaiting each other (`Promise.all`) share one too; they still run in the order issued.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const { client, release } = await checkOutClient(pool);
  let failure: Error | undefined;
  try {
    // Not awaited before `fn` runs: in pipeline mode BEGIN travels with fn's first statement instead of
    // costing a round trip of its own. BEGIN fails only with its connection, and then so does that
    // statement; awaiting it before COMMIT reports the failure either way.
    const begun = client.query('BEGIN');
    begun.catch(() => {
      // Handled by the await below (or made moot by fn's own failure); this only keeps it from being
      // reported as unhandled while fn runs.
    });
    const result = await fn(client);
    await begun;
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
    await client.query('ROLLBACK').catch(() => {
      // The connection is broken; destroying it below discards the transaction anyway.
    });
    throw asDatabaseUnavailable(err);
  } finally {
    release(failure);
  }
}

/**
 * A client of its own from `pool` (an unreachable database is `DB_UNAVAILABLE`), and how to give it back:
 * `release(failure)` destroys it after a failure, since its state is then unknown.
 */
export async function checkOutClient(pool: pg.Pool): Promise<{ client: pg.PoolClient; release(failure?: Error): void }> {
  const client = await pool.connect().catch((err: unknown) => {
    throw asDatabaseUnavailable(err);
  });
  // pg leaves a checked-out client without an 'error' listener, so a connection cut mid-statement (a
  // Postgres restart) would be an uncaught exception. The pending query reports the same error instead.
  const ignoreConnectionError = (): void => {};
  client.on('error', ignoreConnectionError);
  return {
    client,
    release: (failure) => {
      client.removeListener('error', ignoreConnectionError);
      client.release(failure);
    },
  };
}

/**
 * Server errors that mean the connection is gone or cannot be had, whatever the statement was: class 08
 * (connection_exception), admin_shutdown (a restart or pg_terminate_backend), crash_shutdown,
 * cannot_connect_now (starting up or shutting down), too_many_connections.
 */
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Socket and DNS failures on the way to the server. */
const SOCKET_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * pg and pg-pool report a dropped or timed-out connection with plain Errors that carry no code, so their
 * messages are all there is to go on (pg 8: client.js and pg-pool's index.js).
 */
const PG_CONNECTION_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * True when `err` says the database connection failed or could not be made, as opposed to a statement the
 * server rejected (syntax, constraint, permission): the first kind goes away by itself, the second does not.
 */
export function isConnectionFailure(err: unknown): boolean {
  // A refused dual-stack connect: one error per address tried.
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.every(isConnectionFailure);
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return PG_CONNECTION_MESSAGE.test(err.message);
  if (err instanceof pg.DatabaseError) return code.startsWith('08') || CONNECTION_SQLSTATES.has(code);
  return SOCKET_ERROR_CODES.has(code);
}

/**
 * The one translation of a lost or refused database connection into `DB_UNAVAILABLE` (retryable), keeping
 * pg's error as the cause and its code in `details.causeCode`. Anything else is returned unchanged: SQL
 * errors keep their SQLSTATE for callers that branch on it, and CollectorErrors are already classified.
 */
export function asDatabaseUnavailable<T>(err: T): T | CollectorError {
  if (!isConnectionFailure(err)) return err;
  const code = (err as { code?: unknown }).code;
  return new CollectorError('DB_UNAVAILABLE', `database connection failed: ${errorMessage(err)}`, {
    retryable: true,
    details: typeof code === 'string' ? { causeCode: code } : {},
    cause: err,
  });
}

export interface WaitForDatabaseOptions {
  /** Give up after this many milliseconds. Default: never (only `signal` stops the wait). */
  deadlineMs?: number;
  /** First pause between attempts. Default 500 ms; it doubles after every failure. */
  initialDelayMs?: number;
  /** Longest pause between attempts. Default 30 s. */
  maxDelayMs?: number;
}

/**
 * Resolves once the database answers a query. Retries with capped exponential backoff, logging one line
 * per failed attempt (host and database only: the URL carries the password). Gives up only when the
 * optional deadline passes (`CollectorError('DB_UNAVAILABLE')`) or `signal` aborts (`ABORTED`, like every
 * cancelled wait: a stop requested while the database is down is a clean stop).
 */
export async function waitForDatabase(
  pool: pg.Pool,
  logger: Logger,
  signal: AbortSignal,
  options: WaitForDatabaseOptions = {},
): Promise<void> {
  const { deadlineMs, initialDelayMs = 500, maxDelayMs = 30_000 } = options;
  const target = describeTarget(pool);
  const giveUpAt = deadlineMs === undefined ? Infinity : Date.now() + deadlineMs;
  let delayMs = initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw abortError(signal.reason);
    try {
      await pool.query('SELECT 1');
      if (attempt > 1) logger.info({ ...target, attempts: attempt }, 'database is reachable');
      return;
    } catch (err) {
      if (isAuthenticationFailure(err)) throw refusedCredentials(pool, target, err);
      const wait = Math.min(delayMs, giveUpAt - Date.now());
      if (wait <= 0) throw unavailable(target, attempt, err);
      logger.warn(
        { ...target, attempt, retryInMs: wait, code: (err as { code?: unknown }).code, reason: errorMessage(err) },
        'database not reachable yet; retrying',
      );
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        // Aborted: the check at the top of the loop reports it.
      }
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  }
}

/**
 * 28P01 (wrong password) and 28000 (no such role, or pg_hba.conf refuses it): no retry cures them, a person
 * must change DATABASE_URL or the database's roles.
 */
function isAuthenticationFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '28P01' || code === '28000';
}

function refusedCredentials(pool: pg.Pool, target: Target, cause: unknown): CollectorError {
  const user = describeUser(pool);
  const what = (cause as { code?: unknown }).code === '28P01' ? 'refused the password' : 'refused the login';
  return new CollectorError(
    'DB_AUTH',
    `the database ${target.host}/${target.database} ${what} of user "${user}" (${errorMessage(cause)}): ` +
      'correct the user name and password in DATABASE_URL (with docker compose: COLLECTOR_DB_PASSWORD in .env, then docker compose up -d)',
    { details: { ...target, user, causeCode: (cause as { code?: unknown }).code }, cause },
  );
}

function describeUser(pool: pg.Pool): string {
  const url = URL.parse(pool.options.connectionString ?? '');
  return url === null || url.username === '' ? '(default)' : decodeURIComponent(url.username);
}

interface Target {
  host: string;
  port: string;
  database: string;
}

function describeTarget(pool: pg.Pool): Target {
  const connectionString = pool.options.connectionString ?? '';
  const url = URL.canParse(connectionString) ? new URL(connectionString) : null;
  return {
    host: url?.hostname || url?.searchParams.get('host') || 'localhost',
    port: url?.port || '5432',
    database: decodeURIComponent(url?.pathname.slice(1) ?? '') || '(default)',
  };
}

function unavailable(target: Target, attempts: number, cause: unknown): CollectorError {
  return new CollectorError('DB_UNAVAILABLE', `gave up waiting for the database ${target.host}/${target.database} after ${attempts} attempts`, {
    retryable: true,
    details: { ...target, attempts },
    cause,
  });
}

/** Connection failures are often AggregateErrors with an empty message (one attempt per address). */
function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message !== '') return err.message;
  return err instanceof AggregateError ? err.errors.map(errorMessage).join('; ') : err.name;
}
