/**
 * `query export`: every stored row of a range, streamed as CSV, a JSON array, or NDJSON.
 *
 * Rows are read in pages by keyset pagination on the primary key, so memory stays at one page whatever the
 * range, and no transaction stays open while a slow consumer reads (a cursor would hold one, and the
 * pool's idle-in-transaction timeout would end it). Every value is selected as text, so numerics keep
 * the exact digits the API sent and instants do not depend on any time zone: `nem_time` is written at
 * +10:00 like the API's `nemTime`, the other instants in UTC.
 */
import type { NemDate } from '../domain/models.ts';
import { addDays, nemDayStart } from '../domain/nem-time.ts';
import type { Queryable } from '../db/pool.ts';
import { csvLine } from '../commands/output/format.ts';
import { nemIsoText, nemWallClock } from './nem-sql.ts';
import type { Output } from '../commands/output/output.ts';

export type ExportType = 'price' | 'usage';
export const EXPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  type: ExportType;
  siteIds: readonly string[];
  /** NEM days, inclusive. */
  from: NemDate;
  to: NemDate;
  format: ExportFormat;
  /** Include the `raw` column (the API object exactly as received). */
  raw: boolean;
  /** Rows per database round trip. */
  pageSize?: number;
}

/** How a column's text becomes JSON: as a string, as the number it spells, as a boolean, or as embedded JSON. */
export type ValueKind = 'text' | 'number' | 'boolean' | 'json';

interface ExportColumn {
  name: string;
  kind: ValueKind;
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

/** Writes the export to `output` and returns the number of rows written. */
export async function exportRows(db: Queryable, options: ExportOptions, output: Output): Promise<number> {
  const spec = TABLES[options.type];
  const columns = options.raw ? [...spec.columns, RAW_COLUMN] : spec.columns;
  const writer = rowWriter(options.format, columns);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  // The nem_time span that is exactly the NEM days from..to: (from 00:00, to+1 00:00], matching nem_date.
  const bounds = [options.siteIds, nemDayStart(options.from).toISOString(), nemDayStart(addDays(options.to, 1)).toISOString()];
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
  let count = 0;
  for (;;) {
    const page: { rows: (string | number | null)[][] } = await db.query({
      text: after === null ? firstPage : nextPage,
      values: after === null ? bounds : [...bounds, ...after],
      rowMode: 'array',
    });
    // The header waits for the first page, so a failing query leaves no half-written output behind.
    let chunk = after === null ? writer.header : '';
    for (const row of page.rows) {
      chunk += writer.row(row.slice(0, columns.length) as (string | null)[], count === 0);
      count += 1;
    }
    await output.write(chunk);
    const last = page.rows.at(-1);
    if (last === undefined || page.rows.length < pageSize) break;
    after = last.slice(columns.length);
  }
  await output.write(writer.footer);
  return count;
}

interface RowWriter {
  header: string;
  row(values: readonly (string | null)[], first: boolean): string;
  footer: string;
}

function rowWriter(format: ExportFormat, columns: readonly ExportColumn[]): RowWriter {
  const object = (values: readonly (string | null)[]) =>
    `{${columns.map((c, i) => `${JSON.stringify(c.name)}:${jsonValue(c.kind, values[i] ?? null)}`).join(',')}}`;
  switch (format) {
    case 'csv':
      return { header: csvLine(columns.map((c) => c.name)), row: (values) => csvLine(values), footer: '' };
    case 'ndjson':
      return { header: '', row: (values) => `${object(values)}\n`, footer: '' };
    case 'json':
      return { header: '[', row: (values, first) => `${first ? '\n' : ',\n'}${object(values)}`, footer: '\n]\n' };
  }
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * A value PostgreSQL rendered as text, as a JSON fragment. Numbers are written with their exact digits
 * (`31.185000000000002` stays so); a numeric that JSON cannot spell (NaN, Infinity) becomes a string.
 */
export function jsonValue(kind: ValueKind, value: string | null): string {
  if (value === null) return 'null';
  switch (kind) {
    case 'number':
      return JSON_NUMBER.test(value) ? value : JSON.stringify(value);
    case 'boolean':
      return value === 'true' || value === 't' ? 'true' : 'false';
    case 'json':
      return value;
    case 'text':
      return JSON.stringify(value);
  }
}
