/**
 * Collection progress per stream (site × data type): how much of the backfill is done, and whether the
 * days it claims are complete (rows stored against rows expected from the site's interval length).
 */
import type { DataType, NemDate } from '../domain/models.ts';
import { addDays, nemToday } from '../domain/nem-time.ts';
import type { Queryable } from '../db/pool.ts';
import { dateText } from './nem-sql.ts';

export interface StreamCoverage {
  siteId: string;
  siteStatus: string;
  dataType: DataType;
  intervalLength: number;
  /** null until the collector first touched this stream. */
  backfillFrom: NemDate | null;
  collectedThrough: NemDate | null;
  /** The newest day the watermark can reach now: yesterday (NEM), or the day the site closed. */
  targetThrough: NemDate | null;
  daysCollected: number;
  daysTotal: number;
  /** Days collected out of days wanted, 0..100; null when the stream has not started. */
  percentComplete: number | null;
  /** Rows stored for the collected days, at the site's interval length. */
  rows: number;
  /** days × intervals per day × channels (price: channel types; usage: meter channels). */
  expectedRows: number;
  /** rows / expectedRows, 0..100 (can pass 100 if a site's channels changed); null when nothing is expected. */
  rowsPercent: number | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  consecutiveFailures: number;
}

const MINUTES_PER_DAY = 24 * 60;

export async function readCoverage(db: Queryable, args: { siteIds: readonly string[]; now: Date }): Promise<StreamCoverage[]> {
  const yesterday = addDays(nemToday(args.now), -1);
  const result = await db.query<{
    site_id: string;
    site_status: string;
    data_type: DataType;
    interval_length: number;
    backfill_from: string | null;
    collected_through: string | null;
    target_through: string | null;
    days_collected: number | null;
    days_total: number | null;
    channels: number;
    rows: string;
    last_success_at: Date | null;
    last_error: string | null;
    last_error_at: Date | null;
    consecutive_failures: number | null;
  }>(
    // Rows are counted only over the collected days, and only at the site's own interval length, so the
    // figure compares like with like; the PK index (site_id first) keeps each count to one site's rows.
    `SELECT s.id AS site_id, s.status AS site_status, t.data_type, s.interval_length,
            ${dateText('cs.backfill_from')} AS backfill_from,
            ${dateText('cs.collected_through')} AS collected_through,
            ${dateText('least($2::date, s.closed_on)')} AS target_through,
            (cs.collected_through - cs.backfill_from + 1) AS days_collected,
            (least($2::date, s.closed_on) - cs.backfill_from + 1) AS days_total,
            CASE t.data_type
              WHEN 'price' THEN (SELECT count(DISTINCT c ->> 'type') FROM jsonb_array_elements(s.channels) AS c)::int
              ELSE jsonb_array_length(s.channels)
            END AS channels,
            CASE
              WHEN cs.collected_through IS NULL THEN 0
              WHEN t.data_type = 'price' THEN (
                SELECT count(*) FROM price_data p
                WHERE p.site_id = s.id AND p.duration = s.interval_length
                  AND p.nem_date BETWEEN cs.backfill_from AND cs.collected_through)
              ELSE (
                SELECT count(*) FROM usage_data u
                WHERE u.site_id = s.id AND u.duration = s.interval_length
                  AND u.nem_date BETWEEN cs.backfill_from AND cs.collected_through)
            END AS rows,
            cs.last_success_at, cs.last_error, cs.last_error_at, cs.consecutive_failures
     FROM sites s
     CROSS JOIN (VALUES ('price'), ('usage')) AS t (data_type)
     LEFT JOIN collection_state cs ON cs.site_id = s.id AND cs.data_type = t.data_type
     WHERE s.id = ANY($1::text[])
     ORDER BY (s.status = 'active') DESC, s.id, t.data_type`,
    [args.siteIds, yesterday],
  );
  return result.rows.map((row) => {
    const daysCollected = Math.max(row.days_collected ?? 0, 0);
    const daysTotal = Math.max(row.days_total ?? 0, 0);
    const rows = Number(row.rows);
    const expectedRows = daysCollected * Math.floor(MINUTES_PER_DAY / row.interval_length) * row.channels;
    return {
      siteId: row.site_id,
      siteStatus: row.site_status,
      dataType: row.data_type,
      intervalLength: row.interval_length,
      backfillFrom: row.backfill_from,
      collectedThrough: row.collected_through,
      targetThrough: row.backfill_from === null ? null : row.target_through,
      daysCollected,
      daysTotal,
      percentComplete: row.backfill_from === null ? null : daysTotal === 0 ? 100 : Math.min(100, round1((daysCollected / daysTotal) * 100)),
      rows,
      expectedRows,
      rowsPercent: expectedRows === 0 ? null : round1((rows / expectedRows) * 100),
      lastSuccessAt: row.last_success_at?.toISOString() ?? null,
      lastError: row.last_error,
      lastErrorAt: row.last_error_at?.toISOString() ?? null,
      consecutiveFailures: row.consecutive_failures ?? 0,
    };
  });
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
