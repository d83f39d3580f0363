/**
 * `home_assistant_statistics`: the hours Home Assistant holds, as read back after each import, per statistic.
 * The sync diffs the database against it, so a revision re-sends exactly from the hour that changed.
 */
import type { Queryable } from './pool.ts';

export interface StatisticHour {
  hourMs: number;
  state: number | null;
  sum: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
}

export async function readSentHours(db: Queryable, statisticId: string): Promise<StatisticHour[]> {
  const result = await db.query<{ hour: Date; state: number | null; sum: number | null; mean: number | null; min: number | null; max: number | null }>(
    'SELECT hour, state, sum, mean, min, max FROM home_assistant_statistics WHERE statistic_id = $1 ORDER BY hour',
    [statisticId],
  );
  return result.rows.map((row) => ({ hourMs: row.hour.getTime(), state: row.state, sum: row.sum, mean: row.mean, min: row.min, max: row.max }));
}

/** Records `hours` as held by Home Assistant (read back after an import). */
export async function recordSentHours(db: Queryable, statisticId: string, hours: readonly StatisticHour[]): Promise<void> {
  if (hours.length === 0) return;
  await db.query(
    `INSERT INTO home_assistant_statistics (statistic_id, hour, state, sum, mean, min, max)
     SELECT $1, to_timestamp(h / 1000.0), s, su, me, mi, ma
     FROM unnest($2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[]) AS t(h, s, su, me, mi, ma)
     ON CONFLICT (statistic_id, hour) DO UPDATE
       SET state = EXCLUDED.state, sum = EXCLUDED.sum, mean = EXCLUDED.mean, min = EXCLUDED.min, max = EXCLUDED.max, sent_at = now()`,
    [
      statisticId,
      hours.map((h) => h.hourMs),
      hours.map((h) => h.state),
      hours.map((h) => h.sum),
      hours.map((h) => h.mean),
      hours.map((h) => h.min),
      hours.map((h) => h.max),
    ],
  );
}

/** Forgets what was recorded from `fromMs` on (a `--full` or `--from` re-sync starts clean there). */
export async function forgetSentHours(db: Queryable, statisticIds: readonly string[], fromMs: number | null): Promise<void> {
  await db.query('DELETE FROM home_assistant_statistics WHERE statistic_id = ANY($1::text[]) AND ($2::timestamptz IS NULL OR hour >= $2::timestamptz)', [
    statisticIds,
    fromMs === null ? null : new Date(fromMs),
  ]);
}
