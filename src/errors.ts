/**
 * Every error the collector raises on purpose carries a stable `code`. Callers branch on the code, never
 * on message text, and the exit status of the process is derived from it (see `exitCodeFor`).
 */
/** The facts of an Amber call, for logs: never the URL or its headers, which carry the key. */
interface AmberCallDetails {
  endpoint?: string;
  /** The URL path called, for a 404 (the key travels in a header, never in the path). */
  path?: string;
  site?: string;
  startDate?: string;
  endDate?: string;
  /** The HTTP status, and the first 200 characters of the body that came with it. */
  status?: number;
  body?: string;
  attempts?: number;
  /** A truncated sample of a body that could not be read. */
  sample?: unknown;
}

/** Which database could not be reached, never the password. */
interface DatabaseTargetDetails {
  host?: string;
  port?: string;
  database?: string;
  user?: string;
  /** The driver's or the server's own code (ECONNREFUSED, 28P01, …). */
  causeCode?: unknown;
  attempts?: number;
}

/** Which Home Assistant and what it said, never the token. */
interface HomeAssistantDetails {
  /** HOME_ASSISTANT_URL's origin. */
  url?: string;
  /** Home Assistant's own error code (`unauthorized`, `invalid_format`, …) or the HTTP status. */
  code?: string | number;
  statisticId?: string;
}

/** What `details` holds for each code: structured facts for logs and answers, never secrets. */
interface ErrorDetails {
  CONFIG_INVALID: { problems?: string[] };
  AMBER_AUTH: AmberCallDetails;
  AMBER_NOT_FOUND: AmberCallDetails;
  AMBER_BAD_REQUEST: AmberCallDetails;
  AMBER_RATE_LIMITED: AmberCallDetails;
  AMBER_SERVER: AmberCallDetails;
  AMBER_NETWORK: AmberCallDetails;
  AMBER_TIMEOUT: AmberCallDetails;
  AMBER_SCHEMA: AmberCallDetails;
  DB_UNAVAILABLE: DatabaseTargetDetails;
  DB_AUTH: DatabaseTargetDetails;
  DB_SCHEMA_TOO_NEW: { databaseVersion?: number | undefined; codeVersion?: number };
  DB_MIGRATION_CHANGED: { version?: number; recordedChecksum?: string; fileChecksum?: string };
  DB_MIGRATION_INVALID: { directory?: string; file?: string };
  DB_MIGRATION_FAILED: { migration?: string; sqlState?: string };
  EMBEDDED_DB_MISSING: Record<string, never>;
  EMBEDDED_DB_FAILED: { clusterDir?: string; logPath?: string };
  DATA_DIR_IN_USE: { pid?: number; dataDir?: string };
  /** Home Assistant refused the token (or it is not an administrator's): a person must fix HOME_ASSISTANT_TOKEN. */
  HOME_ASSISTANT_AUTH: HomeAssistantDetails;
  /** Home Assistant could not be reached, or went away mid-way; a later sync retries. */
  HOME_ASSISTANT_UNAVAILABLE: HomeAssistantDetails;
  /** Home Assistant answered a command with an error. */
  HOME_ASSISTANT_REJECTED: HomeAssistantDetails;
  /** DATA_DIR or a file in it belongs to another user, others may write it, or a file is a symlink. */
  DATA_DIR_UNSAFE: { dataDir?: string };
  /** DATA_DIR cannot be created or written: read-only, a file in its path, no permission. */
  DATA_DIR_UNUSABLE: { dataDir?: string };
  ABORTED: Record<string, never>;
  /** A backup that could not be made: no collector schema in the database. */
  BACKUP_FAILED: Record<string, never>;
  /** A backup file that is not one, is damaged or truncated, or was made by a newer amber-collector. */
  BACKUP_INVALID: { file?: string };
  /** A restore that would overwrite data (no --force), meet a running collector or a newer schema. */
  RESTORE_REFUSED: { reason?: 'not-empty' | 'collector-running' | 'schema-newer' };
  /** A battery calculation stopped at its deadline or its memory limit (http/battery-api.ts answers 504 or 503). */
  BATTERY_LIMIT: { limit?: 'deadline' | 'memory' };
  /** The read API's admission control refused a request: every slot and queue place taken, or no slot in time. */
  READ_OVERLOADED: { retryAfterSeconds?: number };
  /** The database gave no answer within a check's own deadline (`/readyz`). */
  DB_TIMEOUT: { timeoutMs?: number };
  /** Something the code guarantees did not hold: a bug, not the environment. */
  INTERNAL: Record<string, never>;
  /** `problems`: one line per mistake, each starting with the argument's name, as CONFIG_INVALID's. */
  USAGE: { problems?: string[]; siteId?: string };
}

export type ErrorCode = keyof ErrorDetails;

export class CollectorError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  /** True when trying the same thing again later can succeed. */
  readonly retryable: boolean;
  readonly details: ErrorDetails[C];

  constructor(code: C, message: string, options: { retryable?: boolean; details?: ErrorDetails[C]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CollectorError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    // Every field of every code's details is optional, so "no details" is an empty object of any of them.
    this.details = options.details ?? ({} as ErrorDetails[C]);
  }
}

export function isCollectorError<C extends ErrorCode = ErrorCode>(err: unknown, code?: C): err is CollectorError<C> {
  return err instanceof CollectorError && (code === undefined || err.code === code);
}

/** The error a cancelled wait or request rejects with. */
export function abortError(reason?: unknown): CollectorError {
  return new CollectorError('ABORTED', 'operation aborted', { cause: reason });
}

/**
 * Exit codes: 0 clean stop, 1 a problem a person must fix (bad config, bad key, a database that refuses
 * the credentials, schema newer than the code, a misnamed or failing migration, a DATA_DIR that is unsafe or cannot be written), 2 bad command-line usage, 75 (EX_TEMPFAIL) anything a restart may
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
    case 'BACKUP_FAILED':
    case 'BACKUP_INVALID':
    case 'RESTORE_REFUSED':
    case 'HOME_ASSISTANT_AUTH':
    case 'DATA_DIR_UNSAFE':
    case 'DATA_DIR_UNUSABLE':
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
