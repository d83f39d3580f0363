/**
 * `collection_state`: how far each stream (site × data type) has got, and how it is faring.
 *
 * Invariant: every NEM day from `backfillFrom` through `collectedThrough` has been fetched and stored.
 * Callers that store rows and move the watermark pass the same transaction client to both, so the
 * watermark never claims a day whose rows were rolled back.
 */
import type { DataType, NemDate } from '../domain/models.ts';
import type { Queryable } from './pool.ts';

export interface CollectionState {
  siteId: string;
  dataType: DataType;
  backfillFrom: NemDate;
  collectedThrough: NemDate | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  consecutiveFailures: number;
}

/** Long enough for any real error message and its context; short enough to keep a runaway one out. */
const MAX_ERROR_LENGTH = 2000;

// Dates are formatted in SQL: pg would parse `date` into a local-midnight JS Date, and a `::text` cast
// follows the server's DateStyle.
const SELECT_STATE = `
  SELECT site_id, data_type,
         to_char(backfill_from, 'YYYY-MM-DD') AS backfill_from,
         to_char(collected_through, 'YYYY-MM-DD') AS collected_through,
         last_success_at, last_error, last_error_at, consecutive_failures
  FROM collection_state`;

interface StateRow {
  site_id: string;
  data_type: DataType;
  backfill_from: string;
  collected_through: string | null;
  last_success_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  consecutive_failures: number;
}

export async function readCollectionStates(db: Queryable): Promise<CollectionState[]> {
  const result = await db.query<StateRow>(`${SELECT_STATE} ORDER BY site_id, data_type`);
  return result.rows.map(toState);
}

export async function readCollectionState(db: Queryable, siteId: string, dataType: DataType): Promise<CollectionState | null> {
  const result = await db.query<StateRow>(`${SELECT_STATE} WHERE site_id = $1 AND data_type = $2`, [siteId, dataType]);
  const row = result.rows[0];
  return row === undefined ? null : toState(row);
}

/**
 * Moves the watermark over a chunk just stored (call it in the chunk's transaction), but only as far as
 * the invariant allows: the chunk must start at `backfillFrom` or join the days already collected
 * (`chunkStart` ≤ collected_through + 1); a chunk beyond a gap, or one wholly inside the collected range,
 * leaves the watermark where it is, and it never moves backwards. When the stream's start moved earlier
 * than the stored `backfill_from`, the old watermark proves nothing about the new leading days and is
 * replaced. Creates the row if missing and, as a success, clears the failure streak either way.
 * Returns the new watermark when it moved, otherwise null.
 */
export async function advanceWatermark(
  db: Queryable,
  args: { siteId: string; dataType: DataType; backfillFrom: NemDate; chunkStart: NemDate; through: NemDate },
): Promise<NemDate | null> {
  const result = await db.query<{ collected_through: string | null; moved: boolean }>(
    `WITH previous AS (
       SELECT collected_through FROM collection_state WHERE site_id = $1 AND data_type = $2
     ), written AS (
       INSERT INTO collection_state AS s (site_id, data_type, backfill_from, collected_through, last_success_at, consecutive_failures)
       VALUES ($1, $2, $3::date, CASE WHEN $4::date <= $3::date THEN $5::date END, now(), 0)
       ON CONFLICT (site_id, data_type) DO UPDATE
         SET backfill_from = excluded.backfill_from,
             collected_through = CASE
               WHEN excluded.backfill_from < s.backfill_from THEN excluded.collected_through
               WHEN $4::date <= excluded.backfill_from OR $4::date <= s.collected_through + 1 THEN greatest(s.collected_through, $5::date)
               ELSE s.collected_through
             END,
             last_success_at = now(), consecutive_failures = 0, updated_at = now()
       RETURNING collected_through
     )
     SELECT to_char(w.collected_through, 'YYYY-MM-DD') AS collected_through,
            w.collected_through IS DISTINCT FROM (SELECT collected_through FROM previous) AS moved
     FROM written w`,
    [args.siteId, args.dataType, args.backfillFrom, args.chunkStart, args.through],
  );
  const row = result.rows[0];
  return row?.moved ? row.collected_through : null;
}

/**
 * A success that does not move the watermark (e.g. a trailing re-fetch): last_success_at = now(),
 * failures cleared. Does nothing for a stream that has no row yet (nothing was ever collected for it).
 */
export async function markSuccess(db: Queryable, siteId: string, dataType: DataType): Promise<void> {
  await db.query(
    `UPDATE collection_state SET last_success_at = now(), consecutive_failures = 0, updated_at = now()
     WHERE site_id = $1 AND data_type = $2`,
    [siteId, dataType],
  );
}

/**
 * Records a failed attempt: the message, when, and one more in the failure streak. Creates the row (with
 * nothing collected) if missing. The last error stays after a later success, as history; the streak
 * and `last_error_at < last_success_at` tell whether it is current.
 */
export async function recordCollectionError(
  db: Queryable,
  args: { siteId: string; dataType: DataType; backfillFrom: NemDate; error: string },
): Promise<void> {
  await db.query(
    `INSERT INTO collection_state AS s (site_id, data_type, backfill_from, last_error, last_error_at, consecutive_failures)
     VALUES ($1, $2, $3, $4, now(), 1)
     ON CONFLICT (site_id, data_type) DO UPDATE
       SET last_error = excluded.last_error, last_error_at = now(),
           consecutive_failures = s.consecutive_failures + 1, updated_at = now()`,
    [args.siteId, args.dataType, args.backfillFrom, args.error.slice(0, MAX_ERROR_LENGTH)],
  );
}

/** FORCE_REINIT: forget progress for every site (rows are kept; they get upserted over). */
export async function resetCollectionState(db: Queryable): Promise<void> {
  await db.query('UPDATE collection_state SET collected_through = NULL, updated_at = now()');
}

function toState(row: StateRow): CollectionState {
  return {
    siteId: row.site_id,
    dataType: row.data_type,
    backfillFrom: row.backfill_from,
    collectedThrough: row.collected_through,
    lastSuccessAt: row.last_success_at,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at,
    consecutiveFailures: row.consecutive_failures,
  };
}
