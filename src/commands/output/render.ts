/**
 * The reports as aligned tables for a person at a terminal. When a report spans several sites a SITE
 * column says whose row it is; with one site, a heading names it instead.
 */
import { columnWidths, fixed, formatHeader, formatRows, formatTable, money, type TableColumn } from './format.ts';
import type { Output } from './output.ts';
import type { DailyCost, DailyPrice, DailyUsage, Summary } from '../../query/reports.ts';
import type { SqlOutcome, SqlRow, SqlSink } from '../../db/read-only-sql.ts';
import type { SiteInfo } from '../../query/site-selection.ts';
import type { RejectedInterval } from '../../db/rejected-intervals.ts';

const KWH_DIGITS = 3;
const PRICE_DIGITS = 2;

export function renderSummary(report: Summary): string {
  if (report.sites.length === 0) return 'No sites are stored yet: run `amber-collector run` to collect.\n';
  const sites = formatTable<SiteInfo>(
    [
      { header: 'SITE', value: (s) => s.id },
      { header: 'NMI', value: (s) => s.nmi },
      { header: 'NETWORK', value: (s) => s.network },
      { header: 'STATUS', value: (s) => s.status },
      { header: 'INTERVAL', numeric: true, value: (s) => `${s.intervalLength} min` },
      { header: 'ACTIVE', value: (s) => `${s.activeFrom ?? '?'} .. ${s.closedOn ?? ''}`.trimEnd() },
      { header: 'CHANNELS', value: (s) => s.channels.map((c) => `${c.identifier} ${c.type}`).join(', ') },
    ],
    report.sites,
  );
  const stored = formatTable<Summary['stored'][number]>(
    [
      { header: 'SITE', value: (r) => r.siteId },
      { header: 'DATA', value: (r) => r.dataType },
      { header: 'ROWS', numeric: true, value: (r) => String(r.rows) },
      { header: 'FIRST DAY', value: (r) => r.firstDay ?? '-' },
      { header: 'LAST DAY', value: (r) => r.lastDay ?? '-' },
      { header: 'COLLECTED THROUGH', value: (r) => r.collectedThrough ?? '-' },
      { header: 'LAST SUCCESS (UTC)', value: (r) => formatInstant(r.lastSuccessAt) },
    ],
    report.stored,
  );
  const totals =
    report.totals.length === 0
      ? 'No usage stored yet.\n'
      : formatTable<Summary['totals'][number]>(
          [
            { header: 'SITE', value: (t) => t.siteId },
            { header: 'IMPORT kWh', numeric: true, value: (t) => fixed(t.importKwh, KWH_DIGITS) },
            { header: 'IMPORT $', numeric: true, value: (t) => money(t.importDollars) },
            { header: 'FEED-IN kWh', numeric: true, value: (t) => fixed(t.feedInKwh, KWH_DIGITS) },
            { header: 'FEED-IN $', numeric: true, value: (t) => money(t.feedInDollars) },
            { header: 'NET $', numeric: true, value: (t) => money(t.netDollars) },
          ],
          report.totals,
        );
  return [
    'Sites\n',
    sites,
    '\nStored data\n',
    stored,
    '\nAll-time usage totals (dollars incl. GST; FEED-IN $ is what feed-in earned; NET $ = IMPORT $ - FEED-IN $)\n',
    totals,
  ].join('');
}

export function renderCosts(rows: readonly DailyCost[], sites: readonly SiteInfo[], range: DaySpan): string {
  const heading =
    `Costs per NEM day, ${range.from} to ${range.to}${siteHeading(sites)}\n` +
    '(energy only, no supply charges or fees: see `amber-collector bill`; dollars incl. GST; FEED-IN $ is what feed-in earned; NET $ = IMPORT $ - FEED-IN $)\n';
  if (rows.length === 0) return `${heading}No days in range.\n`;
  type Line = DailyCost & { label: string; note: string };
  const columns: TableColumn<Line>[] = [
    ...siteColumn<Line>(sites),
    { header: 'DATE', value: (r) => r.label },
    { header: 'IMPORT kWh', numeric: true, value: (r) => fixed(r.importKwh, KWH_DIGITS) },
    { header: 'IMPORT $', numeric: true, value: (r) => money(r.importDollars) },
    { header: 'FEED-IN kWh', numeric: true, value: (r) => fixed(r.feedInKwh, KWH_DIGITS) },
    { header: 'FEED-IN $', numeric: true, value: (r) => money(r.feedInDollars) },
    { header: 'NET $', numeric: true, value: (r) => money(r.netDollars) },
    { header: 'NOTE', value: (r) => r.note },
  ];
  const body = rows.map((r) => ({ ...r, label: r.date, note: r.intervals === 0 ? 'no usage stored' : estimatedNote(r.estimated) }));
  const totals = sitesOf(rows).map((siteId) => totalCosts(siteId, rows.filter((r) => r.siteId === siteId)));
  return heading + formatTable(columns, body, totals);
}

function totalCosts(siteId: string, rows: readonly DailyCost[]): DailyCost & { label: string; note: string } {
  const sum = (pick: (r: DailyCost) => number | null) => {
    const values = rows.map(pick).filter((v): v is number => v !== null);
    return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
  };
  const missing = rows.filter((r) => r.intervals === 0).length;
  const estimated = rows.reduce((a, r) => a + r.estimated, 0);
  const notes = [missing > 0 ? `${missing} of ${rows.length} days without usage` : '', estimatedNote(estimated)];
  return {
    siteId,
    date: '',
    label: 'TOTAL',
    note: notes.filter((n) => n !== '').join('; '),
    importKwh: sum((r) => r.importKwh),
    importDollars: sum((r) => r.importDollars),
    feedInKwh: sum((r) => r.feedInKwh),
    feedInDollars: sum((r) => r.feedInDollars),
    netDollars: sum((r) => r.netDollars),
    intervals: rows.reduce((a, r) => a + r.intervals, 0),
    estimated,
  };
}

function estimatedNote(estimated: number): string {
  return estimated > 0 ? `${estimated} intervals still estimated` : '';
}

export function renderPrices(rows: readonly DailyPrice[], sites: readonly SiteInfo[], range: DaySpan): string {
  const heading =
    `Actual prices per NEM day, ${range.from} to ${range.to}${siteHeading(sites)}\n` +
    '(c/kWh incl. GST; a feed-in price below 0 means you are paid; AVG is time-weighted; forecasts left out)\n';
  if (rows.length === 0) return `${heading}No prices stored in range.\n`;
  return (
    heading +
    formatTable<DailyPrice>(
      [
        ...siteColumn<DailyPrice>(sites),
        { header: 'DATE', value: (r) => r.date },
        { header: 'CHANNEL', value: (r) => r.channelType },
        { header: 'MIN', numeric: true, value: (r) => fixed(r.min, PRICE_DIGITS) },
        { header: 'AVG', numeric: true, value: (r) => fixed(r.avg, PRICE_DIGITS) },
        { header: 'MAX', numeric: true, value: (r) => fixed(r.max, PRICE_DIGITS) },
        { header: 'SPIKES', numeric: true, value: (r) => String(r.spikes) },
        { header: 'POTENTIAL', numeric: true, value: (r) => String(r.potentialSpikes) },
        { header: 'INTERVALS', numeric: true, value: (r) => String(r.intervals) },
      ],
      rows,
    )
  );
}

export function renderUsage(rows: readonly DailyUsage[], sites: readonly SiteInfo[], range: DaySpan): string {
  const heading =
    `Usage per NEM day and meter channel, ${range.from} to ${range.to}${siteHeading(sites)}\n` +
    '(COST $ incl. GST, negative is income; estimated intervals may still be revised)\n';
  if (rows.length === 0) return `${heading}No usage stored in range.\n`;
  return (
    heading +
    formatTable<DailyUsage>(
      [
        ...siteColumn<DailyUsage>(sites),
        { header: 'DATE', value: (r) => r.date },
        { header: 'CHANNEL', value: (r) => `${r.channelId} ${r.channelType}` },
        { header: 'kWh', numeric: true, value: (r) => fixed(r.kwh, KWH_DIGITS) },
        { header: 'COST $', numeric: true, value: (r) => money(r.costDollars) },
        { header: 'INTERVALS', numeric: true, value: (r) => String(r.intervals) },
        { header: 'ESTIMATED', numeric: true, value: (r) => String(r.estimated) },
        { header: 'BILLABLE', numeric: true, value: (r) => String(r.billable) },
      ],
      rows,
    )
  );
}

/** Like psql: NULL shows as an empty cell, then a row count (or the command tag for a statement without rows). */
/**
 * `query sql` output for a person, written as the rows arrive: a psql-like table whose columns fit the rows
 * so far (a wider value in a later batch widens the table from there on), then a row count.
 */
export function sqlTableWriter(out: Output): SqlSink & { end(outcome: SqlOutcome): Promise<void> } {
  let columns: TableColumn<SqlRow>[] = [];
  let widths: number[] | null = null;
  return {
    async columns(described) {
      columns = described.map((column, i) => ({
        header: column.name,
        numeric: column.kind === 'number',
        value: (row) => (row[i] ?? '').replace(/\r?\n/g, '\\n'),
      }));
    },
    async rows(rows) {
      const header = widths === null;
      widths = columnWidths(columns, rows, widths ?? []);
      await out.write(`${header ? formatHeader(columns, widths) : ''}${formatRows(columns, rows, widths)}`);
    },
    async end(outcome) {
      if (columns.length === 0) return out.write(`${outcome.command}\n`);
      const header = widths === null ? formatHeader(columns, columnWidths(columns, [])) : '';
      await out.write(`${header}(${outcome.rowCount} ${outcome.rowCount === 1 ? 'row' : 'rows'})\n`);
    },
  };
}

/** Characters of an element shown in the SAMPLE column; `--json` has the whole element. */
const SAMPLE_CHARS = 60;

export function renderRejected(rows: readonly RejectedInterval[], sites: readonly SiteInfo[], more: boolean): string {
  if (rows.length === 0) return 'No rejected elements: everything the API sent passed validation.\n';
  const table = formatTable<RejectedInterval>(
    [
      { header: 'LAST SEEN (UTC)', value: (r) => formatInstant(r.lastSeenAt.toISOString()) },
      ...siteColumn<RejectedInterval>(sites),
      { header: 'DATA', value: (r) => r.dataType },
      { header: 'REQUESTED', value: (r) => (r.requestedFrom === r.requestedTo ? r.requestedFrom : `${r.requestedFrom}..${r.requestedTo}`) },
      { header: 'RULE', value: (r) => r.rule },
      { header: 'SEEN', numeric: true, value: (r) => String(r.timesSeen) },
      { header: 'SAMPLE', value: (r) => shortSample(r.raw) },
    ],
    rows,
  );
  const why = rows.map((r) => r.problems).filter((p, i, all) => all.indexOf(p) === i).slice(0, 5);
  const tail = more ? `\nOnly the newest ${rows.length} are listed; query sql "SELECT * FROM rejected_intervals" has them all.\n` : '';
  return `Rejected elements${siteHeading(sites)}, newest first:\n\n${table}\nWhy (first ${why.length}):\n${why.map((p) => `  ${p}`).join('\n')}\n${tail}`;
}

function shortSample(raw: unknown): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
  const text = (JSON.stringify(raw) ?? '').replace(/[\u0000-\u001f]/g, ' ');
  return text.length <= SAMPLE_CHARS ? text : `${text.slice(0, SAMPLE_CHARS - 1)}…`;
}

export interface DaySpan {
  from: string;
  to: string;
}

function siteColumn<Row extends { siteId: string }>(sites: readonly SiteInfo[]): TableColumn<Row>[] {
  return sites.length > 1 ? [{ header: 'SITE', value: (r) => r.siteId }] : [];
}

function siteHeading(sites: readonly SiteInfo[]): string {
  const [site] = sites;
  return sites.length === 1 && site ? `, site ${site.id} (NMI ${site.nmi}, ${site.status})` : '';
}

function sitesOf(rows: readonly { siteId: string }[]): string[] {
  return [...new Set(rows.map((r) => r.siteId))];
}

function formatInstant(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}
