/**
 * What differs between the data types a stream can collect: which endpoint a chunk comes from, which
 * table its rows go to, and how many recent days each cycle re-fetches because their data still changes.
 * Everything else (chunks, transactions, watermarks, coverage) is the same for both.
 */
import type pg from 'pg';
import type { AmberClient } from '../amber/client.ts';
import type { Priority } from '../amber/rate-limiter.ts';
import type { DataType, Parsed, PriceInterval, Site, UsageInterval } from '../domain/models.ts';
import type { DayRange } from '../domain/nem-time.ts';
import { upsertPriceIntervals, upsertPriceIntervalsOneByOne } from '../db/prices.ts';
import type { RefusedRow, UpsertCounts } from '../db/upsert.ts';
import { upsertUsageIntervals, upsertUsageIntervalsOneByOne } from '../db/usage.ts';
import { trailingWindow, type StreamRange } from '../domain/fetch-plan.ts';

/** The settings that decide how far back each cycle re-fetches. */
export interface RevisionSettings {
  priceRevisionDays: number;
  usageRevisionDays: number;
}

export interface DataTypeStrategy<Item> {
  dataType: DataType;
  /** One API call for `days` of the site. */
  fetch(client: AmberClient, site: Site, days: DayRange, options: { priority: Priority; signal: AbortSignal }): Promise<Parsed<Item>>;
  /** Upserts a chunk's rows inside its transaction. */
  store(tx: pg.PoolClient, siteId: string, items: readonly Item[]): Promise<UpsertCounts>;
  /** `store` one row at a time, leaving out the rows the database refuses: the retry after `store` failed on data. */
  storeOneByOne(tx: pg.PoolClient, siteId: string, items: readonly Item[]): Promise<{ counts: UpsertCounts; refused: Array<RefusedRow<Item>> }>;
  /** The recent days every cycle fetches again, as API-sized chunks. */
  revisionWindow(range: StreamRange, settings: RevisionSettings): DayRange[];
}

const price: DataTypeStrategy<PriceInterval> = {
  dataType: 'price',
  fetch: (client, site, days, { priority, signal }) =>
    client.getPrices(site.id, days.startDate, days.endDate, { resolution: site.intervalLength, priority, signal }),
  // `/prices` also returns the running and forecast intervals; the forecast archive keeps those.
  store: (tx, siteId, items) => upsertPriceIntervals(tx, siteId, items.filter(isActual)),
  storeOneByOne: (tx, siteId, items) => upsertPriceIntervalsOneByOne(tx, siteId, items.filter(isActual)),
  revisionWindow: (range, settings) => trailingWindow(range, 'price', settings.priceRevisionDays),
};

const usage: DataTypeStrategy<UsageInterval> = {
  dataType: 'usage',
  fetch: (client, site, days, { priority, signal }) => client.getUsage(site.id, days.startDate, days.endDate, { priority, signal }),
  store: (tx, siteId, items) => upsertUsageIntervals(tx, siteId, items),
  storeOneByOne: (tx, siteId, items) => upsertUsageIntervalsOneByOne(tx, siteId, items),
  revisionWindow: (range, settings) => trailingWindow(range, 'usage', settings.usageRevisionDays),
};

function isActual(interval: PriceInterval): boolean {
  return interval.type === 'ActualInterval';
}

/** The validated item each data type's endpoint returns. */
interface ItemOf {
  price: PriceInterval;
  usage: UsageInterval;
}

const STRATEGIES: { [K in DataType]: DataTypeStrategy<ItemOf[K]> } = { price, usage };

export function strategyFor<K extends DataType>(dataType: K): DataTypeStrategy<ItemOf[K]> {
  return STRATEGIES[dataType];
}
