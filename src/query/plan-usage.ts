/**
 * A site's own metered usage, interval by interval and channel type, for pricing under other plans
 * (`amber-collector compare`): the registers as Amber metered them, import and export apart, never netted.
 * Feed-in kWh are read as a magnitude (stored negative, see README "Energy signs").
 */
import type { Queryable } from '../db/pool.ts';
import type { NemDate } from '../domain/models.ts';
import { dateText } from './nem-sql.ts';

/** Column-wise, oldest first: a year of a 5-minute site is about 300,000 rows, so no object per row. */
export interface MeteredIntervals {
  length: number;
  /** Interval starts, ms since the epoch. */
  startMs: Float64Array;
  /** The NEM day each interval belongs to (the API's `date`). */
  nemDate: string[];
  channelType: string[];
  /** kWh, a magnitude: imported on general and controlled load, exported on feed-in. */
  kwh: Float64Array;
}

/** Every channel's usage of the site on the NEM days `from`..`to`, summed over meters of the same channel type. */
export async function meteredIntervals(db: Queryable, args: { siteId: string; from: NemDate; to: NemDate }): Promise<MeteredIntervals> {
  const result = await db.query<[number, string, string, number]>({
    text: `SELECT extract(epoch FROM nem_time - make_interval(mins => duration))::float8 * 1000, ${dateText('nem_date')}, channel_type, abs(sum(kwh))::float8
           FROM usage_data
           WHERE site_id = $1 AND nem_date BETWEEN $2::date AND $3::date
           GROUP BY nem_time, duration, nem_date, channel_type
           ORDER BY nem_time, channel_type`,
    values: [args.siteId, args.from, args.to],
    rowMode: 'array',
  });
  const rows = result.rows;
  return {
    length: rows.length,
    startMs: Float64Array.from(rows, (row) => row[0]),
    nemDate: rows.map((row) => row[1]),
    channelType: rows.map((row) => row[2]),
    kwh: Float64Array.from(rows, (row) => row[3]),
  };
}
