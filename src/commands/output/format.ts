/**
 * Text formats for command output: aligned tables for people, CSV and JSON for machines.
 */

export interface TableColumn<Row> {
  header: string;
  /** Numbers are right-aligned so their digits line up. */
  numeric?: boolean;
  value(row: Row): string;
}

/**
 * An aligned table: a header, a rule, the rows, and optionally a second rule and footer rows (totals).
 * Trailing spaces are trimmed so the output diffs and pastes cleanly.
 */
export function formatTable<Row>(columns: readonly TableColumn<Row>[], rows: readonly Row[], footer: readonly Row[] = []): string {
  const widths = columnWidths(columns, [...rows, ...footer]);
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const foot = footer.length > 0 ? `${rule}\n${formatRows(columns, footer, widths)}` : '';
  return `${formatHeader(columns, widths)}${formatRows(columns, rows, widths)}${foot}`;
}

/** Each column's width: its header's or its widest cell's, and at least `atLeast`'s (a table printed in parts). */
export function columnWidths<Row>(columns: readonly TableColumn<Row>[], rows: readonly Row[], atLeast: readonly number[] = []): number[] {
  return columns.map((column, i) => Math.max(column.header.length, atLeast[i] ?? 0, ...rows.map((row) => column.value(row).length)));
}

/** The header line and the rule under it. */
export function formatHeader<Row>(columns: readonly TableColumn<Row>[], widths: readonly number[]): string {
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return `${alignLine(columns, columns.map((c) => c.header), widths)}\n${rule}\n`;
}

/** Rows aligned to `widths`, one per line. */
export function formatRows<Row>(columns: readonly TableColumn<Row>[], rows: readonly Row[], widths: readonly number[]): string {
  return rows.map((row) => `${alignLine(columns, columns.map((column) => column.value(row)), widths)}\n`).join('');
}

function alignLine<Row>(columns: readonly TableColumn<Row>[], cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => {
      const width = widths[i] ?? 0;
      return columns[i]?.numeric ? cell.padStart(width) : cell.padEnd(width);
    })
    .join('  ')
    .trimEnd();
}

/** A fixed-point number for a table cell; `-` for no value, and never `-0.00`. */
export function fixed(value: number | null, digits: number): string {
  if (value === null) return '-';
  const text = value.toFixed(digits);
  return Number(text) === 0 ? (0).toFixed(digits) : text;
}

/**
 * Money as on an Australian bill: `$1,234.56`, `-$69.36` (the minus before the dollar sign, never `-$0.00`);
 * `-` for no value. The dashboard formats money with the same Intl options (src/http/dashboard/helpers.js),
 * and its browser test holds the two to one format.
 */
const AUSTRALIAN_DOLLARS = new Intl.NumberFormat('en-AU', { style: 'currency', currency: 'AUD', signDisplay: 'negative' });

export function money(dollars: number | null): string {
  return dollars === null ? '-' : AUSTRALIAN_DOLLARS.format(dollars);
}

/** RFC 4180: a field is quoted when it contains a comma, a quote or a line break; null is an empty field. */
function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(values: readonly (string | null)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** Pretty JSON with a final newline, for `--json`. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
