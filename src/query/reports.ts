/**
 * The reports people ask of their data, as SQL over the public tables: daily costs, daily price statistics,
 * daily usage per meter channel, and an overall summary. Shared by `amber-collector query` and the read API.
 *
 * Days are NEM days (`nem_date`, the API's own `date`). Money is stored in cents and reported in dollars;
 * energy in kWh; prices in c/kWh. Import and feed-in are told apart by channel type, never by the sign of
 * kWh (the live API reports feed-in kWh as positive and feed-in cost as negative, i.e. income).
 */
import type { DataType, NemDate } from '../domain/models.ts';
import type { Queryable } from '../db/pool.ts';
import { channelFilter, registerCentsSql, registerKwh, type ChannelSelection } from './cost-model.ts';
import { channelOrder, dateText, isImport } from './nem-sql.ts';
import { listSites, type SiteInfo } from './site-selection.ts';

export interface DayRangeFilter {
  siteIds: readonly string[];
  /** First NEM day, inclusive. */
  from: NemDate;
  /** Last NEM day, inclusive. */
  to: NemDate;
}

/** A day range of some channel types (null: every one, controlled load included). */
export interface CostFilter extends DayRangeFilter {
  channels?: ChannelSelection;
}

/** Rows of the sites $1 on the NEM days $2..$3 (`nem_date`, the API's own `date`). */
const DAY_RANGE = 'site_id = ANY($1::text[]) AND nem_date BETWEEN $2::date AND $3::date';

/**
 * One site's energy money for one NEM day, from the cost model (query/cost-model.ts): each register at its
 * own price, import and feed-in apart. Energy only: supply, membership and fees are on the statement (bill).
 * Every figure is null on a day without usage rows.
 */
export interface DailyCost {
  siteId: string;
  date: NemDate;
  importKwh: number | null;
  /** What import (general and controlled load) cost, in dollars. */
  importDollars: number | null;
  feedInKwh: number | null;
  /** What feed-in earned, in dollars: positive when you were paid, negative when exporting cost you. */
  feedInDollars: number | null;
  /** Import cost minus feed-in earnings: what the day cost you overall. */
  netDollars: number | null;
  /** Usage rows behind the figures, and how many of them are not yet billable (still subject to revision). */
  intervals: number;
  estimated: number;
}

/**
 * Every NEM day in the range on which the site was active (so a missing day shows up as a gap), plus any
 * day outside that span that has usage anyway.
 */
export async function dailyCosts(db: Queryable, filter: CostFilter): Promise<DailyCost[]> {
  const result = await db.query<{
    site_id: string;
    date: string;
    import_kwh: number | null;
    import_dollars: number | null;
    feed_in_kwh: number | null;
    feed_in_dollars: number | null;
    net_dollars: number | null;
    intervals: number;
    estimated: number;
  }>(
    `WITH days AS (
       SELECT s.id AS site_id, d::date AS nem_date
       FROM sites s
       CROSS JOIN generate_series($2::date, $3::date, interval '1 day') AS d
       WHERE s.id = ANY($1::text[])
         AND d::date BETWEEN coalesce(s.active_from, '-infinity'::date) AND coalesce(s.closed_on, 'infinity'::date)
     ), usage AS (
       SELECT site_id, nem_date,
              sum(${registerKwh()}) FILTER (WHERE ${isImport('channel_type')}) AS import_kwh,
              sum(${registerCentsSql()}) FILTER (WHERE ${isImport('channel_type')}) AS import_cents,
              sum(${registerKwh()}) FILTER (WHERE NOT ${isImport('channel_type')}) AS feed_in_kwh,
              sum(${registerCentsSql()}) FILTER (WHERE NOT ${isImport('channel_type')}) AS feed_in_cents,
              count(*)::int AS intervals,
              count(*) FILTER (WHERE quality <> 'billable')::int AS estimated
       FROM usage_data
       WHERE ${DAY_RANGE} AND ${channelFilter('$4')}
       GROUP BY site_id, nem_date
     )
     SELECT site_id, ${dateText('nem_date')} AS date,
            round(coalesce(import_kwh, 0), 4)::float8 AS import_kwh,
            round(coalesce(import_cents, 0) / 100, 4)::float8 AS import_dollars,
            round(coalesce(feed_in_kwh, 0), 4)::float8 AS feed_in_kwh,
            round(-coalesce(feed_in_cents, 0) / 100, 4)::float8 AS feed_in_dollars,
            round((coalesce(import_cents, 0) + coalesce(feed_in_cents, 0)) / 100, 4)::float8 AS net_dollars,
            coalesce(intervals, 0) AS intervals, coalesce(estimated, 0) AS estimated
     FROM days FULL JOIN usage USING (site_id, nem_date)
     ORDER BY site_id, nem_date`,
    [filter.siteIds, filter.from, filter.to, filter.channels ?? null],
  );
  return result.rows.map((row) => {
    const has = row.intervals > 0;
    return {
      siteId: row.site_id,
      date: row.date,
      importKwh: has ? row.import_kwh : null,
      importDollars: has ? row.import_dollars : null,
      feedInKwh: has ? row.feed_in_kwh : null,
      feedInDollars: has ? row.feed_in_dollars : null,
      netDollars: has ? row.net_dollars : null,
      intervals: row.intervals,
      estimated: row.estimated,
    };
  });
}

/** Price statistics of one channel type on one NEM day, in c/kWh. */
export interface DailyPrice {
  siteId: string;
  date: NemDate;
  channelType: string;
  min: number;
  /** Weighted by interval duration, so a day mixing 5- and 30-minute rows is averaged over time. */
  avg: number;
  max: number;
  intervals: number;
  /** Intervals with spikeStatus `spike`, and with `potential`. */
  spikes: number;
  potentialSpikes: number;
}

/** Actual (and current) prices only: forecasts are guesses about the future, not what a day cost. */
export async function dailyPrices(db: Queryable, filter: DayRangeFilter): Promise<DailyPrice[]> {
  const result = await db.query<{
    site_id: string;
    date: string;
    channel_type: string;
    min: number;
    avg: number;
    max: number;
    intervals: number;
    spikes: number;
    potential_spikes: number;
  }>(
    `SELECT site_id, ${dateText('nem_date')} AS date, channel_type,
            min(per_kwh)::float8 AS min,
            round(sum(per_kwh * duration) / sum(duration), 5)::float8 AS avg,
            max(per_kwh)::float8 AS max,
            count(*)::int AS intervals,
            count(*) FILTER (WHERE spike_status = 'spike')::int AS spikes,
            count(*) FILTER (WHERE spike_status = 'potential')::int AS potential_spikes
     FROM price_data
     WHERE ${DAY_RANGE} AND interval_type <> 'ForecastInterval'
     GROUP BY site_id, nem_date, channel_type
     ORDER BY site_id, nem_date, ${channelOrder('channel_type')}`,
    [filter.siteIds, filter.from, filter.to],
  );
  return result.rows.map((row) => ({
    siteId: row.site_id,
    date: row.date,
    channelType: row.channel_type,
    min: row.min,
    avg: row.avg,
    max: row.max,
    intervals: row.intervals,
    spikes: row.spikes,
    potentialSpikes: row.potential_spikes,
  }));
}

/** One meter channel on one NEM day. `costDollars` is negative for feed-in income, as stored. */
export interface DailyUsage {
  siteId: string;
  date: NemDate;
  channelId: string;
  channelType: string;
  kwh: number;
  costDollars: number;
  intervals: number;
  estimated: number;
  billable: number;
}

export async function dailyUsage(db: Queryable, filter: DayRangeFilter): Promise<DailyUsage[]> {
  const result = await db.query<{
    site_id: string;
    date: string;
    channel_id: string;
    channel_type: string;
    kwh: number;
    cost_dollars: number;
    intervals: number;
    estimated: number;
    billable: number;
  }>(
    `SELECT site_id, ${dateText('nem_date')} AS date, channel_id, channel_type,
            round(sum(kwh), 4)::float8 AS kwh,
            round(sum(cost) / 100, 4)::float8 AS cost_dollars,
            count(*)::int AS intervals,
            count(*) FILTER (WHERE quality = 'estimated')::int AS estimated,
            count(*) FILTER (WHERE quality = 'billable')::int AS billable
     FROM usage_data
     WHERE ${DAY_RANGE}
     GROUP BY site_id, nem_date, channel_id, channel_type
     ORDER BY site_id, nem_date, ${channelOrder('channel_type')}, channel_id`,
    [filter.siteIds, filter.from, filter.to],
  );
  return result.rows.map((row) => ({
    siteId: row.site_id,
    date: row.date,
    channelId: row.channel_id,
    channelType: row.channel_type,
    kwh: row.kwh,
    costDollars: row.cost_dollars,
    intervals: row.intervals,
    estimated: row.estimated,
    billable: row.billable,
  }));
}

/** What is stored for one stream (site × data type). */
export interface StoredRange {
  siteId: string;
  dataType: DataType;
  rows: number;
  /** First and last NEM day with any row (prices may include forecast days ahead). */
  firstDay: NemDate | null;
  lastDay: NemDate | null;
  /** The collector's watermark: every day from its start through this one is stored. */
  collectedThrough: NemDate | null;
  lastSuccessAt: string | null;
}

/** All-time usage totals of one site (same meanings as `DailyCost`). */
export interface UsageTotals {
  siteId: string;
  importKwh: number;
  importDollars: number;
  feedInKwh: number;
  feedInDollars: number;
  netDollars: number;
}

export interface Summary {
  sites: SiteInfo[];
  stored: StoredRange[];
  totals: UsageTotals[];
}

export async function summary(db: Queryable, siteIds: readonly string[]): Promise<Summary> {
  const sites = (await listSites(db)).filter((site) => siteIds.includes(site.id));
  const stored = await db.query<{
    site_id: string;
    data_type: DataType;
    rows: string;
    first_day: string | null;
    last_day: string | null;
    collected_through: string | null;
    last_success_at: Date | null;
  }>(
    `WITH counts AS (
       SELECT site_id, 'price' AS data_type, count(*) AS rows, min(nem_date) AS first_day, max(nem_date) AS last_day
       FROM price_data WHERE site_id = ANY($1::text[]) GROUP BY site_id
       UNION ALL
       SELECT site_id, 'usage', count(*), min(nem_date), max(nem_date)
       FROM usage_data WHERE site_id = ANY($1::text[]) GROUP BY site_id
     )
     SELECT s.id AS site_id, t.data_type, coalesce(c.rows, 0) AS rows,
            ${dateText('c.first_day')} AS first_day, ${dateText('c.last_day')} AS last_day,
            ${dateText('cs.collected_through')} AS collected_through, cs.last_success_at
     FROM sites s
     CROSS JOIN (VALUES ('price'), ('usage')) AS t (data_type)
     LEFT JOIN counts c ON c.site_id = s.id AND c.data_type = t.data_type
     LEFT JOIN collection_state cs ON cs.site_id = s.id AND cs.data_type = t.data_type
     WHERE s.id = ANY($1::text[])
     ORDER BY s.id, t.data_type`,
    [siteIds],
  );
  const totals = await db.query<{
    site_id: string;
    import_kwh: number;
    import_dollars: number;
    feed_in_kwh: number;
    feed_in_dollars: number;
    net_dollars: number;
  }>(
    `SELECT site_id,
            round(coalesce(sum(${registerKwh()}) FILTER (WHERE ${isImport('channel_type')}), 0), 4)::float8 AS import_kwh,
            round(coalesce(sum(${registerCentsSql()}) FILTER (WHERE ${isImport('channel_type')}), 0) / 100, 4)::float8 AS import_dollars,
            round(coalesce(sum(${registerKwh()}) FILTER (WHERE NOT ${isImport('channel_type')}), 0), 4)::float8 AS feed_in_kwh,
            round(-coalesce(sum(${registerCentsSql()}) FILTER (WHERE NOT ${isImport('channel_type')}), 0) / 100, 4)::float8 AS feed_in_dollars,
            round(sum(${registerCentsSql()}) / 100, 4)::float8 AS net_dollars
     FROM usage_data WHERE site_id = ANY($1::text[])
     GROUP BY site_id ORDER BY site_id`,
    [siteIds],
  );
  const order = new Map(sites.map((site, index) => [site.id, index]));
  const bySiteOrder = (a: { siteId: string }, b: { siteId: string }) => (order.get(a.siteId) ?? 0) - (order.get(b.siteId) ?? 0);
  return {
    sites,
    stored: stored.rows
      .map((row) => ({
        siteId: row.site_id,
        dataType: row.data_type,
        rows: Number(row.rows),
        firstDay: row.first_day,
        lastDay: row.last_day,
        collectedThrough: row.collected_through,
        lastSuccessAt: row.last_success_at?.toISOString() ?? null,
      }))
      .sort(bySiteOrder),
    totals: totals.rows
      .map((row) => ({
        siteId: row.site_id,
        importKwh: row.import_kwh,
        importDollars: row.import_dollars,
        feedInKwh: row.feed_in_kwh,
        feedInDollars: row.feed_in_dollars,
        netDollars: row.net_dollars,
      }))
      .sort(bySiteOrder),
  };
}
