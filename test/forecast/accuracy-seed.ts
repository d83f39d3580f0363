/**
 * Seeds settled prices and archived forecasts row by row, for forecast-accuracy tests whose expected
 * figures are worked out by hand from the rows.
 */
import type pg from 'pg';

export interface SettledRow {
  channel: string;
  /** Interval end (ISO 8601). */
  end: string;
  duration: number;
  perKwh: number;
  spike?: string;
}

export interface ForecastRow extends SettledRow {
  fetchedAt: string;
  low?: number;
  predicted?: number;
  high?: number;
}

const nemDate = `((($3::timestamptz - interval '1 second') AT TIME ZONE 'UTC') + interval '10 hours')::date`;

export async function insertSettled(pool: pg.Pool, siteId: string, rows: readonly SettledRow[]): Promise<void> {
  for (const row of rows) {
    await pool.query(
      `INSERT INTO price_data (site_id, channel_type, nem_time, duration, start_time, end_time, nem_date, per_kwh, spot_per_kwh, renewables, spike_status, interval_type, raw)
       VALUES ($1, $2, $3, $4, $3::timestamptz - make_interval(mins => $4) + interval '1 second', $3, ${nemDate}, $5, 8, 40, $6, 'ActualInterval', '{}')`,
      [siteId, row.channel, row.end, row.duration, row.perKwh, row.spike ?? 'none'],
    );
  }
}

export async function insertForecasts(pool: pg.Pool, siteId: string, rows: readonly ForecastRow[]): Promise<void> {
  for (const row of rows) {
    await pool.query(
      `INSERT INTO price_forecasts (site_id, channel_type, nem_time, duration, fetched_at, nem_date, interval_type, per_kwh, spot_per_kwh, renewables,
                                    spike_status, advanced_low, advanced_predicted, advanced_high)
       VALUES ($1, $2, $3, $4, $5, ${nemDate}, 'ForecastInterval', $6, 8, 40, $7, $8, $9, $10)`,
      [siteId, row.channel, row.end, row.duration, row.fetchedAt, row.perKwh, row.spike ?? 'none', row.low ?? null, row.predicted ?? null, row.high ?? null],
    );
  }
}
