/**
 * `backfill_requests`: on-demand re-collection of a range (`amber-collector backfill`). The process that
 * holds the single-writer lock runs them, one at a time and oldest first; a request's plan (`calls`) is
 * fixed when it is made, and `calls_done` moves in the same transaction as each call's rows, so an
 * interrupted request resumes exactly where it stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { DataType, NemDate } from '../domain/models.ts';
import type { DayRange } from '../domain/nem-time.ts';
import { CollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Queryable } from './pool.ts';

/** NOTIFY channel: a new request was made. */
export const BACKFILL_REQUEST_CHANNEL = 'amber_backfill_requests';

export type BackfillRequestStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

export interface PlannedCall extends DayRange {
  dataType: DataType;
}

export interface BackfillRequest {
  id: number;
  siteId: string;
  from: NemDate;
  to: NemDate;
  dataTypes: DataType[];
  calls: PlannedCall[];
  callsDone: number;
  status: BackfillRequestStatus;
  requestedBy: string;
  executor: string | null;
  error: string | null;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Long enough for any real error message; short enough to keep a runaway one out. */
const MAX_ERROR_LENGTH = 2000;

const SELECT_REQUEST = `
  SELECT id::int AS id, site_id, to_char(from_date, 'YYYY-MM-DD') AS from_date, to_char(to_date, 'YYYY-MM-DD') AS to_date,
         data_types, calls, calls_done, status, requested_by, executor, error, requested_at, started_at, finished_at
  FROM backfill_requests`;

interface RequestRow {
  id: number;
  site_id: string;
  from_date: string;
  to_date: string;
  data_types: DataType[];
  calls: PlannedCall[];
  calls_done: number;
  status: BackfillRequestStatus;
  requested_by: string;
  executor: string | null;
  error: string | null;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

/** Stores a pending request and wakes the daemon (if one listens), in one statement. */
export async function createBackfillRequest(
  db: Queryable,
  args: { siteId: string; from: NemDate; to: NemDate; dataTypes: readonly DataType[]; calls: readonly PlannedCall[]; requestedBy: string },
): Promise<BackfillRequest> {
  const result = await db.query<{ id: number }>(
    `WITH created AS (
       INSERT INTO backfill_requests (site_id, from_date, to_date, data_types, calls, requested_by)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       RETURNING id
     )
     SELECT id::int AS id, pg_notify('${BACKFILL_REQUEST_CHANNEL}', id::text) FROM created`,
    [args.siteId, args.from, args.to, args.dataTypes, JSON.stringify(args.calls), args.requestedBy],
  );
  const id = result.rows[0]?.id;
  const request = id === undefined ? null : await readBackfillRequest(db, id);
  if (request === null) throw new CollectorError('INTERNAL', 'the backfill request was not stored');
  return request;
}

export async function readBackfillRequest(db: Queryable, id: number): Promise<BackfillRequest | null> {
  const result = await db.query<RequestRow>(`${SELECT_REQUEST} WHERE id = $1`, [id]);
  const row = result.rows[0];
  return row === undefined ? null : toRequest(row);
}

/** Requests not finished yet (pending or running), oldest first. */
export async function readOpenBackfillRequests(db: Queryable): Promise<BackfillRequest[]> {
  const result = await db.query<RequestRow>(`${SELECT_REQUEST} WHERE status IN ('pending', 'running') ORDER BY id`);
  return result.rows.map(toRequest);
}

/**
 * Marks a request as running by `executor` and returns it: request `id`, or the oldest open one. A
 * request left `running` by a process that died is claimed again: only the lock holder calls this, so
 * nobody else can be running it.
 */
export async function claimBackfillRequest(db: Queryable, executor: string, id?: number): Promise<BackfillRequest | null> {
  const result = await db.query<{ id: number }>(
    `UPDATE backfill_requests SET status = 'running', executor = $1, started_at = coalesce(started_at, now())
     WHERE id = (
       SELECT id FROM backfill_requests
       WHERE status IN ('pending', 'running') AND ($2::bigint IS NULL OR id = $2)
       ORDER BY id LIMIT 1
     )
     RETURNING id::int AS id`,
    [executor, id ?? null],
  );
  const claimed = result.rows[0]?.id;
  return claimed === undefined ? null : readBackfillRequest(db, claimed);
}

/** One more call done (call it in the call's transaction). False when the request was cancelled meanwhile. */
export async function recordBackfillProgress(db: Queryable, id: number): Promise<boolean> {
  const result = await db.query(`UPDATE backfill_requests SET calls_done = calls_done + 1 WHERE id = $1 AND status = 'running'`, [id]);
  return result.rowCount === 1;
}

export async function finishBackfillRequest(db: Queryable, id: number, outcome: { status: 'done' | 'failed'; error?: string }): Promise<void> {
  await db.query(
    `UPDATE backfill_requests SET status = $2, error = $3, finished_at = now() WHERE id = $1 AND status = 'running'`,
    [id, outcome.status, outcome.error?.slice(0, MAX_ERROR_LENGTH) ?? null],
  );
}

/** Cancels a request that has not finished; true when it was open. */
export async function cancelBackfillRequest(db: Queryable, id: number): Promise<boolean> {
  const result = await db.query(
    `UPDATE backfill_requests SET status = 'cancelled', finished_at = now() WHERE id = $1 AND status IN ('pending', 'running')`,
    [id],
  );
  return result.rowCount === 1;
}

/**
 * LISTENs on `channel` on a connection of its own for as long as `signal` is live, calling `onNotify` for
 * every notification, and once each time listening (re)starts, since notifications sent while nobody
 * listened are lost. A broken connection is replaced after `retryMs`.
 */
export async function listenForNotifications(
  pool: pg.Pool,
  channel: string,
  onNotify: () => void,
  signal: AbortSignal,
  logger: Logger,
  retryMs = 5_000,
): Promise<void> {
  while (!signal.aborted) {
    let client: pg.PoolClient | undefined;
    let broken: unknown = null;
    try {
      client = await pool.connect();
      const lost = new Promise<void>((resolve) => {
        client?.on('error', (err) => {
          broken = err;
          resolve();
        });
        client?.on('end', () => {
          broken ??= new Error('connection ended');
          resolve();
        });
        // The session may have ended while the connection was being made: its abort event is gone by now.
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      client.on('notification', (message) => {
        if (message.channel === channel) onNotify();
      });
      await client.query(`LISTEN ${channel}`);
      onNotify();
      await lost;
    } catch (err) {
      broken = err;
    } finally {
      if (client !== undefined) {
        const healthy = broken === null;
        if (healthy) await client.query(`UNLISTEN ${channel}`).catch(() => undefined);
        client.release(healthy ? undefined : true);
      }
    }
    if (signal.aborted) return;
    logger.warn({ err: broken, channel }, 'stopped listening for notifications; listening again shortly');
    await sleep(retryMs, undefined, { signal }).catch(() => undefined);
  }
}

function toRequest(row: RequestRow): BackfillRequest {
  return {
    id: row.id,
    siteId: row.site_id,
    from: row.from_date,
    to: row.to_date,
    dataTypes: row.data_types,
    calls: row.calls,
    callsDone: row.calls_done,
    status: row.status,
    requestedBy: row.requested_by,
    executor: row.executor,
    error: row.error,
    requestedAt: row.requested_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
