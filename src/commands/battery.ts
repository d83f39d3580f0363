/**
 * `amber-collector battery`: what a battery would have saved on your own prices and usage (`what-if`), and
 * a schedule over the latest archived forecast (`plan`). Like the other read-only commands it needs only
 * DATABASE_URL (and BATTERY_* for other defaults).
 */
import { batteryParamsFrom, parseDecimal, parseStartCharge, startChargeKwh, type BatteryParams } from '../domain/battery-limits.ts';
import { readBatteryCommandConfig, type BatteryCommandConfig } from '../config/config.ts';
import { openCommandDatabase, type CommandDatabase } from '../embedded/database-server.ts';
import type { NemDate } from '../domain/models.ts';
import { addDays, nemToday } from '../domain/nem-time.ts';
import type { CollectorError } from '../errors.ts';
import { batteryPlan, batteryWhatIf, checkWhatIfRange, MAX_HORIZON_HOURS, type PlanReport, type WhatIfReport } from '../query/battery-analysis.ts';
import { describeBattery } from './output/battery-text.ts';
import { money } from './output/format.ts';
import { NO_SITES_YET, selectSites } from '../query/site-selection.ts';
import { DAY_RANGE_OPTIONS, dayOption, SITE_OPTION, siteOption, usageError } from './frame/arguments.ts';
import { defineCommand, type CommandIo, type ParsedArguments } from './frame/define-command.ts';
import { runCollectorFirst } from './frame/run-hint.ts';

export const BATTERY_USAGE = `Usage: amber-collector battery <what-if|plan> [options]

  what-if [--site ID] [--from DATE] [--to DATE] [--day DATE] [--soc KWH|PCT%]
          what a battery would have saved over those NEM days (default: the 30 days ending yesterday):
          no battery, self-consumption, perfect foresight and forecast-driven, side by side, each
          starting at the state of charge given (default: the reserve)
  plan    [--site ID] [--soc KWH|PCT%] [--horizon HOURS]
          the cheapest schedule over the latest archived forecast, from the state of charge given
          (default: the reserve), for up to ${MAX_HORIZON_HOURS} hours; the running interval for the time it has left

Battery (defaults from BATTERY_CAPACITY_KWH, BATTERY_POWER_KW, BATTERY_EFFICIENCY, BATTERY_RESERVE,
BATTERY_CHARGE_KW, BATTERY_DISCHARGE_KW, BATTERY_EXPORT_LIMIT_KW; built in: 13.5 kWh, 5 kW, 0.9, 0.1,
no limit):
  --capacity KWH      usable capacity, > 0
  --power KW          most charge and discharge power, > 0 (both directions)
  --charge-power KW   most charge power, when it differs (wins over --power)
  --discharge-power KW  most discharge power, when it differs (wins over --power)
  --efficiency X      round trip, in (0, 1]
  --reserve X         share of the capacity never used, in [0, 1)
  --export-limit KW   most the battery may add to the export

  --site ID           the site (default: the first stored, active ones first)
  --json              JSON for machines instead of text
  -h, --help          show this text

Money in dollars incl. GST (cents in --json), energy in kWh, times NEM time (UTC+10).
Reads DATABASE_URL (and DATABASE_SSL; without it, the embedded PostgreSQL in DATA_DIR) from the environment
or .env; no Amber API key is needed.
`;

const DEFAULT_WHAT_IF_DAYS = 30;
const OPTION_NAMES = {
  capacityKwh: '--capacity',
  powerKw: '--power',
  chargeKw: '--charge-power',
  dischargeKw: '--discharge-power',
  efficiency: '--efficiency',
  reserve: '--reserve',
  exportLimitKw: '--export-limit',
} as const;

export interface BatteryEnvironment extends CommandIo {
  now: Date;
  readConfig(): BatteryCommandConfig;
  /** Connects to the database; called only once the arguments and configuration are valid. */
  openDatabase(config: BatteryCommandConfig['database']): Promise<CommandDatabase>;
}

const BATTERY_OPTIONS = {
  ...SITE_OPTION,
  ...DAY_RANGE_OPTIONS,
  day: { type: 'string' },
  soc: { type: 'string' },
  horizon: { type: 'string' },
  capacity: { type: 'string' },
  power: { type: 'string' },
  'charge-power': { type: 'string' },
  'discharge-power': { type: 'string' },
  efficiency: { type: 'string' },
  reserve: { type: 'string' },
  'export-limit': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

type Invocation =
  | { kind: 'what-if'; site: string | null; json: boolean; from: NemDate; to: NemDate; day: NemDate | null; socKwh: number | null; params: BatteryParams }
  | { kind: 'plan'; site: string | null; json: boolean; socKwh: number | null; horizonHours: number | null; params: BatteryParams };

export const batteryCommand = defineCommand({
  name: 'battery',
  usage: BATTERY_USAGE,
  options: BATTERY_OPTIONS,
  positionals: true,
  environment: (): Omit<BatteryEnvironment, keyof CommandIo> => ({
    now: new Date(),
    readConfig: readBatteryCommandConfig,
    openDatabase: (config) => openCommandDatabase(config, { max: 2, applicationName: 'amber-collector-battery' }),
  }),
  config: (env) => env.readConfig(),
  async run(args, config, env, scope) {
    // The battery's defaults come from the configuration, so the arguments are checked against it here.
    const invocation = parseInvocation(args, env.now, config.battery);
    const database = await scope.open(env.openDatabase(config.database));
    const [site] = await selectSites(database.pool, invocation.site);
    if (site === undefined) throw usage([`--site: ${NO_SITES_YET}; ${runCollectorFirst('it reads the sites from Amber and collects', database.dataDir)}`]);
    if (invocation.kind === 'what-if') {
      const { from, to, params, day, socKwh } = invocation;
      const report = await batteryWhatIf(database.pool, { site, from, to, params, day, startSocKwh: socKwh });
      await env.out.write(invocation.json ? `${JSON.stringify(report, null, 2)}\n` : renderWhatIf(report));
    } else {
      const report = await batteryPlan(database.pool, { site, params: invocation.params, socKwh: invocation.socKwh, horizonHours: invocation.horizonHours, now: env.now });
      await env.out.write(invocation.json ? `${JSON.stringify(report, null, 2)}\n` : renderPlan(report));
    }
    return 0;
  },
  databaseError: (e) => `the database refused the query: ${e.message}`,
});

function usage(problems: string[]): CollectorError<'USAGE'> {
  return usageError(problems.join('; '), problems);
}

function parseInvocation({ values, positionals }: ParsedArguments<typeof BATTERY_OPTIONS, true>, now: Date, defaults: BatteryParams): Invocation {
  const [kind, ...extra] = positionals;
  if (kind !== 'what-if' && kind !== 'plan') throw usage([kind === undefined ? 'expected what-if or plan' : `unknown subcommand "${kind}": expected what-if or plan`]);
  const problems: string[] = extra.length > 0 ? [`unexpected arguments: ${extra.join(' ')}`] : [];
  const checked = batteryParamsFrom(
    {
      capacityKwh: values.capacity,
      powerKw: values.power,
      chargeKw: values['charge-power'],
      dischargeKw: values['discharge-power'],
      efficiency: values.efficiency,
      reserve: values.reserve,
      exportLimitKw: values['export-limit'],
    },
    OPTION_NAMES,
    defaults,
  );
  problems.push(...checked.problems);
  const site = siteOption(values.site);
  const socKwh = startCharge(values.soc, checked.params, problems);
  const only = (allowed: string[]) => {
    for (const name of ['from', 'to', 'day', 'soc', 'horizon'] as const) {
      if (values[name] !== undefined && !allowed.includes(name)) problems.push(`--${name}: not an option of battery ${kind}`);
    }
  };
  if (kind === 'what-if') {
    only(['from', 'to', 'day', 'soc']);
    const date = (name: 'from' | 'to' | 'day') => dayOption(name, values[name], problems);
    const to = date('to') ?? addDays(nemToday(now), -1);
    const from = date('from') ?? addDays(to, -(DEFAULT_WHAT_IF_DAYS - 1));
    const day = date('day');
    if (problems.length === 0) problems.push(...checkWhatIfRange(from, to, day, { from: '--from', to: '--to', day: '--day' }));
    if (problems.length > 0) throw usage(problems);
    return { kind, site, json: values.json, from, to, day, socKwh, params: checked.params };
  }
  only(['soc', 'horizon']);
  const rawHorizon = values.horizon;
  const horizonHours = rawHorizon === undefined ? null : parseDecimal(rawHorizon);
  if (rawHorizon !== undefined && horizonHours === null) problems.push(`--horizon: expected a number, got ${JSON.stringify(rawHorizon)}`);
  if (horizonHours !== null && !(horizonHours > 0 && horizonHours <= MAX_HORIZON_HOURS)) {
    problems.push(`--horizon: expected hours greater than 0 and at most ${MAX_HORIZON_HOURS}, got ${horizonHours}`);
  }
  if (problems.length > 0) throw usage(problems);
  return { kind, site, json: values.json, socKwh, horizonHours, params: checked.params };
}

/** `--soc` as kWh or a percentage of the capacity, checked once the battery itself is valid; null when not given. */
function startCharge(raw: string | undefined, params: BatteryParams, problems: string[]): number | null {
  if (raw === undefined) return null;
  const given = parseStartCharge(raw);
  if (given === null) {
    problems.push(`--soc: expected kWh or a percentage of the capacity such as 50%, got ${JSON.stringify(raw)}`);
    return null;
  }
  if (problems.length > 0) return null;
  const checked = startChargeKwh(given, params, '--soc');
  if ('kwh' in checked) return checked.kwh;
  problems.push(checked.problem);
  return null;
}

const dollars = (cents: number) => money(cents / 100);


export function renderWhatIf(r: WhatIfReport): string {
  const rows: Array<[string, number | null, number | null]> = [
    ['No battery', r.baselineCostCents, null],
    ['Self-consumption', r.selfConsumptionCostCents, r.savingsCents.selfConsumption],
    ['Perfect foresight', r.perfectForesightCostCents, r.savingsCents.perfectForesight],
    ['Forecast-driven', r.forecastDrivenCostCents, r.savingsCents.forecastDriven],
  ];
  const covered = `${(r.forecastDriven.coveredShare * 100).toFixed(1)}%`;
  const minimum = `${Math.round(r.forecastDriven.minimumShare * 100)}%`;
  const lines = [
    `Battery what-if for site ${r.siteId}, ${r.from} to ${r.to} (${r.intervalMinutes}-minute intervals${r.hasFeedIn ? '' : ', no feed-in'})`,
    `Battery: ${describeBattery(r.battery)}, starting at ${r.startSocKwh} kWh`,
    `Intervals: ${r.intervals} scored, ${r.skippedIntervals.total} skipped (${r.skippedIntervals.missingUsage} without usage, ${r.skippedIntervals.missingPrices} without prices)`,
    '',
    `${'Strategy'.padEnd(20)}${'Cost'.padStart(12)}${'Saved'.padStart(12)}`,
    ...rows.map(
      ([name, cost, saved]) =>
        `${name.padEnd(20)}${(cost === null ? 'n/a' : dollars(cost)).padStart(12)}${(saved === null ? '' : dollars(saved)).padStart(12)}${name === 'Forecast-driven' ? `  (forecasts for ${covered})` : ''}`,
    ),
    '',
    r.forecastDriven.coveredIntervals === 0
      ? 'Forecast-driven: no archived forecasts cover this period (the collector archives them as it runs).'
      : r.forecastDriven.withheld
        ? `Forecast-driven: not given: archived forecasts cover only ${covered} of the intervals, and at least ${minimum} are needed (the battery rests in the others). Choose a range the collector was archiving forecasts through.`
        : `Forecast-driven: a forecast was in force for ${covered} of the intervals; the battery rests in the others.`,
    '',
  ];
  return lines.join('\n');
}

export function renderPlan(r: PlanReport): string {
  if (r.intervals.length === 0) {
    return `No archived forecast covers the hours ahead for site ${r.siteId}${r.forecastFetchedAt === null ? '' : ` (latest fetched ${r.forecastFetchedAt})`}: is the collector running?\n`;
  }
  const lines = [
    `Battery plan for site ${r.siteId} from the forecast fetched ${r.forecastFetchedAt}, starting at ${r.startSocKwh} kWh`,
    `Battery: ${describeBattery(r.battery)}`,
    `Expected cost ${dollars(r.expectedCostCents)} against ${dollars(r.noBatteryCostCents)} without a battery: saves ${dollars(r.savingsCents)}`,
    '',
    `${'Start'.padEnd(18)}${'Import c'.padStart(10)}${'Feed-in c'.padStart(10)}  ${'Action'.padEnd(10)}${'kWh'.padStart(8)}${'Grid kWh'.padStart(10)}${'SoC kWh'.padStart(10)}`,
    ...r.intervals.map(
      (i) =>
        `${i.start.slice(0, 16).replace('T', ' ').padEnd(18)}${i.importPrice.toFixed(2).padStart(10)}${i.feedInPrice.toFixed(2).padStart(10)}  ${i.action.padEnd(10)}${(i.action === 'charge' ? i.chargeKwh : i.dischargeKwh).toFixed(3).padStart(8)}${i.gridKwh.toFixed(3).padStart(10)}${i.socKwh.toFixed(2).padStart(10)}`,
    ),
    '',
  ];
  return lines.join('\n');
}
