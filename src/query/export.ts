/**
 * `query export`'s rows: every stored row of a range, read in pages by keyset pagination on the primary key,
 * so memory stays at one page whatever the range, and no transaction stays open while a slow consumer reads
 * (a cursor would hold one, and the pool's idle-in-transaction timeout would end it). Every value is selected
 * as text, so numerics keep the exact digits the API sent and instants do not depend on any time zone:
 * `nem_time` is written at +10:00 like the API's `nemTime`, the other instants in UTC. Writing them as CSV or
 * JSON is commands/output/export-writer.ts's job.
 */
import type { NemDate } from '../domain/models.ts';
import { addDays, nemDayStart } from '../domain/nem-time.ts';
import type { Queryable } from '../db/pool.ts';
import type { ValueKind } from '../db/read-only-sql.ts';
import { nemIsoText, nemWallClock } from './nem-sql.ts';

export type ExportType = 'price' | 'usage';

export interface ExportRange {
  type: ExportType;
  siteIds: readonly string[];
  /** NEM days, inclusive. */
  from: NemDate;
  to: NemDate;
  /** Include the `raw` column (the API object exactly as received). */
  raw: boolean;
  /** Rows per database round trip. */
  pageSize?: number;
}

/** A column of the export: its name, and how its text becomes JSON. */
export interface ExportColumnInfo {
  name: string;
  kind: ValueKind;
}

interface ExportColumn extends ExportColumnInfo {
  select: string;
}

const utcText = (column: string, fraction = '') => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS${fraction}"Z"')`;
const text = (name: string): ExportColumn => ({ name, kind: 'text', select: name });
const num = (name: string): ExportColumn => ({ name, kind: 'number', select: `${name}::text` });
const bool = (name: string): ExportColumn => ({ name, kind: 'boolean', select: `${name}::text` });

const TIME_COLUMNS: ExportColumn[] = [
  { name: 'nem_time', kind: 'text', select: nemIsoText(nemWallClock('nem_time')) },
  num('duration'),
  { name: 'start_time', kind: 'text', select: utcText('start_time') },
  { name: 'end_time', kind: 'text', select: utcText('end_time') },
  { name: 'nem_date', kind: 'text', select: `to_char(nem_date, 'YYYY-MM-DD')` },
];
const PRICE_FIELDS = [num('per_kwh'), num('spot_per_kwh'), num('renewables'), text('spike_status'), text('descriptor')];
const TARIFF_COLUMNS = [text('tariff_period'), text('tariff_season'), num('tariff_block'), bool('tariff_demand_window')];
const BOOKKEEPING_COLUMNS: ExportColumn[] = [
  { name: 'first_seen_at', kind: 'text', select: utcText('first_seen_at', '.MS') },
  { name: 'updated_at', kind: 'text', select: utcText('updated_at', '.MS') },
  num('revision_count'),
];
const RAW_COLUMN: ExportColumn = { name: 'raw', kind: 'json', select: 'raw::text' };

interface TableSpec {
  table: string;
  /** The primary key, in index order: the keyset. */
  key: readonly [string, string, string, string];
  columns: readonly ExportColumn[];
}

const TABLES: Record<ExportType, TableSpec> = {
  price: {
    table: 'price_data',
    key: ['site_id', 'channel_type', 'nem_time', 'duration'],
    columns: [
      text('site_id'),
      text('channel_type'),
      ...TIME_COLUMNS,
      ...PRICE_FIELDS,
      ...TARIFF_COLUMNS,
      text('interval_type'),
      bool('estimate'),
      ...BOOKKEEPING_COLUMNS,
    ],
  },
  usage: {
    table: 'usage_data',
    key: ['site_id', 'channel_id', 'nem_time', 'duration'],
    columns: [
      text('site_id'),
      text('channel_id'),
      text('channel_type'),
      ...TIME_COLUMNS,
      num('kwh'),
      num('cost'),
      text('quality'),
      ...PRICE_FIELDS,
      ...TARIFF_COLUMNS,
      ...BOOKKEEPING_COLUMNS,
    ],
  },
};

const DEFAULT_PAGE_SIZE = 5000;

/** The columns an export of `range` has, in order. */
export function exportColumns(range: ExportRange): readonly ExportColumnInfo[] {
  return columnsOf(range).map(({ name, kind }) => ({ name, kind }));
}

function columnsOf(range: ExportRange): readonly ExportColumn[] {
  const spec = TABLES[range.type];
  return range.raw ? [...spec.columns, RAW_COLUMN] : spec.columns;
}

/**
 * The rows of `range` page by page, each row's values in `exportColumns` order. The first page is yielded
 * even when empty, so a consumer learns the query worked before it writes anything.
 */
export async function* exportPages(db: Queryable, range: ExportRange): AsyncGenerator<(string | null)[][]> {
  const spec = TABLES[range.type];
  const columns = columnsOf(range);
  const pageSize = range.pageSize ?? DEFAULT_PAGE_SIZE;
  // The nem_time span that is exactly the NEM days from..to: (from 00:00, to+1 00:00], matching nem_date.
  const bounds = [range.siteIds, nemDayStart(range.from).toISOString(), nemDayStart(addDays(range.to, 1)).toISOString()];
  // Key columns are qualified (t.) because the text renderings of the same columns carry their names.
  const [siteColumn, channelColumn, timeColumn, durationColumn] = spec.key;
  const key = [`t.${siteColumn}`, `t.${channelColumn}`, `t.${timeColumn}`, `t.${durationColumn}`];
  const select = `SELECT ${columns.map((c) => c.select).join(', ')},
                         ${key[0]}, ${key[1]}, ${utcText(`t.${timeColumn}`, '.US')}, ${key[3]}
                  FROM ${spec.table} AS t
                  WHERE t.site_id = ANY($1::text[]) AND t.nem_time > $2::timestamptz AND t.nem_time <= $3::timestamptz`;
  const order = `ORDER BY ${key.join(', ')} LIMIT ${pageSize}`;
  const firstPage = `${select} ${order}`;
  const nextPage = `${select} AND (${key.join(', ')}) > ($4, $5, $6::timestamptz, $7::int) ${order}`;

  let after: unknown[] | null = null;
  for (;;) {
    const page: { rows: (string | number | null)[][] } = await db.query({
      text: after === null ? firstPage : nextPage,
      values: after === null ? bounds : [...bounds, ...after],
      rowMode: 'array',
    });
    yield page.rows.map((row) => row.slice(0, columns.length) as (string | null)[]);
    const last = page.rows.at(-1);
    if (last === undefined || page.rows.length < pageSize) return;
    after = last.slice(columns.length);
  }
}
