/**
 * The coverage ledger (`coverage`) and gap-repair bookkeeping (`coverage_checks`).
 *
 * `recountCoverage` runs in each chunk's transaction, after its rows are upserted, so the ledger always
 * agrees with the data. The counting rules live in SQL (`recount_coverage` and `expected_intervals_per_day`,
 * migrations 000002 and 000006) so the migration that seeds an existing database, the collector and the
 * status read model count the same way.
 */
import type { DataType, NemDate } from '../domain/models.ts';
import type { Queryable } from './pool.ts';

/** One NEM day of one stream after a recount, totalled over its channels. */
export interface DayCount {
  date: NemDate;
  expected: number;
  stored: number;
  /** What the ledger held before this recount; null for a day counted for the first time. */
  previouslyStored: number | null;
}

/** Why a day is still incomplete after being re-fetched, and when to look again. */
export interface CoverageCheck {
  /** Re-fetches in a row that added no interval; 0 after one that made progress. */
  fruitlessChecks: number;
  lastCheckedAt: Date;
  nextCheckAt: Date;
}

export interface IncompleteDay {
  date: NemDate;
  /** False for a day the ledger has no row for: never fetched (beyond the watermark, usually). */
  fetched: boolean;
  /** Intervals the day should have: for a day never fetched, every channel at the site's interval length. */
  expected: number;
  stored: number | null;
  check: CoverageCheck | null;
}

export interface CoverageTotals {
  /** Over fetched days of the range asked for: intervals expected and stored (capped per channel-day). */
  expected: number;
  stored: number;
  fetchedDays: number;
  /** First and last day with any stored interval, over the whole stream (not only the range asked for). */
  firstStored: NemDate | null;
  lastStored: NemDate | null;
}

interface CheckColumns {
  fruitless_checks: number | null;
  last_checked_at: Date | null;
  next_check_at: Date | null;
}

/**
 * Serialises the chunk transactions of one stream (call it first in each), so two of them storing rows of
 * the same day at once (gap repair and an on-demand request, say) cannot each recount without the other's
 * rows and leave the ledger short. Released at commit or rollback.
 */
export async function lockStreamCoverage(db: Queryable, siteId: string, dataType: DataType): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('amber coverage ' || $1 || ' ' || $2, 0))`, [siteId, dataType]);
}

/** Recounts days `from`..`to` of a stream from its stored rows; call it in the chunk's transaction. */
export async function recountCoverage(db: Queryable, siteId: string, dataType: DataType, from: NemDate, to: NemDate): Promise<DayCount[]> {
  const result = await db.query<{ nem_date: string; expected: number; stored: number; previously_stored: number | null }>(
    `SELECT to_char(nem_date, 'YYYY-MM-DD') AS nem_date, expected, stored, previously_stored
     FROM recount_coverage($1, $2, $3::date, $4::date)`,
    [siteId, dataType, from, to],
  );
  return result.rows.map((row) => ({
    date: row.nem_date,
    expected: row.expected,
    stored: row.stored,
    previouslyStored: row.previously_stored,
  }));
}

/**
 * Days of `from`..`through` that are incomplete (fewer intervals stored than expected, or never fetched),
 * newest first. With `dueAt`, days whose next check is still in the future are left out.
 */
export async function readIncompleteDays(
  db: Queryable,
  args: { siteId: string; dataType: DataType; from: NemDate; through: NemDate; dueAt?: Date; limit?: number },
): Promise<IncompleteDay[]> {
  const result = await db.query<{ nem_date: string; fetched: boolean; expected: number; stored: number | null } & CheckColumns>(
    `SELECT to_char($3::date + d.offset_days, 'YYYY-MM-DD') AS nem_date, c.nem_date IS NOT NULL AS fetched,
            coalesce(c.expected, expected_intervals_per_day($1, $2)) AS expected, c.stored, k.fruitless_checks, k.last_checked_at, k.next_check_at
     FROM generate_series(0, $4::date - $3::date) AS d (offset_days)
     LEFT JOIN (
       SELECT nem_date, sum(expected)::int AS expected, sum(least(stored, expected))::int AS stored
       FROM coverage
       WHERE site_id = $1 AND data_type = $2 AND nem_date BETWEEN $3 AND $4
       GROUP BY nem_date
     ) c ON c.nem_date = $3::date + d.offset_days
     LEFT JOIN coverage_checks k ON k.site_id = $1 AND k.data_type = $2 AND k.nem_date = $3::date + d.offset_days
     WHERE (c.nem_date IS NULL OR c.stored < c.expected)
       AND ($5::timestamptz IS NULL OR k.next_check_at IS NULL OR k.next_check_at <= $5)
     ORDER BY d.offset_days DESC
     LIMIT $6`,
    [args.siteId, args.dataType, args.from, args.through, args.dueAt ?? null, args.limit ?? null],
  );
  return result.rows.map((row) => ({
    date: row.nem_date,
    fetched: row.fetched,
    expected: row.expected,
    stored: row.stored,
    check: checkOf(row),
  }));
}

/** Ledger totals of a stream over `from`..`through`. */
export async function readCoverageTotals(
  db: Queryable,
  args: { siteId: string; dataType: DataType; from: NemDate; through: NemDate },
): Promise<CoverageTotals> {
  const result = await db.query<{ expected: number; stored: number; fetched_days: number; first_stored: string | null; last_stored: string | null }>(
    `SELECT coalesce(sum(expected) FILTER (WHERE in_range), 0)::int AS expected,
            coalesce(sum(least(stored, expected)) FILTER (WHERE in_range), 0)::int AS stored,
            count(DISTINCT nem_date) FILTER (WHERE in_range)::int AS fetched_days,
            to_char(min(nem_date) FILTER (WHERE stored > 0), 'YYYY-MM-DD') AS first_stored,
            to_char(max(nem_date) FILTER (WHERE stored > 0), 'YYYY-MM-DD') AS last_stored
     FROM (SELECT *, nem_date BETWEEN $3 AND $4 AS in_range FROM coverage WHERE site_id = $1 AND data_type = $2) c`,
    [args.siteId, args.dataType, args.from, args.through],
  );
  const row = result.rows[0];
  return {
    expected: row?.expected ?? 0,
    stored: row?.stored ?? 0,
    fetchedDays: row?.fetched_days ?? 0,
    firstStored: row?.first_stored ?? null,
    lastStored: row?.last_stored ?? null,
  };
}

/** Writes the outcome of re-fetching days: a check to remember, or null to forget the day (it is complete). */
export async function writeCoverageChecks(
  db: Queryable,
  siteId: string,
  dataType: DataType,
  updates: ReadonlyArray<{ date: NemDate; check: CoverageCheck | null }>,
): Promise<void> {
  if (updates.length === 0) return;
  const batch = JSON.stringify(
    updates.map(({ date, check }) => [date, check?.fruitlessChecks ?? null, check?.lastCheckedAt ?? null, check?.nextCheckAt ?? null]),
  );
  await db.query(
    `WITH input AS (
       SELECT (e->>0)::date AS nem_date, (e->>1)::int AS fruitless_checks,
              (e->>2)::timestamptz AS last_checked_at, (e->>3)::timestamptz AS next_check_at
       FROM jsonb_array_elements($3::jsonb) AS e
     ), forgotten AS (
       DELETE FROM coverage_checks k USING input i
       WHERE k.site_id = $1 AND k.data_type = $2 AND k.nem_date = i.nem_date AND i.fruitless_checks IS NULL
     )
     INSERT INTO coverage_checks AS k (site_id, data_type, nem_date, fruitless_checks, last_checked_at, next_check_at)
     SELECT $1, $2, nem_date, fruitless_checks, last_checked_at, next_check_at FROM input WHERE fruitless_checks IS NOT NULL
     ON CONFLICT (site_id, data_type, nem_date) DO UPDATE
       SET fruitless_checks = excluded.fruitless_checks, last_checked_at = excluded.last_checked_at,
           next_check_at = excluded.next_check_at`,
    [siteId, dataType, batch],
  );
}

function checkOf(row: CheckColumns): CoverageCheck | null {
  if (row.fruitless_checks === null || row.last_checked_at === null || row.next_check_at === null) return null;
  return { fruitlessChecks: row.fruitless_checks, lastCheckedAt: row.last_checked_at, nextCheckAt: row.next_check_at };
}
