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
  const cells = (row: Row) => columns.map((column) => column.value(row));
  const body = rows.map(cells);
  const foot = footer.map(cells);
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...[...body, ...foot].map((line) => (line[i] ?? '').length)),
  );
  const render = (line: readonly string[]) =>
    line
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return columns[i]?.numeric ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const lines = [render(columns.map((c) => c.header)), rule, ...body.map(render)];
  if (foot.length > 0) lines.push(rule, ...foot.map(render));
  return `${lines.join('\n')}\n`;
}

/** A fixed-point number for a table cell; `-` for no value, and never `-0.00`. */
export function fixed(value: number | null, digits: number): string {
  if (value === null) return '-';
  const text = value.toFixed(digits);
  return Number(text) === 0 ? (0).toFixed(digits) : text;
}

/** RFC 4180: a field is quoted when it contains a comma, a quote or a line break; null is an empty field. */
export function csvField(value: string | null): string {
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
