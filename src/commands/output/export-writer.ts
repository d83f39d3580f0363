/**
 * `query export` written out: the rows query/export.ts pages through, as CSV, a JSON array, or NDJSON. The
 * header waits for the first page, so a failing query leaves no half-written output behind.
 */
import type { Queryable } from '../../db/pool.ts';
import type { ValueKind } from '../../db/read-only-sql.ts';
import { exportColumns, exportPages, type ExportColumnInfo, type ExportRange } from '../../query/export.ts';
import { csvLine } from './format.ts';
import type { Output } from './output.ts';

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions extends ExportRange {
  format: ExportFormat;
}

/** Writes the export to `output` and returns the number of rows written. */
export async function exportRows(db: Queryable, options: ExportOptions, output: Output): Promise<number> {
  const writer = rowWriter(options.format, exportColumns(options));
  let count = 0;
  let first = true;
  for await (const rows of exportPages(db, options)) {
    let chunk = first ? writer.header : '';
    first = false;
    for (const row of rows) {
      chunk += writer.row(row, count === 0);
      count += 1;
    }
    await output.write(chunk);
  }
  await output.write(writer.footer);
  return count;
}

interface RowWriter {
  header: string;
  row(values: readonly (string | null)[], first: boolean): string;
  footer: string;
}

function rowWriter(format: ExportFormat, columns: readonly ExportColumnInfo[]): RowWriter {
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
