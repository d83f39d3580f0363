/**
 * `rejected_intervals`: elements of Amber responses that were refused, one row per distinct element, within
 * caps per response and per site, data type and day (the rest counted in one `not-kept` row per day).
 */
import type { NemDate, RejectedItem } from '../domain/models.ts';
import { nemDayStart, nemToday } from '../domain/nem-time.ts';
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
 * A hostile or broken upstream must not fill the disk (37,412 unique bad elements, 26 MB, in 4 minutes): at
 * most this many new rows per response, and per site, data type and NEM day. Elements beyond them are counted
 * in that day's `not-kept` row (its times_seen), not kept one by one; the log line of each response has a sample.
 */
const MAX_NEW_ROWS_PER_RESPONSE = 50;
const MAX_NEW_ROWS_PER_DAY = 200;
/** An element whose JSON text is longer is kept as its start, its length and `truncated: true`. */
const MAX_RAW_CHARACTERS = 4_096;
const MAX_PROBLEMS_CHARACTERS = 1_000;
/** The rule of the row that counts the elements of one site, data type and NEM day beyond the caps. */
const NOT_KEPT_RULE = 'not-kept';

/**
 * Records the refused elements of one response. An element seen before (same site, data type and content)
 * is counted again, with the latest range and reason; repeats within the batch count once each. New elements
 * are kept up to the caps above, the rest counted.
 */
export async function recordRejectedIntervals(db: Queryable, batch: RejectedBatch, now: Date = new Date()): Promise<void> {
  if (batch.items.length === 0) return;
  const elements = JSON.stringify(batch.items.map((item) => [item.rule, item.problems.join('; ').slice(0, MAX_PROBLEMS_CHARACTERS), item.element ?? null]));
  const today = nemToday(now);
  const { rows } = await db.query<{ fresh: number; inserted: number }>(
    `WITH incoming AS (
       SELECT n, e->>0 AS rule, e->>1 AS problems, (e->2)::text AS raw_text, md5((e->2)::text) AS raw_hash
       FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY AS x (e, n)
     ), distinct_incoming AS (
       SELECT raw_hash, min(n) AS n, min(rule) AS rule, min(problems) AS problems, min(raw_text) AS raw_text, count(*)::int AS times
       FROM incoming GROUP BY raw_hash
     ), known AS (
       UPDATE rejected_intervals AS t
          SET requested_from = $3::date, requested_to = $4::date, rule = d.rule, problems = d.problems, last_seen_at = now(), times_seen = t.times_seen + d.times
         FROM distinct_incoming d
        WHERE t.site_id = $1 AND t.data_type = $2 AND t.raw_hash = d.raw_hash
       RETURNING t.raw_hash
     ), fresh AS (
       SELECT * FROM distinct_incoming WHERE raw_hash NOT IN (SELECT raw_hash FROM known)
     ), room AS (
       SELECT greatest(0, least($7::int, $8::int - count(*)::int)) AS n
       FROM rejected_intervals WHERE site_id = $1 AND data_type = $2 AND first_seen_at >= $6 AND rule <> '${NOT_KEPT_RULE}'
     ), inserted AS (
       INSERT INTO rejected_intervals AS t (site_id, data_type, raw_hash, requested_from, requested_to, rule, problems, raw, times_seen)
       SELECT $1, $2, raw_hash, $3::date, $4::date, rule, problems,
              CASE WHEN length(raw_text) <= $9 THEN raw_text::jsonb
                   ELSE jsonb_build_object('truncated', true, 'characters', length(raw_text), 'start', left(raw_text, $9)) END,
              times
       FROM fresh ORDER BY n LIMIT (SELECT n FROM room)
       ON CONFLICT (site_id, data_type, raw_hash) DO UPDATE SET last_seen_at = now(), times_seen = t.times_seen + excluded.times_seen
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM fresh)::int AS fresh, (SELECT count(*) FROM inserted)::int AS inserted`,
    [batch.siteId, batch.dataType, batch.from, batch.to, elements, nemDayStart(today), MAX_NEW_ROWS_PER_RESPONSE, MAX_NEW_ROWS_PER_DAY, MAX_RAW_CHARACTERS],
  );
  const notKept = rows[0]!.fresh - rows[0]!.inserted;
  if (notKept === 0) return;
  await db.query(
    `INSERT INTO rejected_intervals AS t (site_id, data_type, raw_hash, requested_from, requested_to, rule, problems, raw, times_seen)
     VALUES ($1, $2, $3, $4::date, $5::date, '${NOT_KEPT_RULE}', $6, $7::jsonb, $8)
     ON CONFLICT (site_id, data_type, raw_hash) DO UPDATE
       SET requested_from = excluded.requested_from, requested_to = excluded.requested_to, last_seen_at = now(), times_seen = t.times_seen + excluded.times_seen`,
    [
      batch.siteId,
      batch.dataType,
      `${NOT_KEPT_RULE}:${today}`,
      batch.from,
      batch.to,
      `elements refused on ${today} beyond the caps (${MAX_NEW_ROWS_PER_RESPONSE} new rows per response, ${MAX_NEW_ROWS_PER_DAY} per site, data type and day): counted in times_seen, not kept`,
      JSON.stringify({ notKeptOn: today }),
      notKept,
    ],
  );
}

/** Refused elements per site and data type, for status. */
export async function readRejectedCounts(db: Queryable): Promise<RejectedCount[]> {
  const result = await db.query<{ site_id: string; data_type: RejectedDataType; elements: number; last_seen_at: Date }>(
    // A not-kept row stands for times_seen elements.
    `SELECT site_id, data_type,
            (count(*) FILTER (WHERE rule <> '${NOT_KEPT_RULE}') + coalesce(sum(times_seen) FILTER (WHERE rule = '${NOT_KEPT_RULE}'), 0))::int AS elements,
            max(last_seen_at) AS last_seen_at
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
