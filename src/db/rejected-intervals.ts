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

/** Deletes elements not seen since `before`; returns how many. */
export async function pruneRejectedIntervals(db: Queryable, before: Date): Promise<number> {
  const result = await db.query('DELETE FROM rejected_intervals WHERE last_seen_at < $1', [before]);
  return result.rowCount ?? 0;
}
