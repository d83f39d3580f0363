/** `price_data`: one row per (site, channel type, interval end, duration). */
import type { PriceInterval } from '../domain/models.ts';
import { endInstant, intervalKeyColumns, intervalValueColumns } from './intervals.ts';
import type { Queryable } from './pool.ts';
import type pg from 'pg';
import { upsertRows, upsertRowsOneByOne, type RefusedRow, type UpsertCounts, type UpsertTable } from './upsert.ts';

export type { UpsertCounts } from './upsert.ts';

export interface PriceRow extends PriceInterval {
  siteId: string;
}

/** How a price interval maps onto `price_data` (exported for the upsert benchmark's baselines). */
export const PRICE_TABLE: UpsertTable<PriceRow> = {
  table: 'price_data',
  key: [
    { name: 'site_id', type: 'text', value: (r) => r.siteId },
    { name: 'channel_type', type: 'text', value: (r) => r.channelType },
    ...intervalKeyColumns<PriceRow>(),
  ],
  values: [
    ...intervalValueColumns<PriceRow>(),
    { name: 'interval_type', type: 'text', value: (r) => r.type },
    { name: 'estimate', type: 'boolean', value: (r) => r.estimate },
  ],
  countsRevisions: true,
  keyOf: (r) => `${r.channelType}|${endInstant(r)}|${r.duration}`,
};

/** Stores price intervals of one site; unchanged rows are left untouched (see `upsertRows`). */
export function upsertPriceIntervals(db: Queryable, siteId: string, rows: readonly PriceInterval[]): Promise<UpsertCounts> {
  return upsertRows(db, PRICE_TABLE, rows.map((row) => ({ ...row, siteId })));
}

/** `upsertPriceIntervals` one row at a time, leaving out the rows the database refuses (see `upsertRowsOneByOne`). */
export async function upsertPriceIntervalsOneByOne(
  tx: pg.PoolClient,
  siteId: string,
  rows: readonly PriceInterval[],
): Promise<{ counts: UpsertCounts; refused: Array<RefusedRow<PriceInterval>> }> {
  return upsertRowsOneByOne(tx, PRICE_TABLE, rows.map((row) => ({ ...row, siteId })));
}
