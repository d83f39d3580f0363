/**
 * `amber-collector bill`: one month's statement in the layout of an Amber bill (energy and money per meter
 * channel, the fixed charges of FIXED_CHARGES_FILE, the total), as text, JSON, or CSV of its lines or of
 * every interval's cost. Needs only DATABASE_URL (and FIXED_CHARGES_FILE for the fixed charges).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { readBillCommandConfig, type BillCommandConfig } from '../config/config.ts';
import { openCommandDatabase, type CommandDatabase } from '../embedded/database-server.ts';
import { isNemMonth, lastUsageDay, monthOf, type NemMonth } from '../domain/nem-time.ts';
import { intervalCosts } from '../query/cost-model.ts';
import { NO_SITES_YET, selectSites } from '../query/site-selection.ts';
import { monthlyStatement } from '../query/statement.ts';
import { SITE_OPTION, siteOption, usageError } from './frame/arguments.ts';
import { defineCommand, type CommandIo, type ParsedArguments } from './frame/define-command.ts';
import { runCollectorFirst } from './frame/run-hint.ts';
import { jsonText } from './output/format.ts';
import { intervalCostsCsv, renderStatement, statementLinesCsv } from './output/statement-output.ts';

export const BILL_USAGE = `Usage: amber-collector bill [--site ID] [--month YYYY-MM] [--json | --csv lines|intervals] [--out FILE]

One month's statement, laid out as an Amber bill: kWh and dollars per meter channel (each register at its
own price, import and feed-in apart), the fixed charges of FIXED_CHARGES_FILE (daily supply per channel,
membership pro rata, other fees), and the total. Without FIXED_CHARGES_FILE it is energy only, and says so.

  --site ID           the site (default: the first stored, active ones first)
  --month YYYY-MM     the month, NEM days 1 to its last (default: the month of yesterday, the newest day
                      usage can exist); the month in progress runs to yesterday
  --json              the statement as JSON
  --csv lines         its lines as CSV (amounts in dollars; the last row is the total)
  --csv intervals     every interval's cost per meter channel as CSV (kWh, c/kWh, cents), for a spreadsheet
  --out FILE          write to FILE (complete or untouched) instead of stdout
  -h, --help          show this text

Dollars incl. GST. Reads DATABASE_URL (and DATABASE_SSL; without it, the embedded PostgreSQL in DATA_DIR)
and FIXED_CHARGES_FILE from the environment or .env; no Amber API key is needed.
`;

const BILL_OPTIONS = {
  ...SITE_OPTION,
  month: { type: 'string' },
  json: { type: 'boolean', default: false },
  csv: { type: 'string' },
  out: { type: 'string' },
} as const;

type Format = 'text' | 'json' | 'lines' | 'intervals';
interface Invocation {
  site: string | null;
  month: NemMonth;
  format: Format;
  out: string | null;
}

export interface BillEnvironment extends CommandIo {
  now: Date;
  readConfig(): BillCommandConfig;
  openDatabase(config: BillCommandConfig['database']): Promise<CommandDatabase>;
}

export const billCommand = defineCommand({
  name: 'bill',
  usage: BILL_USAGE,
  options: BILL_OPTIONS,
  positionals: false,
  environment: (): Omit<BillEnvironment, keyof CommandIo> => ({
    now: new Date(),
    readConfig: readBillCommandConfig,
    openDatabase: (config) => openCommandDatabase(config, { max: 2, applicationName: 'amber-collector-bill', readOnlyRole: true }),
  }),
  parse: (args, env) => parseInvocation(args, env.now),
  config: (env) => env.readConfig(),
  async run(invocation, config, env, scope) {
    const database = await scope.open(env.openDatabase(config.database));
    const [site] = await selectSites(database.pool, invocation.site);
    if (site === undefined) throw usageError(`--site: ${NO_SITES_YET}; ${runCollectorFirst('it reads the sites from Amber and collects', database.dataDir)}`);
    const statement = await monthlyStatement(database.pool, { site, month: invocation.month, fixedCharges: config.fixedCharges, now: env.now });
    const text =
      invocation.format === 'json'
        ? jsonText(statement)
        : invocation.format === 'lines'
          ? statementLinesCsv(statement)
          : invocation.format === 'intervals'
            ? intervalCostsCsv(site.id, await intervalCosts(database.pool, { siteId: site.id, from: statement.from, to: statement.to }))
            : renderStatement(statement);
    if (invocation.out === null) await env.out.write(text);
    else {
      await writeWhole(invocation.out, text);
      await env.err.write(`wrote the ${invocation.month} statement of site ${site.id} to ${invocation.out}\n`);
    }
    return 0;
  },
  databaseError: (e) => `the database refused the query: ${e.message}`,
});

function parseInvocation({ values }: ParsedArguments<typeof BILL_OPTIONS, false>, now: Date): Invocation {
  const problems: string[] = [];
  const month = values.month ?? monthOf(lastUsageDay(now));
  if (!isNemMonth(month)) problems.push(`--month: expected a month as YYYY-MM, got ${JSON.stringify(month)}`);
  const csv = values.csv;
  if (csv !== undefined && csv !== 'lines' && csv !== 'intervals') problems.push(`--csv: expected lines or intervals, got ${JSON.stringify(csv)}`);
  if (csv !== undefined && values.json) problems.push('--json and --csv: choose one');
  if (values.out !== undefined && values.out.trim() === '') problems.push('--out: expected a file name');
  if (problems.length > 0) throw usageError(problems.join('; '), problems);
  const format: Format = values.json ? 'json' : ((csv as 'lines' | 'intervals' | undefined) ?? 'text');
  return { site: siteOption(values.site), month, format, out: values.out ?? null };
}

/** Written beside the target and renamed, so FILE is either the whole statement or untouched. */
async function writeWhole(path: string, text: string): Promise<void> {
  const partial = `${path}.partial`;
  const file = createWriteStream(partial);
  try {
    await once(file, 'open');
    file.end(text);
    await finished(file);
    await rename(partial, path);
  } catch (err) {
    file.destroy();
    await rm(partial, { force: true });
    throw usageError(`--out: cannot write ${path}: ${(err as Error).message}`);
  }
}
