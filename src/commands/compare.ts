/**
 * `amber-collector compare`: would another plan be cheaper? The site's own metered usage priced under the
 * plans of a YAML file, month by month beside what Amber billed, and with `--battery` the same with the
 * battery what-if's battery scheduled for each tariff. Like the other read-only commands it needs only the
 * database (and COMPARE_PLANS_FILE when --plans is not given).
 */
import { readCompareCommandConfig, type CompareCommandConfig } from '../config/config.ts';
import type { NemDate } from '../domain/models.ts';
import { addDays, nemToday } from '../domain/nem-time.ts';
import { openCommandDatabase, type CommandDatabase } from '../embedded/database-server.ts';
import { checkCompareRange, comparePlans, lastMonths, type CompareReport, type Costs, type MonthComparison } from '../plans/plan-comparison.ts';
import { loadPlans } from '../plans/plan-file.ts';
import { NO_SITES_YET, selectSites } from '../query/site-selection.ts';
import { DAY_RANGE_OPTIONS, dayOption, SITE_OPTION, siteOption, usageError } from './frame/arguments.ts';
import { defineCommand, type CommandIo, type ParsedArguments } from './frame/define-command.ts';
import { runCollectorFirst } from './frame/run-hint.ts';
import { describeBattery } from './output/battery-text.ts';
import { fixed, formatTable, jsonText, money, type TableColumn } from './output/format.ts';

const DEFAULT_MONTHS = 12;

export const COMPARE_USAGE = `Usage: amber-collector compare [--plans FILE] [--site ID] [--from DATE --to DATE | --months N] [--battery] [--json]

Your own metered usage (general, controlled load, feed-in) priced under each plan of a YAML file, month by
month (NEM months), beside what Amber billed, and the difference (negative: the plan is cheaper).

  --plans FILE   the plans (default COMPARE_PLANS_FILE); the format is in the README and
                 examples/compare-plans.yaml
  --site ID      the site (default: the first stored, active ones first)
  --from DATE    first NEM day, YYYY-MM-DD; with --to
  --to DATE      last NEM day (default: yesterday)
  --months N     the last N months through --to, 1 to 12 (default ${DEFAULT_MONTHS})
  --battery      also each tariff with the battery what-if's battery (BATTERY_* settings), scheduled with
                 perfect foresight for that tariff's own prices
  --json         JSON for machines instead of text (money in cents)
  -h, --help     show this text

Money in dollars incl. GST. Amber's fixed charges come from FIXED_CHARGES_FILE; without them Amber's column is
"energy only" and differences compare energy alone. Reads DATABASE_URL (and DATABASE_SSL; without it, the embedded PostgreSQL in DATA_DIR);
no Amber API key is needed.
`;

export interface CompareEnvironment extends CommandIo {
  now: Date;
  readConfig(): CompareCommandConfig;
  openDatabase(config: CompareCommandConfig['database']): Promise<CommandDatabase>;
}

const COMPARE_OPTIONS = {
  ...SITE_OPTION,
  ...DAY_RANGE_OPTIONS,
  plans: { type: 'string' },
  months: { type: 'string' },
  battery: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

interface Invocation {
  site: string | null;
  plansFile: string | null;
  from: NemDate;
  to: NemDate;
  battery: boolean;
  json: boolean;
}

function parseInvocation({ values }: ParsedArguments<typeof COMPARE_OPTIONS, false>, env: CompareEnvironment): Invocation {
  const problems: string[] = [];
  const date = (name: 'from' | 'to') => dayOption(name, values[name], problems);
  const to = date('to') ?? addDays(nemToday(env.now), -1);
  let from = date('from');
  if (values.months !== undefined) {
    const months = /^\d{1,2}$/.test(values.months) ? Number(values.months) : Number.NaN;
    if (values.from !== undefined) problems.push('--months: give either --from or --months, not both');
    else if (!(months >= 1 && months <= 12)) problems.push(`--months: expected a whole number from 1 to 12, got ${JSON.stringify(values.months)}`);
    else from = lastMonths(to, months).from;
  }
  from ??= lastMonths(to, DEFAULT_MONTHS).from;
  if (problems.length === 0) problems.push(...checkCompareRange(from, to, { from: '--from', to: '--to' }));
  if (values.plans !== undefined && values.plans.trim() === '') problems.push('--plans: needs a file');
  if (problems.length > 0) throw usageError(problems.join('; '), problems);
  return { site: siteOption(values.site), plansFile: values.plans ?? null, from, to, battery: values.battery, json: values.json };
}

export const compareCommand = defineCommand({
  name: 'compare',
  usage: COMPARE_USAGE,
  options: COMPARE_OPTIONS,
  positionals: false,
  environment: (): Omit<CompareEnvironment, keyof CommandIo> => ({
    now: new Date(),
    readConfig: readCompareCommandConfig,
    openDatabase: (config) => openCommandDatabase(config, { max: 2, applicationName: 'amber-collector-compare' }),
  }),
  parse: parseInvocation,
  config: (env) => env.readConfig(),
  async run(invocation, config, env, scope) {
    const file = invocation.plansFile ?? config.comparePlansFile;
    if (file === null) throw usageError('--plans: no plans file: give --plans FILE or set COMPARE_PLANS_FILE (see examples/compare-plans.yaml)');
    const plans = loadPlans(file);
    const database = await scope.open(env.openDatabase(config.database));
    const [site] = await selectSites(database.pool, invocation.site);
    if (site === undefined) throw usageError(`--site: ${NO_SITES_YET}; ${runCollectorFirst('it reads the sites from Amber and collects', database.dataDir)}`);
    const report = await comparePlans(database.pool, { site, from: invocation.from, to: invocation.to, plans, battery: invocation.battery ? config.battery : null, fixedCharges: config.fixedCharges });
    await env.out.write(invocation.json ? jsonText(report) : renderComparison(report));
    return 0;
  },
  databaseError: (e) => `the database refused the query: ${e.message}`,
});

const dollars = (cents: number | null) => money(cents === null ? null : cents / 100);
const energyOf = (costs: Costs) => costs.energyCents.general + costs.energyCents.controlledLoad + costs.energyCents.feedIn;

function moneyTable(report: CompareReport, rows: MonthComparison[], withBattery: boolean): string {
  const energyOnly = report.basis === 'energy only';
  const amberValue = (row: MonthComparison) => (withBattery ? row.amber.withBatteryCents : row.amber.totalCents);
  const columns: Array<TableColumn<MonthComparison>> = [
    { header: 'Month', value: (row) => row.month },
    { header: energyOnly ? 'Amber (energy only)' : 'Amber', numeric: true, value: (row) => dollars(amberValue(row)) },
    ...report.plans.flatMap((plan, p): Array<TableColumn<MonthComparison>> => [
      { header: plan.name, numeric: true, value: (row) => dollars(withBattery ? row.plans[p]!.withBatteryCents : row.plans[p]!.totalCents) },
      { header: 'vs Amber', numeric: true, value: (row) => dollars(withBattery ? row.plans[p]!.withBatteryDifferenceCents : row.plans[p]!.differenceCents) },
    ]),
  ];
  return formatTable(columns, rows.slice(0, -1), rows.slice(-1));
}

export function renderComparison(report: CompareReport): string {
  if (report.months.length === 0) return `No usage stored for site ${report.siteId} from ${report.from} to ${report.to}: usage arrives about a day late, once the collector has run.\n`;
  const rows = [...report.months, report.total];
  const usageColumns: Array<TableColumn<MonthComparison>> = [
    { header: 'Month', value: (row) => row.month },
    { header: 'Days', numeric: true, value: (row) => String(row.days) },
    { header: 'General kWh', numeric: true, value: (row) => fixed(row.usageKwh.general, 1) },
    { header: 'Controlled kWh', numeric: true, value: (row) => fixed(row.usageKwh.controlledLoad, 1) },
    { header: 'Feed-in kWh', numeric: true, value: (row) => fixed(row.usageKwh.feedIn, 1) },
  ];
  const energyOnly = report.basis === 'energy only';
  const lines = [
    `Plans compared for site ${report.siteId}, ${report.from} to ${report.to} (${report.intervalMinutes}-minute intervals, NEM months)`,
    ...report.plans.map((plan) => `  ${plan.name}: time-of-use periods in ${plan.timeZone} local time`),
    '',
    formatTable(usageColumns, rows.slice(0, -1), rows.slice(-1)),
    'What it cost (incl. GST); "vs Amber" is the plan minus Amber: negative means the plan is cheaper.',
    energyOnly
      ? 'Amber is energy only (no fixed charges configured): each difference compares energy alone; plan totals include their supply and fees.'
      : 'Amber includes its fixed charges; each difference compares totals.',
    '',
    moneyTable(report, rows, false),
  ];
  for (const plan of report.total.plans) {
    lines.push(`${plan.name}: energy ${dollars(energyOf(plan))}, supply and fees ${dollars(plan.fixedCents)}, total ${dollars(plan.totalCents)}`);
  }
  lines.push(`Amber: energy ${dollars(energyOf(report.total.amber))}${report.total.amber.fixedCents === null ? ' (energy only)' : `, fixed charges ${dollars(report.total.amber.fixedCents)}`}`);
  if (report.battery !== null) {
    const b = report.battery;
    lines.push(
      '',
      `With a battery (${describeBattery(b)}), scheduled with perfect foresight for each tariff's own prices`,
      `over ${b.intervals} intervals with usage and Amber prices (${b.skippedIntervals} skipped):`,
      '',
      moneyTable(report, rows, true),
    );
  }
  return `${lines.join('\n')}\n`;
}
