/**
 * Every error the collector raises on purpose carries a stable `code`. Callers branch on the code, never
 * on message text, and the exit status of the process is derived from it (see `exitCodeFor`).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'AMBER_AUTH'
  | 'AMBER_NOT_FOUND'
  | 'AMBER_BAD_REQUEST'
  | 'AMBER_RATE_LIMITED'
  | 'AMBER_SERVER'
  | 'AMBER_NETWORK'
  | 'AMBER_TIMEOUT'
  | 'AMBER_SCHEMA'
  | 'DB_UNAVAILABLE'
  | 'DB_AUTH'
  | 'DB_SCHEMA_TOO_NEW'
  | 'DB_MIGRATION_CHANGED'
  | 'DB_MIGRATION_INVALID'
  | 'DB_MIGRATION_FAILED'
  | 'EMBEDDED_DB_MISSING'
  | 'EMBEDDED_DB_FAILED'
  | 'DATA_DIR_IN_USE'
  | 'ABORTED'
  | 'USAGE';

export class CollectorError extends Error {
  readonly code: ErrorCode;
  /** True when trying the same thing again later can succeed. */
  readonly retryable: boolean;
  /** Structured facts for logs (never secrets). */
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CollectorError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

export function isCollectorError(err: unknown, code?: ErrorCode): err is CollectorError {
  return err instanceof CollectorError && (code === undefined || err.code === code);
}

/** The error a cancelled wait or request rejects with. */
export function abortError(reason?: unknown): CollectorError {
  return new CollectorError('ABORTED', 'operation aborted', { cause: reason });
}

/**
 * Exit codes: 0 clean stop, 1 a problem a person must fix (bad config, bad key, a database that refuses
 * the credentials, schema newer than the code, a misnamed or failing migration), 2 bad command-line usage, 75 (EX_TEMPFAIL) anything a restart may
 * cure (a database that is down or dropped the connection included: DB_UNAVAILABLE).
 */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof CollectorError)) return 75;
  switch (err.code) {
    case 'CONFIG_INVALID':
    case 'AMBER_AUTH':
    case 'DB_AUTH':
    case 'DB_SCHEMA_TOO_NEW':
    case 'DB_MIGRATION_CHANGED':
    case 'DB_MIGRATION_INVALID':
    case 'DB_MIGRATION_FAILED':
    case 'EMBEDDED_DB_MISSING':
    case 'EMBEDDED_DB_FAILED':
    case 'DATA_DIR_IN_USE':
      return 1;
    case 'USAGE':
      return 2;
    case 'ABORTED':
      return 0;
    default:
      return 75;
  }
}

/** True for errors no retry or restart can cure: a person must change something first. */
export function isFatal(err: unknown): boolean {
  return exitCodeFor(err) === 1;
}
