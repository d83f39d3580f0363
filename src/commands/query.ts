/**
 * `amber-collector query`: look at the collected data from a terminal. Reports for people (aligned
 * tables) and machines (`--json`), a streamed export, and read-only SQL. Needs only DATABASE_URL: no
 * Amber API key, no collection settings.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import type { NemDate } from '../domain/models.ts';
import type { PricedChannelType } from '../domain/pricing.ts';
import { addDays, compareNemDates, daysBetween, isNemDate, nemDayStart, nemToday } from '../domain/nem-time.ts';
import { readDatabaseConfig } from '../config/config.ts';
import { openCommandDatabase, type CommandDatabase } from '../embedded/database-server.ts';
import { DAY_RANGE_OPTIONS, SITE_OPTION, siteOption, usageError } from './frame/arguments.ts';
import { defineCommand, type CommandIo, type ParsedArguments } from './frame/define-command.ts';
import { runCollectorFirst } from './frame/run-hint.ts';
import { isCollectorError } from '../errors.ts';
import { EXPORT_FORMATS, exportRows, jsonValue, type ExportFormat } from './output/export-writer.ts';
import type { ExportType } from '../query/export.ts';
import { jsonText } from './output/format.ts';
import { streamOutput, type Output } from './output/output.ts';
import { streamReadOnlySql, type SqlColumn, type SqlOutcome, type SqlSink } from '../db/read-only-sql.ts';
import { renderCosts, renderPrices, renderRejected, renderSummary, renderUsage, sqlTableWriter } from './output/render.ts';
import { readRejectedIntervals } from '../db/rejected-intervals.ts';
import { dailyCosts, dailyPrices, dailyUsage, summary } from '../query/reports.ts';
import { ENERGY_ONLY } from '../query/statement.ts';
import { selectSites } from '../query/site-selection.ts';
import { ACCURACY_DAYS, accuracyView, channelList, runForecastAccuracy, type AccuracyInvocation } from './reports/forecast-accuracy-report.ts';

const QUERY_USAGE = `Usage: amber-collector query <report> [options]

Reports:
  summary             sites, stored ranges and row counts, all-time usage totals
  costs [DAYS] [--channel general,controlledLoad,feedIn]
                      per NEM day: import kWh and $, feed-in kWh and $, net $, energy only (each
                      meter channel at its own price; supply and fees are on \`amber-collector bill\`)
                      (default 7 days ending yesterday, the newest day usage can exist; every channel)
  prices [DAYS]       per NEM day and channel: min / avg / max actual price (c/kWh), spike counts
                      (default 7 days ending today)
  usage [DAYS]        per NEM day and meter channel: kWh, cost, estimated vs billable intervals
                      (default 7 days ending yesterday)
  export --from DATE --to DATE [--type price|usage] [--format csv|json|ndjson] [--output FILE] [--raw]
                      every stored row of those NEM days, streamed (default --type price --format csv;
                      json is one array, ndjson one object per line; --raw adds the API object as received)
  sql "STATEMENT"     one SQL statement in a READ ONLY transaction, rolled back afterwards
                      (--timeout SECONDS, default 30)
  forecast-accuracy [--channel general,feedIn,...] [--by lead|time-of-day]
                      archived forecasts against settled prices by lead time (0-5 min .. 24-48 h): error
                      of perKwh and advanced predicted, share inside advanced low-high, spike detection
                      (one site: --site or the first; default the last 30 days through today);
                      --by time-of-day adds the same error per NEM hour of the day
  rejected [--since DATE]
                      elements the API sent that failed validation and were kept instead of stored
                      (newest first): the rule broken, the range asked for, how often, a short sample;
                      --since keeps those seen on or after that NEM day

Options:
  --site ID           only this site (default: every site; a SITE column appears when there are several)
  --from DATE         first NEM day (YYYY-MM-DD), instead of DAYS
  --to DATE           last NEM day, inclusive (DAYS count back from it)
  --json              JSON for machines instead of a table (summary, costs, prices, usage, forecast-accuracy, sql)
  -h, --help          show this text

Days are NEM days (UTC+10 all year, as Amber bills them). Money is in dollars incl. GST, prices in c/kWh.
Import is general plus controlled load; feed-in earnings are positive when you were paid.
Reads DATABASE_URL (and DATABASE_SSL) from the environment or .env; without it, the embedded PostgreSQL in
DATA_DIR (the running one, or started for this command). No Amber API key is needed.
`;

type Report = 'summary' | 'costs' | 'prices' | 'usage' | 'export' | 'sql' | 'rejected' | 'forecast-accuracy';
type Flag = 'site' | 'from' | 'to' | 'json' | 'type' | 'format' | 'output' | 'raw' | 'timeout' | 'since' | 'channel' | 'by';

const REPORT_FLAGS: Record<Report, readonly Flag[]> = {
  summary: ['site', 'json'],
  costs: ['site', 'from', 'to', 'json', 'channel'],
  prices: ['site', 'from', 'to', 'json'],
  usage: ['site', 'from', 'to', 'json'],
  export: ['site', 'from', 'to', 'type', 'format', 'output', 'raw'],
  sql: ['json', 'timeout'],
  rejected: ['site', 'since', 'json'],
  'forecast-accuracy': ['site', 'from', 'to', 'channel', 'by', 'json'],
};

const REPORT_NAMES = 'summary, costs, prices, usage, export, sql, rejected or forecast-accuracy';
const DEFAULT_DAYS = 7;
const MAX_DAYS = 3660;
const DEFAULT_SQL_TIMEOUT_SECONDS = 30;
/** Rows `query rejected` lists; the rest are one `query sql` away. */
const MAX_REJECTED_ROWS = 500;
const MAX_SQL_TIMEOUT_SECONDS = 3600;

const QUERY_OPTIONS = {
  ...SITE_OPTION,
  ...DAY_RANGE_OPTIONS,
  json: { type: 'boolean' },
  type: { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string' },
  raw: { type: 'boolean' },
  timeout: { type: 'string' },
  since: { type: 'string' },
  channel: { type: 'string' },
  by: { type: 'string' },
} as const;

export interface QueryEnvironment extends CommandIo {
  now: Date;
  /** Connects to the database; called only once the arguments are known to be valid. */
  openDatabase(): Promise<CommandDatabase>;
}

export const queryCommand = defineCommand({
  name: 'query',
  usage: QUERY_USAGE,
  options: QUERY_OPTIONS,
  positionals: true,
  environment: (): Omit<QueryEnvironment, keyof CommandIo> => ({
    now: new Date(),
    // No pipeline mode: `sql` reads its rows through a cursor, which pg refuses in it. Every report only
    // reads, so the embedded server is used through its read-only role, never as its superuser.
    openDatabase: () => openCommandDatabase(readDatabaseConfig(), { max: 2, applicationName: 'amber-collector-query', pipeline: false, readOnlyRole: true }),
  }),
  parse: (args, env) => parseInvocation(args, env.now),
  async run(invocation, _config, env, scope) {
    if (invocation.report === 'help') {
      await env.out.write(QUERY_USAGE);
      return 0;
    }
    return runReport(invocation, await scope.open(env.openDatabase()), env);
  },
  // A reader that went away (`| head`) leaves nothing to say.
  ownFailure: async (err) => ((err as { code?: unknown }).code === 'EPIPE' ? 0 : undefined),
  databaseError: describeDatabaseError,
});

type Invocation =
  | { report: 'help' }
  | { report: 'summary'; site: string | null; json: boolean }
  | { report: 'costs' | 'prices' | 'usage'; site: string | null; json: boolean; from: NemDate; to: NemDate; channels?: PricedChannelType[] | null }
  | {
      report: 'export';
      site: string | null;
      from: NemDate;
      to: NemDate;
      type: ExportType;
      format: ExportFormat;
      output: string | null;
      raw: boolean;
    }
  | { report: 'sql'; statement: string; json: boolean; timeoutSeconds: number }
  | { report: 'rejected'; site: string | null; since: NemDate | null; json: boolean }
  | ({ report: 'forecast-accuracy' } & AccuracyInvocation);

function parseInvocation({ values, positionals }: ParsedArguments<typeof QUERY_OPTIONS, true>, now: Date): Invocation {
  const [name, ...rest] = positionals;
  if (name === 'help') return { report: 'help' };
  if (name === undefined) throw usageError(`which report? (${REPORT_NAMES})`);
  if (!isReport(name)) throw usageError(`unknown report "${name}" (${REPORT_NAMES})`);
  const allowed = REPORT_FLAGS[name];
  for (const flag of Object.keys(values) as (Flag | 'help')[]) {
    if (flag !== 'help' && !allowed.includes(flag)) throw usageError(`--${flag} does not apply to "${name}"`);
  }
  const site = siteOption(values.site);
  const json = values.json ?? false;

  switch (name) {
    case 'summary':
      noPositionals(name, rest);
      return { report: name, site, json };
    case 'costs':
    case 'prices':
    case 'usage': {
      if (rest.length > 1) throw usageError(`"${name}" takes at most one argument, the number of days`);
      const newest = name === 'prices' ? nemToday(now) : addDays(nemToday(now), -1);
      const channels = name === 'costs' ? { channels: channelList(values.channel) as PricedChannelType[] | null } : {};
      return { report: name, site, json, ...dayRange(rest[0], values.from, values.to, newest), ...channels };
    }
    case 'export': {
      noPositionals(name, rest);
      if (values.from === undefined || values.to === undefined) throw usageError('export needs --from DATE and --to DATE');
      const range = dayRange(undefined, values.from, values.to, values.to);
      return {
        report: name,
        site,
        ...range,
        type: oneOf('--type', values.type ?? 'price', ['price', 'usage'] as const),
        format: oneOf('--format', values.format ?? 'csv', EXPORT_FORMATS),
        output: values.output ?? null,
        raw: values.raw ?? false,
      };
    }
    case 'sql': {
      const [statement, ...extra] = rest;
      if (statement === undefined || statement.trim() === '') throw usageError('sql needs the statement as one argument, e.g. sql "SELECT count(*) FROM price_data"');
      if (extra.length > 0) throw usageError('sql takes one argument: put the whole statement in quotes');
      const timeoutSeconds = wholeNumber('--timeout', values.timeout ?? String(DEFAULT_SQL_TIMEOUT_SECONDS), 1, MAX_SQL_TIMEOUT_SECONDS);
      return { report: name, statement, json, timeoutSeconds };
    }
    case 'rejected': {
      noPositionals(name, rest);
      const since = values.since ?? null;
      if (since !== null && !isNemDate(since)) throw usageError(`--since must be a date as YYYY-MM-DD, got "${since}"`);
      return { report: name, site, since, json };
    }
    case 'forecast-accuracy':
      noPositionals(name, rest);
      return { report: name, site, json, ...dayRange(undefined, values.from, values.to, nemToday(now), ACCURACY_DAYS), channels: channelList(values.channel), byTimeOfDay: accuracyView(values.by) };
  }
}

function isReport(name: string): name is Report {
  return Object.hasOwn(REPORT_FLAGS, name);
}

function noPositionals(report: string, rest: readonly string[]): void {
  if (rest.length > 0) throw usageError(`"${report}" takes no arguments, got "${rest.join(' ')}"`);
}

function oneOf<const T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
}

function wholeNumber(what: string, raw: string, min: number, max: number): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw usageError(`${what} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
}

/**
 * DAYS counts back from --to (default `newest`); --from names the first day instead. The range is inclusive.
 */
function dayRange(days: string | undefined, from: string | undefined, to: string | undefined, newest: NemDate, defaultDays = DEFAULT_DAYS): { from: NemDate; to: NemDate } {
  if (days !== undefined && from !== undefined) throw usageError('give DAYS or --from, not both');
  for (const [flag, value] of [['--from', from], ['--to', to]] as const) {
    if (value !== undefined && !isNemDate(value)) throw usageError(`${flag} must be a date as YYYY-MM-DD, got "${value}"`);
  }
  const count = days === undefined ? defaultDays : wholeNumber('DAYS', days, 1, MAX_DAYS);
  const last = to ?? newest;
  const first = from ?? addDays(last, -(count - 1));
  if (compareNemDates(first, last) > 0) throw usageError(`--from ${first} is after --to ${last}`);
  if (daysBetween(first, last) >= MAX_DAYS) throw usageError(`a report covers at most ${MAX_DAYS} days`);
  return { from: first, to: last };
}

async function runReport(invocation: Exclude<Invocation, { report: 'help' }>, database: CommandDatabase, env: QueryEnvironment): Promise<number> {
  const { pool } = database;
  switch (invocation.report) {
    case 'summary': {
      const sites = await selectSites(pool, invocation.site);
      if (sites.length === 0 && !invocation.json) return nothingCollectedYet(env, database.dataDir);
      const report = await summary(pool, sites.map((s) => s.id));
      await env.out.write(invocation.json ? jsonText(report) : renderSummary(report));
      return 0;
    }
    case 'costs':
    case 'prices':
    case 'usage': {
      const sites = await selectSites(pool, invocation.site);
      if (sites.length === 0 && !invocation.json) return nothingCollectedYet(env, database.dataDir);
      const filter = { siteIds: sites.map((s) => s.id), from: invocation.from, to: invocation.to, channels: invocation.channels ?? null };
      const span = { from: invocation.from, to: invocation.to };
      const text =
        invocation.report === 'costs'
          ? invocation.json
            ? jsonText({ from: invocation.from, to: invocation.to, basis: ENERGY_ONLY, days: await dailyCosts(pool, filter) })
            : renderCosts(await dailyCosts(pool, filter), sites, span)
          : invocation.report === 'prices'
            ? asText(invocation, await dailyPrices(pool, filter), (rows) => renderPrices(rows, sites, span))
            : asText(invocation, await dailyUsage(pool, filter), (rows) => renderUsage(rows, sites, span));
      await env.out.write(text);
      return 0;
    }
    case 'export':
      return runExport(invocation, pool, env);
    case 'sql': {
      const writer = invocation.json ? sqlJsonWriter(env.out) : sqlTableWriter(env.out);
      const outcome = await streamReadOnlySql(pool, invocation.statement, { timeoutMs: invocation.timeoutSeconds * 1000 }, writer);
      await writer.end(outcome);
      return 0;
    }
    case 'rejected': {
      const sites = await selectSites(pool, invocation.site);
      const since = invocation.since === null ? null : nemDayStart(invocation.since);
      const rows = await readRejectedIntervals(pool, { siteId: invocation.site, since, limit: MAX_REJECTED_ROWS + 1 });
      const shown = rows.slice(0, MAX_REJECTED_ROWS);
      await env.out.write(
        invocation.json ? jsonText({ since: invocation.since, rejected: shown, more: rows.length > shown.length }) : renderRejected(shown, sites, rows.length > shown.length),
      );
      return 0;
    }
    case 'forecast-accuracy':
      return runForecastAccuracy(invocation, pool, env);
  }
}

function asText<Row>(invocation: { json: boolean; from: NemDate; to: NemDate }, rows: Row[], render: (rows: Row[]) => string): string {
  return invocation.json ? jsonText({ from: invocation.from, to: invocation.to, days: rows }) : render(rows);
}

async function runExport(invocation: Extract<Invocation, { report: 'export' }>, pool: pg.Pool, env: QueryEnvironment): Promise<number> {
  const sites = await selectSites(pool, invocation.site);
  const options = { ...invocation, siteIds: sites.map((s) => s.id) };
  if (invocation.output === null) {
    await exportRows(pool, options, env.out);
    return 0;
  }
  // Written beside the target and renamed at the end, so FILE is either the complete export or untouched.
  const partial = `${invocation.output}.partial`;
  const file = createWriteStream(partial);
  try {
    await once(file, 'open');
    const count = await exportRows(pool, options, streamOutput(file));
    file.end();
    await finished(file);
    await rename(partial, invocation.output);
    await env.err.write(`wrote ${count} ${invocation.type} rows to ${invocation.output}\n`);
    return 0;
  } catch (err) {
    file.destroy();
    await rm(partial, { force: true });
    if (err instanceof pg.DatabaseError || isCollectorError(err)) throw err;
    await env.err.write(`amber-collector query: cannot write ${invocation.output}: ${(err as Error).message}\n`);
    return 1;
  }
}

/**
 * A JSON array of row objects, written as the rows arrive; numbers, booleans and json columns keep their JSON
 * types and exact digits. A repeated column name gets a suffix (`n`, `n_2`).
 */
function sqlJsonWriter(out: Output): SqlSink & { end(outcome: SqlOutcome): Promise<void> } {
  let columns: readonly SqlColumn[] = [];
  let names: string[] = [];
  let written = 0;
  return {
    async columns(described) {
      columns = described;
      const seen = new Map<string, number>();
      names = described.map((column) => {
        const n = (seen.get(column.name) ?? 0) + 1;
        seen.set(column.name, n);
        return JSON.stringify(n === 1 ? column.name : `${column.name}_${n}`);
      });
    },
    async rows(rows) {
      const objects = rows.map((row) => `  {${columns.map((column, i) => `${names[i]}: ${jsonValue(column.kind, row[i] ?? null)}`).join(', ')}}`);
      await out.write(`${written === 0 ? '[\n' : ',\n'}${objects.join(',\n')}`);
      written += rows.length;
    },
    async end() {
      await out.write(written === 0 ? '[]\n' : '\n]\n');
    },
  };
}

/** Before the first collection a report would be empty tables: say what to run, and where, instead. */
async function nothingCollectedYet(env: QueryEnvironment, dataDir: string | undefined): Promise<number> {
  await env.out.write(`No sites are stored yet: ${runCollectorFirst('it reads the sites from Amber and collects', dataDir)}.\n`);
  return 0;
}

function describeDatabaseError(err: pg.DatabaseError, dataDir: string | undefined): string {
  if (err.code === '42P01') return `${err.message}: this database has no amber-collector tables yet; ${runCollectorFirst('it creates them and collects', dataDir)}`;
  if (err.code === '57014') return 'the statement was cancelled: it ran longer than the timeout (raise it with --timeout SECONDS)';
  const where = err.position ? ` (at character ${err.position})` : '';
  const hint = err.hint ?? (/multiple commands/.test(err.message) ? 'sql runs exactly one statement' : undefined);
  return `ERROR: ${err.message}${where}${hint ? `\nHINT: ${hint}` : ''}`;
}
