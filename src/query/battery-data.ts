/**
 * A site's history as the battery model reads it (battery/model.ts), through the cost model
 * (query/cost-model.ts): per interval of the site's length, import = kWh of the general channels, export =
 * kWh of the feed-in channels (a magnitude), each priced as its usage rows were, so the no-battery cost is
 * the bill of those channels to the cent. Controlled load is left out: its own circuit and tariff.
 * An interval without its usage is skipped and counted.
 */
import type { Series } from '../battery/model.ts';
import type { Queryable } from '../db/pool.ts';
import { registerCentsSql, registerKwh } from './cost-model.ts';

export interface BatteryHistory {
  /** Complete intervals within [from, to), oldest first. */
  series: Series;
  /** Net demand by interval start, for every interval with usage in [historyFrom, to): the load forecast's source. */
  demandByStart: Map<number, number>;
  /** Intervals of [from, to) the site's length gives. */
  expectedIntervals: number;
  missingUsage: number;
  /** Intervals with usage but without an import price, or (on a site with feed-in) a feed-in price: 0, as usage rows carry their price. */
  missingPrices: number;
}

const MINUTE_MS = 60_000;

export async function loadBatteryHistory(
  db: Queryable,
  args: { siteId: string; intervalMinutes: number; hasFeedIn: boolean; from: Date; to: Date; historyFrom: Date },
): Promise<BatteryHistory> {
  // A channel type's price is its energy-weighted price, so price × kWh is the sum of its rows' costs
  // (one register per type is the usual case: then it is simply that row's price).
  const price = (type: string) =>
    `coalesce(sum(${registerCentsSql()}) FILTER (WHERE channel_type = '${type}') / nullif(sum(${registerKwh()}) FILTER (WHERE channel_type = '${type}'), 0),
              avg(per_kwh) FILTER (WHERE channel_type = '${type}'))::float8`;
  const result = await db.query<[number, number | null, number | null, number | null, number | null]>({
    text: `SELECT extract(epoch FROM nem_time)::float8 * 1000,
                  (sum(${registerKwh()}) FILTER (WHERE channel_type = 'general'))::float8,
                  (sum(${registerKwh()}) FILTER (WHERE channel_type = 'feedIn'))::float8,
                  ${price('general')}, ${price('feedIn')}
           FROM usage_data
           WHERE site_id = $1 AND nem_time > $2 AND nem_time <= $3 AND duration = $4
           GROUP BY nem_time
           ORDER BY nem_time`,
    values: [args.siteId, args.historyFrom, args.to, args.intervalMinutes],
    rowMode: 'array',
  });
  const lengthMs = args.intervalMinutes * MINUTE_MS;
  const fromMs = args.from.getTime();
  const demandByStart = new Map<number, number>();
  const rows: Array<{ startMs: number; importKwh: number; exportKwh: number; importPrice: number; feedInPrice: number }> = [];
  let withUsage = 0;
  for (const [endMs, importKwh, exportKwh, importPrice, feedInPrice] of result.rows) {
    const startMs = endMs - lengthMs;
    const hasUsage = importKwh !== null && (!args.hasFeedIn || exportKwh !== null);
    if (!hasUsage) continue;
    const demand = importKwh - (exportKwh ?? 0);
    demandByStart.set(startMs, demand);
    if (startMs < fromMs) continue;
    withUsage += 1;
    if (importPrice === null || (args.hasFeedIn && feedInPrice === null)) continue;
    rows.push({ startMs, importKwh, exportKwh: exportKwh ?? 0, importPrice, feedInPrice: feedInPrice ?? 0 });
  }
  const series: Series = {
    length: rows.length,
    startMs: Float64Array.from(rows, (r) => r.startMs),
    hours: new Float64Array(rows.length).fill(args.intervalMinutes / 60),
    demandKwh: Float64Array.from(rows, (r) => r.importKwh - r.exportKwh),
    importPrice: Float64Array.from(rows, (r) => r.importPrice),
    feedInPrice: Float64Array.from(rows, (r) => r.feedInPrice),
    importKwh: Float64Array.from(rows, (r) => r.importKwh),
    exportKwh: Float64Array.from(rows, (r) => r.exportKwh),
  };
  const expectedIntervals = Math.round((args.to.getTime() - fromMs) / lengthMs);
  return { series, demandByStart, expectedIntervals, missingUsage: expectedIntervals - withUsage, missingPrices: withUsage - rows.length };
}

/** Whether the site has any usage stored at all (a site with none gets a message, not a table of zeros). */
export async function hasUsage(db: Queryable, siteId: string): Promise<boolean> {
  const result = await db.query('SELECT 1 FROM usage_data WHERE site_id = $1 LIMIT 1', [siteId]);
  return result.rowCount === 1;
}
