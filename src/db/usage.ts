/** `usage_data`: one row per (site, meter channel, interval end, duration). */
import type { UsageInterval } from '../domain/models.ts';
import { endInstant, intervalKeyColumns, intervalValueColumns } from './intervals.ts';
import type { Queryable } from './pool.ts';
import type pg from 'pg';
import { upsertRows, upsertRowsOneByOne, type RefusedRow, type UpsertCounts, type UpsertTable } from './upsert.ts';

export type { UpsertCounts } from './upsert.ts';

interface UsageRow extends UsageInterval {
  siteId: string;
}

/**
 * Energy is stored with one sign convention, the spec's: consumption positive, generation negative. The live
 * API sends feed-in kWh as positive (API-NOTES §4.7), which would make `SUM(CASE WHEN kwh < 0 ...)` style
 * queries count exports as consumption; `raw` keeps the value exactly as sent.
 */
function storedKwh(row: UsageInterval): number {
  return row.channelType === 'feedIn' ? -Math.abs(row.kwh) : row.kwh;
}

const USAGE_TABLE: UpsertTable<UsageRow> = {
  table: 'usage_data',
  key: [
    { name: 'site_id', type: 'text', value: (r) => r.siteId },
    { name: 'channel_id', type: 'text', value: (r) => r.channelIdentifier },
    ...intervalKeyColumns<UsageRow>(),
  ],
  values: [
    { name: 'channel_type', type: 'text', value: (r) => r.channelType },
    ...intervalValueColumns<UsageRow>(),
    { name: 'kwh', type: 'numeric', value: storedKwh },
    { name: 'cost', type: 'numeric', value: (r) => r.cost },
    { name: 'quality', type: 'text', value: (r) => r.quality },
  ],
  countsRevisions: true,
  keyOf: (r) => `${r.channelIdentifier}|${endInstant(r)}|${r.duration}`,
};

/** Stores usage records of one site; unchanged rows are left untouched (see `upsertRows`). */
export function upsertUsageIntervals(db: Queryable, siteId: string, rows: readonly UsageInterval[]): Promise<UpsertCounts> {
  return upsertRows(db, USAGE_TABLE, rows.map((row) => ({ ...row, siteId })));
}

/** `upsertUsageIntervals` one row at a time, leaving out the rows the database refuses (see `upsertRowsOneByOne`). */
export async function upsertUsageIntervalsOneByOne(
  tx: pg.PoolClient,
  siteId: string,
  rows: readonly UsageInterval[],
): Promise<{ counts: UpsertCounts; refused: Array<RefusedRow<UsageInterval>> }> {
  return upsertRowsOneByOne(tx, USAGE_TABLE, rows.map((row) => ({ ...row, siteId })));
}
