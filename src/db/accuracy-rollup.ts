/**
 * Forecast accuracy's SQL and its daily roll-up. Every archived forecast of a settled interval is compared
 * with the settled price (see query/forecast-accuracy.ts for what counts and why); the comparison is summed
 * by NEM day, hour of the interval's start, channel and lead bucket. The collector stores those sums for
 * whole days once their archive is final (`rollUpForecastAccuracy`, after each cycle) in
 * `forecast_accuracy_daily`, and each settled spike's first warning in `forecast_accuracy_spikes`; the report
 * reads them for the days they cover and computes the rest of its range directly, with the same SQL.
 *
 * Why a roll-up and not a cache or an index: a year of a 5-minute site is ~1.6M archived rows, and the direct
 * answer reads every one of them (a sequential scan and a hash join; an index would not read fewer), 6–20 s
 * on a loaded 2-core machine. A day's figures stop changing once its archive is final, so they are summed
 * once; a cache would still pay the full read on every new range.
 *
 * Final means: compacted (FORECAST_COMPACT_AFTER_DAYS; compaction deletes rows the direct answer would no
 * longer see, so summing earlier would disagree with it), or, with compaction off, ended ROLLUP_AFTER_DAYS
 * ago, past any price revision; and every settled price of the day stored (lastSettledDay). Days whose forecasts FORECAST_RETENTION_DAYS later prunes stay rolled up:
 * the report keeps their accuracy, which the direct computation alone would have lost.
 */
import type pg from 'pg';
import { addDays, nemDateOf, nemDayStart, nemToday } from '../domain/nem-time.ts';
import { withTransaction, type Queryable } from './pool.ts';

/** Lead-time buckets, [fromMinutes, toMinutes) before the interval's start; the stored `bucket` is the index. */
export const LEAD_BUCKETS = Object.freeze([
  { label: '0-5m', fromMinutes: 0, toMinutes: 5 },
  { label: '5-30m', fromMinutes: 5, toMinutes: 30 },
  { label: '30m-2h', fromMinutes: 30, toMinutes: 120 },
  { label: '2-6h', fromMinutes: 120, toMinutes: 360 },
  { label: '6-12h', fromMinutes: 360, toMinutes: 720 },
  { label: '12-24h', fromMinutes: 720, toMinutes: 1440 },
  { label: '24-48h', fromMinutes: 1440, toMinutes: 2880 },
] as const);

/** With compaction off, a day is rolled up once it ended this long ago (the price revision window is days). */
export const ROLLUP_AFTER_DAYS = 7;
/** Days one roll-up covers at most: a backlog (a first start on a long archive) is worked off a month per cycle. */
export const ROLLUP_SLICE_DAYS = 31;

/** Sums of one (channel, NEM day, hour, bucket). Sums are null where their count is 0. */
export interface AccuracySums {
  channel_type: string;
  day: string;
  hour: number;
  bucket: number;
  forecasts: number;
  per_kwh_count: number;
  per_kwh_abs: number | null;
  per_kwh_sum: number | null;
  predicted_count: number;
  predicted_abs: number | null;
  predicted_sum: number | null;
  range_count: number;
  range_inside: number;
  hits: number;
  misses: number;
  false_alarms: number;
}

/** A settled spike and how far ahead (minutes) it was first warned of, or null. */
export interface SpikeWarning {
  channel_type: string;
  nem_time: Date;
  day: string;
  first_warning: number | null;
}

/** The bucket's index from the lead in minutes (float8); null when fetched after the start or 48 hours or more ahead. */
const bucketCase = (lead: string) =>
  `CASE WHEN ${lead} < 0 THEN NULL ${LEAD_BUCKETS.map((bucket, i) => `WHEN ${lead} < ${bucket.toMinutes} THEN ${i}`).join(' ')} END`;

/**
 * The forecasts of settled intervals in range, each beside its settled price. Parameters: $1 site, $2 from,
 * $3 to, $4 channel types or null. Intervals are selected by start; `nem_time` (the end) bounds the scans.
 *
 * The join is straight between the tables (a CTE in between hides their statistics and the planner then
 * expects a handful of rows and merge-sorts a million), and conditions on computed values (the lead, the
 * start) sit in the bucket's CASE rather than in WHERE for the same reason. Values are float8 and epochs come
 * from date_part: numeric arithmetic over a year of rows costs seconds. `spikedOnly` keeps the settled intervals that spiked (rare: read first).
 */
function comparedSql(spikedOnly: boolean): string {
  const spiked = spikedOnly ? `AND p.spike_status = 'spike'` : '';
  const forecastRange = `f.site_id = $1 AND ($4::text[] IS NULL OR f.channel_type = ANY ($4::text[]))
      AND f.nem_time > $2 AND f.nem_time <= $3::timestamptz + interval '30 minutes'`;
  const forecastColumns = `f.channel_type, f.nem_time, f.duration, f.fetched_at, f.per_kwh::float8 AS per_kwh, f.advanced_predicted::float8 AS predicted,
           f.advanced_low::float8 AS low, f.advanced_high::float8 AS high, f.spike_status IN ('potential', 'spike') AS warned`;
  return `
  WITH half_hours AS (
    -- A 5-minute site's settled half-hours, whole only: 30-minute boundaries are the same in NEM time and UTC.
    SELECT p.channel_type, date_bin('30 minutes', p.nem_time - interval '1 second', timestamptz '2000-01-01 00:00Z') + interval '30 minutes' AS nem_time,
           avg(p.per_kwh::float8) AS per_kwh, bool_or(p.spike_status = 'spike') AS spiked
    FROM price_data p
    WHERE p.site_id = $1 AND ($4::text[] IS NULL OR p.channel_type = ANY ($4::text[])) AND p.duration = 5
      AND p.nem_time > $2 AND p.nem_time <= $3::timestamptz + interval '30 minutes' AND p.interval_type = 'ActualInterval'
    GROUP BY 1, 2
    HAVING count(*) = 6 ${spikedOnly ? `AND bool_or(p.spike_status = 'spike')` : ''}
  ), pairs AS (
    SELECT ${forecastColumns}, p.per_kwh::float8 AS settled, p.spike_status = 'spike' AS spiked
    FROM price_forecasts f
    JOIN price_data p ON p.site_id = f.site_id AND p.channel_type = f.channel_type AND p.nem_time = f.nem_time AND p.duration = f.duration
    WHERE ${forecastRange} AND p.interval_type = 'ActualInterval' ${spiked}
    UNION ALL
    SELECT ${forecastColumns}, h.per_kwh AS settled, h.spiked
    FROM price_forecasts f
    JOIN half_hours h ON h.channel_type = f.channel_type AND h.nem_time = f.nem_time
    WHERE ${forecastRange} AND f.duration = 30
  ), compared AS (
    SELECT channel_type, nem_time, lead_minutes, start_epoch,
           CASE WHEN start_epoch >= date_part('epoch', $2::timestamptz) AND start_epoch < date_part('epoch', $3::timestamptz) THEN ${bucketCase('lead_minutes')} END AS bucket,
           per_kwh - settled AS per_kwh_error,
           predicted - settled AS predicted_error,
           CASE WHEN low IS NOT NULL AND high IS NOT NULL THEN settled BETWEEN low AND high END AS inside,
           warned, spiked
    FROM (SELECT pairs.*, date_part('epoch', nem_time) - duration * 60 AS start_epoch,
                 (date_part('epoch', nem_time) - duration * 60 - date_part('epoch', fetched_at)) / 60 AS lead_minutes
          FROM pairs) c
  )`;
}

/** NEM wall-clock time of an epoch (float8 seconds): the day and hour an interval's start belongs to. */
const nemClock = (epoch: string) => `(to_timestamp(${epoch}) AT TIME ZONE 'UTC' + interval '10 hours')`;

const SUMS_SQL = `${comparedSql(false)}
  SELECT channel_type, to_char(${nemClock('start_epoch')}, 'YYYY-MM-DD') AS day, extract(hour FROM ${nemClock('start_epoch')})::int AS hour, bucket,
         count(*)::int AS forecasts,
         count(per_kwh_error)::int AS per_kwh_count, sum(abs(per_kwh_error)) AS per_kwh_abs, sum(per_kwh_error) AS per_kwh_sum,
         count(predicted_error)::int AS predicted_count, sum(abs(predicted_error)) AS predicted_abs, sum(predicted_error) AS predicted_sum,
         count(inside)::int AS range_count, count(*) FILTER (WHERE inside)::int AS range_inside,
         count(*) FILTER (WHERE warned AND spiked)::int AS hits,
         count(*) FILTER (WHERE spiked AND NOT warned)::int AS misses,
         count(*) FILTER (WHERE warned AND NOT spiked)::int AS false_alarms
  FROM compared
  WHERE bucket IS NOT NULL
  GROUP BY 1, 2, 3, 4`;

/** Each settled spike (by channel and interval end, a half-hour's too) with its first warning; its day is the NEM day of its end. */
const SPIKES_SQL = `${comparedSql(true)}
  SELECT channel_type, nem_time, to_char(${nemClock(`date_part('epoch', nem_time) - 1`)}, 'YYYY-MM-DD') AS day,
         max(lead_minutes) FILTER (WHERE warned) AS first_warning
  FROM compared WHERE bucket IS NOT NULL
  GROUP BY 1, 2`;

export interface AccuracyRange {
  siteId: string;
  /** Settled intervals starting at or after `from` and before `to`. */
  from: Date;
  to: Date;
  /** Channel types to report; null for all. */
  channels: readonly string[] | null;
}

const paramsOf = (range: AccuracyRange) => [range.siteId, range.from, range.to, range.channels === null ? null : [...range.channels]];

/** The comparison summed directly from the archive, by channel, day, hour and bucket. */
export async function directSums(db: Queryable, range: AccuracyRange): Promise<AccuracySums[]> {
  return (await db.query<AccuracySums>(SUMS_SQL, paramsOf(range))).rows;
}

/** Every settled spike in range with its first warning, directly from the archive. */
export async function directSpikes(db: Queryable, range: AccuracyRange): Promise<SpikeWarning[]> {
  return (await db.query<SpikeWarning>(SPIKES_SQL, paramsOf(range))).rows;
}

/** The last NEM day the site's roll-up holds, or null. */
export async function rolledThrough(db: Queryable, siteId: string): Promise<string | null> {
  const result = await db.query<{ day: string }>(`SELECT to_char(rolled_through, 'YYYY-MM-DD') AS day FROM forecast_accuracy_rollup WHERE site_id = $1`, [siteId]);
  return result.rows[0]?.day ?? null;
}

const channelFilter = `($4::text[] IS NULL OR channel_type = ANY ($4::text[]))`;

/**
 * The rolled-up sums of NEM days [fromDay, toDay], added up over the days in SQL (a year is ~100k rows; what
 * leaves the server is one row per channel, hour and bucket, `day` the range's first).
 */
export async function rolledUpSums(db: Queryable, siteId: string, fromDay: string, toDay: string, channels: readonly string[] | null): Promise<AccuracySums[]> {
  const total = (column: string, type: 'int' | 'float8') => `sum(${column})::${type} AS ${column}`;
  const result = await db.query<AccuracySums>(
    `SELECT channel_type, $2::text AS day, hour, bucket, ${total('forecasts', 'int')}, ${total('per_kwh_count', 'int')}, ${total('per_kwh_abs', 'float8')},
            ${total('per_kwh_sum', 'float8')}, ${total('predicted_count', 'int')}, ${total('predicted_abs', 'float8')}, ${total('predicted_sum', 'float8')},
            ${total('range_count', 'int')}, ${total('range_inside', 'int')}, ${total('hits', 'int')}, ${total('misses', 'int')}, ${total('false_alarms', 'int')}
     FROM forecast_accuracy_daily WHERE site_id = $1 AND day BETWEEN $2::date AND $3::date AND ${channelFilter}
     GROUP BY channel_type, hour, bucket`,
    [siteId, fromDay, toDay, channels === null ? null : [...channels]],
  );
  return result.rows;
}

/** The rolled-up spikes of NEM days [fromDay, toDay]. */
export async function rolledUpSpikes(db: Queryable, siteId: string, fromDay: string, toDay: string, channels: readonly string[] | null): Promise<SpikeWarning[]> {
  const result = await db.query<SpikeWarning>(
    `SELECT channel_type, nem_time, to_char(day, 'YYYY-MM-DD') AS day, first_warning
     FROM forecast_accuracy_spikes WHERE site_id = $1 AND day BETWEEN $2 AND $3 AND ${channelFilter}`,
    [siteId, fromDay, toDay, channels === null ? null : [...channels]],
  );
  return result.rows;
}

export interface RolledUpSlice {
  fromDay: string;
  throughDay: string;
}

/**
 * The last day of [fromDay, toDay] before the first whose general prices are not all settled and stored, or null.
 * A day summed without its settled prices would count fewer forecasts than it will once they arrive: after an
 * outage the cycle archives forecasts before it fetches the missed days, and a gap waits for repair. A day
 * with no prices at all and no forecasts (before the site existed) counts as settled: it has nothing to sum.
 */
async function lastSettledDay(pool: pg.Pool, siteId: string, fromDay: string, toDay: string): Promise<string | null> {
  const result = await pool.query<{ day: string | null }>(
    `WITH days AS (
       SELECT d::date AS day FROM generate_series($2::date, $3::date, interval '1 day') AS d
     ), settled AS (
       SELECT p.nem_date AS day, count(*) AS n FROM price_data p JOIN sites s ON s.id = p.site_id AND p.duration = s.interval_length
       WHERE p.site_id = $1 AND p.channel_type = 'general' AND p.interval_type = 'ActualInterval' AND p.nem_date BETWEEN $2::date AND $3::date
       GROUP BY 1
     ), forecast AS (
       SELECT DISTINCT f.nem_date AS day FROM price_forecasts f
       WHERE f.site_id = $1 AND f.channel_type = 'general' AND f.nem_date BETWEEN $2::date AND $3::date
     )
     SELECT to_char(min(d.day) - 1, 'YYYY-MM-DD') AS day
     FROM days d JOIN sites s ON s.id = $1
     LEFT JOIN settled ON settled.day = d.day
     WHERE coalesce(settled.n, 0) < 1440 / s.interval_length
       AND (settled.n IS NOT NULL OR EXISTS (SELECT 1 FROM forecast WHERE forecast.day = d.day))`,
    [siteId, fromDay, toDay],
  );
  const beforeGap = result.rows[0]!.day;
  if (beforeGap === null) return toDay;
  return beforeGap < fromDay ? null : beforeGap;
}

/**
 * Rolls up the site's next slice of final days (at most ROLLUP_SLICE_DAYS) and advances its marker, all in one
 * transaction: an interrupted slice is redone whole, and redoing one writes the same rows. `readyBefore` is
 * the instant by which every interval a day needs has ended and settled (now − ROLLUP_AFTER_DAYS); with
 * `compacting`, also no later than the site's compaction marker; and never past a day whose prices are not all
 * settled yet (lastSettledDay). Returns the slice, or null when nothing is ready.
 */
export async function rollUpForecastAccuracy(pool: pg.Pool, siteId: string, readyBefore: Date, compacting: boolean): Promise<RolledUpSlice | null> {
  const plan = await pool.query<{ marker: string | null; first: Date | null; compacted: Date | null }>(
    `SELECT (SELECT to_char(rolled_through, 'YYYY-MM-DD') FROM forecast_accuracy_rollup WHERE site_id = $1) AS marker,
            (SELECT compacted_through FROM forecast_compaction WHERE site_id = $1) AS compacted,
            CASE WHEN NOT EXISTS (SELECT 1 FROM forecast_accuracy_rollup WHERE site_id = $1)
                 THEN (SELECT min(nem_time) FROM price_forecasts WHERE site_id = $1) END AS first`,
    [siteId],
  );
  const { marker, first, compacted } = plan.rows[0]!;
  if (compacting && compacted === null) return null;
  const ready = new Date(Math.min(readyBefore.getTime(), compacting ? compacted!.getTime() : Infinity));
  // The last day whose intervals all ended by `ready` (one starting in a NEM day ends by the next day's start).
  const lastReady = addDays(nemToday(ready), -1);
  // Without a marker, the day of the earliest archived interval (an interval belongs to the NEM day of its end − 1 ms, as its start does).
  const fromDay = marker !== null ? addDays(marker, 1) : first !== null ? nemDateOf(first) : null;
  if (fromDay === null || fromDay > lastReady) return null;
  const sliceEnd = addDays(fromDay, ROLLUP_SLICE_DAYS - 1);
  const throughDay = await lastSettledDay(pool, siteId, fromDay, sliceEnd < lastReady ? sliceEnd : lastReady);
  if (throughDay === null) return null;
  const range: AccuracyRange = { siteId, from: nemDayStart(fromDay), to: nemDayStart(addDays(throughDay, 1)), channels: null };
  await withTransaction(pool, async (tx) => {
    await tx.query('DELETE FROM forecast_accuracy_daily WHERE site_id = $1 AND day BETWEEN $2 AND $3', [siteId, fromDay, throughDay]);
    await tx.query('DELETE FROM forecast_accuracy_spikes WHERE site_id = $1 AND day BETWEEN $2 AND $3', [siteId, fromDay, throughDay]);
    await tx.query(
      `INSERT INTO forecast_accuracy_daily (site_id, channel_type, day, hour, bucket, forecasts, per_kwh_count, per_kwh_abs, per_kwh_sum,
                                            predicted_count, predicted_abs, predicted_sum, range_count, range_inside, hits, misses, false_alarms)
       SELECT $1, channel_type, day::date, hour, bucket, forecasts, per_kwh_count, per_kwh_abs, per_kwh_sum,
              predicted_count, predicted_abs, predicted_sum, range_count, range_inside, hits, misses, false_alarms
       FROM (${SUMS_SQL}) s`,
      paramsOf(range),
    );
    await tx.query(
      `INSERT INTO forecast_accuracy_spikes (site_id, channel_type, nem_time, day, first_warning)
       SELECT $1, channel_type, nem_time, day::date, first_warning FROM (${SPIKES_SQL}) s`,
      paramsOf(range),
    );
    await tx.query(
      `INSERT INTO forecast_accuracy_rollup (site_id, rolled_through) VALUES ($1, $2)
       ON CONFLICT (site_id) DO UPDATE SET rolled_through = EXCLUDED.rolled_through, updated_at = now()`,
      [siteId, throughDay],
    );
  });
  return { fromDay, throughDay };
}
