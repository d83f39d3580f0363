/**
 * Scenario 8: every configuration variable given a bad value. The process must exit non-zero with a
 * message naming the variable, before it touches anything: the database stays empty and the fake Amber
 * server sees no request.
 */
import { CONFIG_VARIABLES } from '../../../src/config/variables.ts';
import { exitMessage, startCollectorProcess, type LogLine } from '../child-rig.ts';
import type { Scenario, Size, Trial, TrialResult } from '../trial.ts';
import { createWorld, type World } from '../world.ts';

/**
 * Bad values per variable, the most plausible mistake first. A variable for which every value is valid
 * says why instead; a variable missing from this table fails the scenario, so new ones get a row.
 */
const BAD_VALUES: Readonly<Record<string, readonly string[] | { noBadValue: string }>> = {
  AMBER_API_KEY: ['   '],
  AMBER_API_BASE_URL: ['ftp://api.amber.com.au/v1', 'api.amber.com.au', 'https://user:secret@api.amber.com.au/v1'],
  AMBER_RATE_LIMIT: ['50/300', '0;w=300'],
  AMBER_REQUEST_TIMEOUT_SECONDS: ['0', '30s'],
  AMBER_SITE_IDS: { noBadValue: 'any comma-separated list is a valid filter (unknown ids are warned about at run time)' },
  DATABASE_URL: ['mysql://root@localhost/amber', 'postgres://user@host/db?sslmode=sometimes', 'postgres://user:50%off@host/db'],
  DATABASE_SSL: ['sometimes', 'true'],
  DATA_DIR: { noBadValue: 'any path is a valid folder name; one that cannot be created is reported when the embedded PostgreSQL starts' },
  BACKUP_DIR: { noBadValue: 'any path is a valid folder name; one that cannot be written is reported by the daily backup' },
  BACKUP_KEEP: ['0', 'seven'],
  FIXED_CHARGES_FILE: { noBadValue: 'any path is a valid file name; the file itself is read and checked after the settings, naming the file, site and field (test/bill)' },
  COMPARE_PLANS_FILE: { noBadValue: 'any path is a valid file name; the plans file is read and checked when compared, naming the file, plan and field (test/plans)' },
  HISTORICAL_START_DATE: ['2024-02-30', '01/02/2024'],
  COLLECTION_INTERVAL_MINUTES: ['0', '5.5'],
  FORCE_REINIT: ['maybe'],
  PRICE_REVISION_DAYS: ['15', '-1'],
  USAGE_REVISION_DAYS: ['0', 'seven'],
  USAGE_POLL_MINUTES: ['1', '99999'],
  FORECAST_RETENTION_DAYS: ['0', '1e3'],
  FORECAST_COMPACT_AFTER_DAYS: ['-1', '7d'],
  LOG_LEVEL: ['chatty', 'verbose'],
  LOG_FORMAT: ['xml'],
  HTTP_PORT: ['70000', 'http'],
  PORT: ['eighty', '-8080'],
  HTTP_API_TOKEN: ['   '],
  HTTP_ALLOWED_HOSTS: ['http://collector.example.com:8080'],
  PUBLIC_URL: ['amber.example.net'],
  ALERT_WEBHOOK_URL: ['ntfy.sh/mytopic', 'teams+https://example.com/hook'],
  ALERT_WEBHOOK_FORMAT: ['teams'],
  ALERT_PRICE_ABOVE: ['30c', 'high'],
  ALERT_PRICE_BELOW: ['zero'],
  ALERT_FEED_IN_ABOVE: ['1e3'],
  ALERT_SPIKE_STATUS: ['always'],
  ALERT_LOOKAHEAD_MINUTES: ['0', '60m'],
  ALERT_STALE_MINUTES: ['2'],
  ALERT_FAILED_CYCLES: ['0'],
  ALERT_QUIET_HOURS: ['22-7', '22:00-22:00'],
  ALERT_MAX_PER_HOUR: ['0', 'unlimited'],
  BATTERY_CAPACITY_KWH: ['0', '13.5kWh'],
  BATTERY_POWER_KW: ['-5', 'five'],
  BATTERY_CHARGE_KW: ['-3', 'three'],
  BATTERY_DISCHARGE_KW: ['-5', '5kW'],
  BATTERY_EFFICIENCY: ['1.1', '90%'],
  BATTERY_RESERVE: ['1', '-0.1'],
  BATTERY_EXPORT_LIMIT_KW: ['-1', '5kW'],
  MQTT_URL: ['http://broker.local:1883', 'mqtt://ha:secret@broker.local'],
  MQTT_USERNAME: { noBadValue: 'any text is a user name; a refused login is reported by the MQTT connection' },
  MQTT_PASSWORD: { noBadValue: 'any text is a password; a refused login is reported by the MQTT connection' },
  MQTT_TOPIC_PREFIX: ['amber/#', 'amber//prices'],
  MQTT_DISCOVERY_PREFIX: ['home assistant'],
  HOME_ASSISTANT_URL: ['ws://homeassistant.local:8123', 'homeassistant.local'],
  HOME_ASSISTANT_TOKEN: { noBadValue: 'any text is a token (Home Assistant judges it at start); alone, it names HOME_ASSISTANT_URL as missing' },
};

const isFatal = (line: LogLine): boolean => line['fatal'] === true;

/** What must hold for one refused start; empty when it did. */
async function refusedStart(world: World, overrides: Record<string, string>, named: readonly string[]): Promise<{ problems: string[]; silent: boolean; exitCode: number | null }> {
  const proc = await startCollectorProcess(world.env(overrides));
  const exit = await proc.exited;
  const problems: string[] = [];
  const what = Object.entries(overrides)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(' ');
  const fatal = proc.lines.find(isFatal);
  const listed = (fatal?.['problems'] ?? []) as string[];
  if (exit.code === 0 || exit.code === null) problems.push(`${what}: exit ${exit.code ?? exit.signal}, expected non-zero`);
  for (const name of named) {
    if (!listed.some((p) => p.startsWith(`${name}:`))) problems.push(`${what}: the fatal line does not name ${name} (${JSON.stringify(listed)})`);
  }
  // "no .env file …: cp .env.example .env" is a hint that comes with missing settings, not a blame.
  const others = listed.filter((p) => !named.some((name) => p.startsWith(`${name}:`)) && !p.startsWith('no .env file'));
  if (others.length > 0) problems.push(`${what}: also blamed ${others.join('; ')}`);
  if (proc.lines.some((line) => line['level'] === 'invalid')) problems.push(`${what}: stdout is not all NDJSON`);
  if (proc.stderr().trim() !== '') problems.push(`${what}: wrote to stderr: ${proc.stderr().slice(0, 200)}`);
  return { problems, silent: exitMessage(proc) === null, exitCode: exit.code };
}

/** Nothing in the database, nothing asked of Amber. */
async function untouched(world: World): Promise<string[]> {
  const problems: string[] = [];
  const tables = await world.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
  if (tables.rows[0]!.n > 0) problems.push(`the database gained ${tables.rows[0]!.n} tables`);
  if (world.fake.requests.length > 0) problems.push(`the fake saw ${world.fake.requests.length} requests`);
  return problems;
}

function configTrial(label: string, runs: ReadonlyArray<{ overrides: Record<string, string>; named: string[] }>): Trial {
  return {
    label,
    run: async (): Promise<TrialResult> => {
      // An empty database (no migrations): any write at all would show as a table.
      const world = await createWorld({ days: 7, migrated: false });
      try {
        const problems: string[] = [];
        let unexpectedExits = 0;
        let silent = 0;
        // Two at a time: each is a node start-up, and the machine has two cores.
        for (let i = 0; i < runs.length; i += 2) {
          const results = await Promise.all(runs.slice(i, i + 2).map((r) => refusedStart(world, r.overrides, r.named)));
          for (const result of results) {
            problems.push(...result.problems);
            // A refusal is the expected exit; a crash is anything else (0, a signal, or 75).
            if (result.exitCode !== 1) unexpectedExits += 1;
            if (result.exitCode !== 1 && result.silent) silent += 1;
          }
        }
        problems.push(...(await untouched(world)));
        return {
          outcome: { checked: 0, lost: 0, duplicated: 0, wrong: 0, unexpectedExits, crashesWithoutMessage: silent, recoveryMs: null, notes: [] },
          problems,
          expectsRecovery: false,
        };
      } finally {
        await world.close();
      }
    },
  };
}

/** Variables the table does not cover: a new variable must get bad values (or a reason) here. */
export function uncoveredVariables(): string[] {
  return CONFIG_VARIABLES.filter((name) => !(name in BAD_VALUES));
}

export const configuration: Scenario = {
  name: '8 bad configuration',
  trials(size: Size): Trial[] {
    const testable = Object.entries(BAD_VALUES).flatMap(([name, values]) => (Array.isArray(values) ? [{ name, values: values as string[] }] : []));
    if (size === 'short') {
      // One process with every variable wrong at once: every one must be named.
      const overrides = Object.fromEntries(testable.map(({ name, values }) => [name, values[0]!]));
      return [configTrial(`all ${testable.length} testable variables wrong at once`, [{ overrides, named: testable.map((t) => t.name) }])];
    }
    return testable.map(({ name, values }) =>
      configTrial(`${name} = ${values.map((v) => JSON.stringify(v)).join(' or ')}`, values.map((value) => ({ overrides: { [name]: value }, named: [name] }))),
    );
  },
};
