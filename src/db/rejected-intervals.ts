/** `rejected_intervals`: elements of Amber responses that were refused, one row per distinct element. */
import type { NemDate, RejectedItem } from '../domain/models.ts';
import type { Queryable } from './pool.ts';

/** Where a refused element came from: `forecast` for `/prices/current`. */
export type RejectedDataType = 'price' | 'usage' | 'forecast';

export interface RejectedBatch {
  siteId: string;
  dataType: RejectedDataType;
  /** The NEM days asked for (for `/prices/current`, the days the call could cover). */
  from: NemDate;
  to: NemDate;
  items: readonly RejectedItem[];
}

export interface RejectedInterval {
  siteId: string;
  dataType: RejectedDataType;
  requestedFrom: NemDate;
  requestedTo: NemDate;
  rule: string;
  problems: string;
  raw: unknown;
  firstSeenAt: Date;
  lastSeenAt: Date;
  timesSeen: number;
}

/** Per site and data type: elements refused, and when one was last seen. */
export interface RejectedCount {
  siteId: string;
  dataType: RejectedDataType;
  elements: number;
  lastSeenAt: Date;
}

/**
 * Records the refused elements of one response. An element seen before (same site, data type and content)
 * is counted again, with the latest range and reason; repeats within the batch count once each.
 */
export async function recordRejectedIntervals(db: Queryable, batch: RejectedBatch): Promise<void> {
  if (batch.items.length === 0) return;
  const elements = JSON.stringify(batch.items.map((item) => [item.rule, item.problems.join('; '), item.element ?? null]));
  await db.query(
    `WITH incoming AS (
       SELECT e->>0 AS rule, e->>1 AS problems, e->2 AS raw, md5((e->2)::text) AS raw_hash
       FROM jsonb_array_elements($5::jsonb) AS e
     ), distinct_incoming AS (
       SELECT raw_hash, min(rule) AS rule, min(problems) AS problems, min(raw::text)::jsonb AS raw, count(*)::int AS n
       FROM incoming GROUP BY raw_hash
     )
     INSERT INTO rejected_intervals AS t (site_id, data_type, raw_hash, requested_from, requested_to, rule, problems, raw, times_seen)
     SELECT $1, $2, raw_hash, $3::date, $4::date, rule, problems, raw, n FROM distinct_incoming
     ON CONFLICT (site_id, data_type, raw_hash) DO UPDATE
       SET requested_from = excluded.requested_from, requested_to = excluded.requested_to, rule = excluded.rule,
           problems = excluded.problems, last_seen_at = now(), times_seen = t.times_seen + excluded.times_seen`,
    [batch.siteId, batch.dataType, batch.from, batch.to, elements],
  );
}

/** Refused elements per site and data type, for status. */
export async function readRejectedCounts(db: Queryable): Promise<RejectedCount[]> {
  const result = await db.query<{ site_id: string; data_type: RejectedDataType; elements: number; last_seen_at: Date }>(
    `SELECT site_id, data_type, count(*)::int AS elements, max(last_seen_at) AS last_seen_at
     FROM rejected_intervals GROUP BY site_id, data_type ORDER BY site_id, data_type`,
  );
  return result.rows.map((row) => ({ siteId: row.site_id, dataType: row.data_type, elements: row.elements, lastSeenAt: row.last_seen_at }));
}

/** Refused elements last seen at or after `since` (all when null), newest first. */
export async function readRejectedIntervals(
  db: Queryable,
  filter: { siteId: string | null; since: Date | null; limit: number },
): Promise<RejectedInterval[]> {
  const result = await db.query<{
    site_id: string;
    data_type: RejectedDataType;
    requested_from: string;
    requested_to: string;
    rule: string;
    problems: string;
    raw: unknown;
    first_seen_at: Date;
    last_seen_at: Date;
    times_seen: number;
  }>(
    `SELECT site_id, data_type, to_char(requested_from, 'YYYY-MM-DD') AS requested_from,
            to_char(requested_to, 'YYYY-MM-DD') AS requested_to, rule, problems, raw, first_seen_at, last_seen_at, times_seen
     FROM rejected_intervals
     WHERE ($1::text IS NULL OR site_id = $1) AND ($2::timestamptz IS NULL OR last_seen_at >= $2)
     ORDER BY last_seen_at DESC, site_id, data_type, raw_hash
     LIMIT $3`,
    [filter.siteId, filter.since, filter.limit],
  );
  return result.rows.map((row) => ({
    siteId: row.site_id,
    dataType: row.data_type,
    requestedFrom: row.requested_from,
    requestedTo: row.requested_to,
    rule: row.rule,
    problems: row.problems,
    raw: row.raw,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    timesSeen: row.times_seen,
  }));
}

/** Deletes elements not seen since `before`; returns how many. */
export async function pruneRejectedIntervals(db: Queryable, before: Date): Promise<number> {
  const result = await db.query('DELETE FROM rejected_intervals WHERE last_seen_at < $1', [before]);
  return result.rowCount ?? 0;
}
