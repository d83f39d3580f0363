/**
 * The cost model's read side: metered energy priced per interval and channel, as domain/pricing.ts rules
 * it (energy × that channel's own price, import and export apart, never netted). `query costs`, the
 * dashboard's costs, the monthly statement and the battery what-if's history all read usage through the
 * fragments and reads here, so they agree to the cent.
 *
 * The price is the one on the usage row itself: the price Amber applied to that register in that interval
 * (its `cost` is kWh × that price, rounded). Export kWh are stored negative (the API spec's sign) and read
 * here as magnitudes.
 */
import type { Queryable } from '../db/pool.ts';
import type { NemDate } from '../domain/models.ts';
import type { PricedChannelType } from '../domain/pricing.ts';
import { channelOrder, nemIntervalStart, nemIsoText, nemWallClock } from './nem-sql.ts';

/** A usage row's register energy in kWh, a magnitude for export (SQL; `alias` qualifies the columns). */
export function registerKwh(alias = ''): string {
  return `(CASE WHEN ${alias}channel_type = 'feedIn' THEN abs(${alias}kwh) ELSE ${alias}kwh END)`;
}

/** A usage row's cost in cents, `registerCents` of domain/pricing.ts in SQL: register kWh × the row's price. */
export function registerCentsSql(alias = ''): string {
  return `(${registerKwh(alias)} * ${alias}per_kwh)`;
}

/** Channel types a figure covers: every one (null), or those named (the what-if's general and feed-in). */
export type ChannelSelection = readonly PricedChannelType[] | null;

/** SQL condition keeping the rows of `channels`; `$n` is the parameter that carries them. */
export function channelFilter(param: string, alias = ''): string {
  return `(${param}::text[] IS NULL OR ${alias}channel_type = ANY(${param}::text[]))`;
}

/** One meter channel's energy and money over a range of NEM days. Cents are exact decimals (text). */
export interface ChannelTotal {
  channelId: string;
  channelType: string;
  kwh: string;
  cents: string;
  intervals: number;
  estimated: number;
}

export async function channelTotals(db: Queryable, args: { siteId: string; from: NemDate; to: NemDate }): Promise<ChannelTotal[]> {
  const result = await db.query<{ channel_id: string; channel_type: string; kwh: string; cents: string; intervals: number; estimated: number }>(
    `SELECT channel_id, channel_type, sum(${registerKwh()})::text AS kwh, sum(${registerCentsSql()})::text AS cents,
            count(*)::int AS intervals, count(*) FILTER (WHERE quality <> 'billable')::int AS estimated
     FROM usage_data
     WHERE site_id = $1 AND nem_date BETWEEN $2::date AND $3::date
     GROUP BY channel_id, channel_type
     ORDER BY ${channelOrder('channel_type')}, channel_id`,
    [args.siteId, args.from, args.to],
  );
  return result.rows.map((row) => ({
    channelId: row.channel_id,
    channelType: row.channel_type,
    kwh: row.kwh,
    cents: row.cents,
    intervals: row.intervals,
    estimated: row.estimated,
  }));
}

/** One register in one interval, priced: the rows of the per-interval CSV. Numbers as stored (exact text). */
export interface IntervalCost {
  /** Start and end, ISO 8601 at +10:00. */
  start: string;
  end: string;
  channelId: string;
  channelType: string;
  kwh: string;
  perKwh: string;
  cents: string;
  quality: string;
}

export async function intervalCosts(db: Queryable, args: { siteId: string; from: NemDate; to: NemDate }): Promise<IntervalCost[]> {
  const result = await db.query<{ start: string; end: string; channel_id: string; channel_type: string; kwh: string; per_kwh: string; cents: string; quality: string }>(
    `SELECT ${nemIsoText(nemIntervalStart())} AS start, ${nemIsoText(nemWallClock('nem_time'))} AS "end",
            channel_id, channel_type, ${registerKwh()}::text AS kwh, per_kwh::text, ${registerCentsSql()}::text AS cents, quality
     FROM usage_data
     WHERE site_id = $1 AND nem_date BETWEEN $2::date AND $3::date
     ORDER BY nem_time, ${channelOrder('channel_type')}, channel_id`,
    [args.siteId, args.from, args.to],
  );
  return result.rows.map((row) => ({
    start: row.start,
    end: row.end,
    channelId: row.channel_id,
    channelType: row.channel_type,
    kwh: row.kwh,
    perKwh: row.per_kwh,
    cents: row.cents,
    quality: row.quality,
  }));
}
