/**
 * Configuration from environment variables. This is the only module in `src/` that reads `process.env`;
 * everything else receives the typed, frozen `Config` it returns.
 *
 * Every variable is validated at once and every problem is reported together, each line starting with
 * the variable's name, so a person fixing a `.env` file sees all mistakes in one run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import type { z } from 'zod';
import { inferAlertFormat, type AlertTarget } from '../domain/alert-formats.ts';
import type { BatteryParams } from '../domain/battery-limits.ts';
import { databaseConfig, type DatabaseConfig } from './database.ts';
import type { FixedCharges } from '../domain/fixed-charges.ts';
import { loadFixedCharges } from './fixed-charges-file.ts';
import { homeAssistantConfig, type HomeAssistantConfig } from './home-assistant-settings.ts';
import { mqttConfig, type MqttConfig } from './mqtt-settings.ts';
import { CONFIG_VARIABLES, envSchema, PAIRED_VARIABLES, type Env, type LogLevel } from './variables.ts';
import { nemToday } from '../domain/nem-time.ts';
import { CollectorError, isCollectorError } from '../errors.ts';

export interface Config {
  amber: {
    apiKey: string;
    baseUrl: string;
    /** The starting request budget; the client adopts the server's RateLimit-Policy once it sees one. */
    rateLimit: { limit: number; windowSeconds: number };
    requestTimeoutMs: number;
    /** Only these sites are collected; null means every site on the account. */
    siteIds: string[] | null;
  };
  database: DatabaseConfig;
  collection: {
    historicalStartDate: string;
    intervalMinutes: number;
    forceReinit: boolean;
    priceRevisionDays: number;
    usageRevisionDays: number;
    usagePollMinutes: number;
    /** null keeps every forecast. */
    forecastRetentionDays: number | null;
    /** Forecasts of intervals that ended this many days ago are compacted; null (FORECAST_COMPACT_AFTER_DAYS=0) never. */
    forecastCompactAfterDays: number | null;
  };
  /** `auto`: pretty when stdout is a terminal, JSON otherwise (src/logger.ts decides). */
  log: { level: LogLevel; format: 'auto' | 'json' | 'pretty' };
  /** The daemon's daily backup: off when `dir` is null. */
  backup: { dir: string | null; keep: number };
  http: {
    port: number;
    apiToken: string | null;
    /** Host names (besides IP literals and localhost) the read API answers when no token is set. */
    allowedHosts: string[];
    /** Where people reach the dashboard (alerts link to it); null when unset. */
    publicUrl: string | null;
  };
  /** Defaults of the battery what-if and schedule (each request may override them). */
  battery: BatteryParams;
  /** The plans file of `compare` and /api/compare; null when COMPARE_PLANS_FILE is unset. */
  comparePlansFile: string | null;
  alerts: AlertConfig;
  /** The live MQTT feed; null when MQTT_URL is unset. */
  mqtt: MqttConfig | null;
  /** Long-term statistics in Home Assistant; null when HOME_ASSISTANT_URL and _TOKEN are unset. */
  homeAssistant: HomeAssistantConfig | null;
  /** FIXED_CHARGES_FILE, read with loadFixedCharges; null when unset (money is energy only). */
  fixedChargesFile: string | null;
}

export interface AlertConfig {
  /** Empty: alerts are off. */
  targets: AlertTarget[];
  /** c/kWh on the general channel; null: that rule is off. */
  priceAbove: number | null;
  priceBelow: number | null;
  /** c/kWh earned by exporting (the feed-in price with the customer's sign); null: off. */
  feedInAbove: number | null;
  /** Amber's spikeStatus values that make an event; empty: off. */
  spikeStatuses: Array<'potential' | 'spike'>;
  lookaheadMinutes: number;
  staleMinutes: number;
  failedCycles: number;
  /** Minutes after NEM midnight, [from, to); to < from wraps past midnight. Null: no quiet hours. */
  quietHours: { from: number; to: number } | null;
  maxPerHour: number;
}

/**
 * Loads `.env` and then `.env.local` from `cwd` when they exist; `.env.local` wins over `.env`, and
 * variables already in the real environment win over both. Prints nothing: stdout carries NDJSON logs.
 * Returns the files it loaded.
 */
export function loadEnvFiles(cwd: string = process.cwd()): string[] {
  // dotenv keeps the first value it sees for a key, so the file that should win comes first.
  const files = ['.env.local', '.env'].map((name) => join(cwd, name)).filter((path) => existsSync(path));
  if (files.length > 0) dotenv.config({ path: files, quiet: true });
  return files;
}

/** The env files loaded into the process environment, once per process; null before the first read. */
let envFilesLoaded: string[] | null = null;

/** The process environment with the env files loaded into it, once per process: the one place it is read. */
function environment(): Record<string, string | undefined> {
  envFilesLoaded ??= loadEnvFiles();
  return process.env;
}

type Variable = keyof Env;

/** The variables whose names start with `prefix`, from the variable table itself, so each name is written once. */
function variablesStartingWith<P extends string>(prefix: P): Array<Extract<Variable, `${P}${string}`>> {
  return CONFIG_VARIABLES.filter((name) => name.startsWith(prefix)) as Array<Extract<Variable, `${P}${string}`>>;
}

/**
 * The variables each section of the configuration is read from. A command that needs less than the whole
 * `Config` reads the union of its sections, so it never demands AMBER_API_KEY or HISTORICAL_START_DATE it
 * has no use for, and a variable added to a section reaches every command that reads it.
 */
const SECTION_VARIABLES = {
  database: ['DATABASE_URL', 'DATABASE_SSL', 'DATA_DIR'],
  rateBudget: ['AMBER_RATE_LIMIT', 'AMBER_SITE_IDS'],
  cadence: ['COLLECTION_INTERVAL_MINUTES', 'USAGE_POLL_MINUTES', 'PRICE_REVISION_DAYS', 'USAGE_REVISION_DAYS'],
  battery: variablesStartingWith('BATTERY_'),
  compare: ['COMPARE_PLANS_FILE'],
  alerts: variablesStartingWith('ALERT_'),
  publicUrl: ['PUBLIC_URL'],
  homeAssistant: ['HOME_ASSISTANT_URL', 'HOME_ASSISTANT_TOKEN'],
  log: ['LOG_LEVEL', 'LOG_FORMAT'],
  bill: ['FIXED_CHARGES_FILE'],
} as const satisfies Record<string, readonly Variable[]>;

type Section = keyof typeof SECTION_VARIABLES;
type SectionValues<S extends Section> = Pick<Env, (typeof SECTION_VARIABLES)[S][number]>;

/** `parseConfig` restricted to the variables of `sections`, with the same defaults, messages and error. */
function parseSections<S extends Section>(sections: readonly S[], env: Record<string, string | undefined>): SectionValues<S> {
  const mask = Object.fromEntries(sections.flatMap((section) => SECTION_VARIABLES[section]).map((name) => [name, true]));
  return validate(envSchema(nemToday(new Date())).pick(mask as Record<Variable, true>), env) as SectionValues<S>;
}

/**
 * Reads the process environment (after loading the env files) into a validated `Config`. When required
 * settings are missing and there is no `.env` at all, the first problem says so and how to make one.
 */
export function readConfig(): Config {
  const env = environment();
  try {
    return parseConfig(env);
  } catch (err) {
    const problems = isCollectorError(err, 'CONFIG_INVALID') ? (err.details.problems ?? []) : [];
    if ((envFilesLoaded ?? []).length > 0 || !problems.some((p) => /^(AMBER_API_KEY|HISTORICAL_START_DATE): is required/.test(p))) throw err;
    const missing = `no .env file in ${process.cwd()}: run \`cp .env.example .env\`, then set AMBER_API_KEY and HISTORICAL_START_DATE in it`;
    const all = [missing, ...problems];
    throw new CollectorError('CONFIG_INVALID', `invalid configuration:\n${all.join('\n')}`, { details: { problems: all } });
  }
}

/**
 * LOG_LEVEL and LOG_FORMAT alone, for reporting a configuration that failed to load: their defaults when they
 * are themselves wrong (that mistake is in the report).
 */
export function readLogConfig(): Config['log'] {
  try {
    const values = parseSections(['log'], environment());
    return { level: values.LOG_LEVEL, format: values.LOG_FORMAT };
  } catch {
    return { level: 'info', format: 'auto' };
  }
}

/**
 * Validates `env` into a deeply frozen `Config`. Pure: `now` only decides which day is "today" for
 * HISTORICAL_START_DATE. Throws `CollectorError('CONFIG_INVALID')` listing every problem.
 */
export function parseConfig(env: Record<string, string | undefined>, now: Date = new Date()): Config {
  return deepFreeze(toConfig(validate(envSchema(nemToday(now)), env)));
}

/**
 * Only the database settings, for commands that read the database and never call Amber (`query`): they
 * must not demand AMBER_API_KEY or HISTORICAL_START_DATE. Loads the env files like `readConfig`.
 */
export function readDatabaseConfig(): DatabaseConfig {
  return parseDatabaseConfig(environment());
}

/** `parseConfig` restricted to DATABASE_URL, DATABASE_SSL and DATA_DIR, with the same messages and error. */
export function parseDatabaseConfig(env: Record<string, string | undefined>): DatabaseConfig {
  return deepFreeze(databaseConfig(parseSections(['database'], env)));
}

/** What `battery` needs: the database (or DATA_DIR's embedded one) and the battery defaults. No API key, no start date. */
export interface BatteryCommandConfig {
  database: Config['database'];
  battery: BatteryParams;
}

/** What `compare` needs: the database, the battery defaults (for --battery), COMPARE_PLANS_FILE and Amber's fixed charges. */
export interface CompareCommandConfig extends BatteryCommandConfig {
  comparePlansFile: string | null;
  fixedCharges: FixedCharges | null;
}

/** Loads the env files like `readConfig`, reads the `CompareCommandConfig` variables and FIXED_CHARGES_FILE's file. */
export function readCompareCommandConfig(): CompareCommandConfig {
  const values = parseSections(['database', 'battery', 'compare', 'bill'], environment());
  return {
    ...deepFreeze({ database: databaseConfig(values), battery: batteryConfig(values), comparePlansFile: values.COMPARE_PLANS_FILE }),
    fixedCharges: loadFixedCharges(values.FIXED_CHARGES_FILE),
  };
}

/** Loads the env files like `readConfig` and reads the `BatteryCommandConfig` variables. */
export function readBatteryCommandConfig(): BatteryCommandConfig {
  return parseBatteryCommandConfig(environment());
}

/** `parseConfig` restricted to the database and BATTERY_* variables, with the same defaults, messages and error. */
function parseBatteryCommandConfig(env: Record<string, string | undefined>): BatteryCommandConfig {
  const values = parseSections(['database', 'battery'], env);
  return deepFreeze({ database: databaseConfig(values), battery: batteryConfig(values) });
}

/** What `bill` needs: the database and the fixed charges, read and checked (null without FIXED_CHARGES_FILE). */
export interface BillCommandConfig {
  database: DatabaseConfig;
  fixedCharges: FixedCharges | null;
}

/** Loads the env files like `readConfig`, reads the database variables and FIXED_CHARGES_FILE, and reads that file. */
export function readBillCommandConfig(): BillCommandConfig {
  const values = parseSections(['database', 'bill'], environment());
  return { database: deepFreeze(databaseConfig(values)), fixedCharges: loadFixedCharges(values.FIXED_CHARGES_FILE) };
}

/**
 * What `status` and `backfill` need when they do not call Amber themselves: the database, the rate budget
 * (for ETAs), the cycle cadences (for staleness) and the site filter. No API key, no start date.
 */
export interface MonitorConfig {
  database: DatabaseConfig;
  amber: Pick<Config['amber'], 'rateLimit' | 'siteIds'>;
  collection: Pick<Config['collection'], 'intervalMinutes' | 'usagePollMinutes' | 'priceRevisionDays' | 'usageRevisionDays'>;
}

/** Loads the env files like `readConfig` and reads the `MonitorConfig` variables. */
export function readMonitorConfig(): MonitorConfig {
  return parseMonitorConfig(environment());
}

/** `parseConfig` restricted to the `MonitorConfig` variables, with the same defaults, messages and error. */
export function parseMonitorConfig(env: Record<string, string | undefined>): MonitorConfig {
  const values = parseSections(['database', 'rateBudget', 'cadence'], env);
  return deepFreeze({
    database: databaseConfig(values),
    amber: { rateLimit: values.AMBER_RATE_LIMIT, siteIds: values.AMBER_SITE_IDS },
    collection: {
      intervalMinutes: values.COLLECTION_INTERVAL_MINUTES,
      usagePollMinutes: values.USAGE_POLL_MINUTES,
      priceRevisionDays: values.PRICE_REVISION_DAYS,
      usageRevisionDays: values.USAGE_REVISION_DAYS,
    },
  });
}

/** What `home-assistant sync` and `check` need: the database, the site filter and Home Assistant. No API key. */
export interface HomeAssistantCommandConfig {
  database: DatabaseConfig;
  siteIds: string[] | null;
  homeAssistant: HomeAssistantConfig | null;
}

/** Loads the env files like `readConfig` and reads the `HomeAssistantCommandConfig` variables. */
export function readHomeAssistantCommandConfig(): HomeAssistantCommandConfig {
  const values = parseSections(['database', 'rateBudget', 'homeAssistant'], environment());
  return deepFreeze({ database: databaseConfig(values), siteIds: values.AMBER_SITE_IDS, homeAssistant: homeAssistantConfig(values) });
}

function validate<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const result = schema.safeParse(env);
  const isSet = (name: string) => (env[name]?.trim() ?? '') !== '';
  // A pair member that is itself wrong is reported as such; its partner is not also blamed for it.
  const wrong = new Set(result.success ? [] : result.error.issues.map((issue) => String(issue.path[0])));
  const unpaired = PAIRED_VARIABLES.filter(([a, b]) => a in schema.shape && b in schema.shape && isSet(a) !== isSet(b) && !wrong.has(a) && !wrong.has(b)).map(([a, b]) => {
    const [missing, present] = isSet(a) ? [b, a] : [a, b];
    return `${missing}: is required when ${present} is set (set both, or neither to leave the feature off)`;
  });
  if (!result.success || unpaired.length > 0) {
    const problems = [...(result.success ? [] : result.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`)), ...unpaired];
    throw new CollectorError('CONFIG_INVALID', `invalid configuration:\n${problems.join('\n')}`, { details: { problems } });
  }
  return result.data;
}

function toConfig(env: Env): Config {
  return {
    amber: {
      apiKey: env.AMBER_API_KEY,
      baseUrl: env.AMBER_API_BASE_URL,
      rateLimit: env.AMBER_RATE_LIMIT,
      requestTimeoutMs: env.AMBER_REQUEST_TIMEOUT_SECONDS * 1000,
      siteIds: env.AMBER_SITE_IDS,
    },
    database: databaseConfig(env),
    collection: {
      historicalStartDate: env.HISTORICAL_START_DATE,
      intervalMinutes: env.COLLECTION_INTERVAL_MINUTES,
      forceReinit: env.FORCE_REINIT,
      priceRevisionDays: env.PRICE_REVISION_DAYS,
      usageRevisionDays: env.USAGE_REVISION_DAYS,
      usagePollMinutes: env.USAGE_POLL_MINUTES,
      forecastRetentionDays: env.FORECAST_RETENTION_DAYS,
      forecastCompactAfterDays: env.FORECAST_COMPACT_AFTER_DAYS === 0 ? null : env.FORECAST_COMPACT_AFTER_DAYS,
    },
    log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT },
    backup: { dir: env.BACKUP_DIR, keep: env.BACKUP_KEEP },
    http: { port: env.PORT ?? env.HTTP_PORT, apiToken: env.HTTP_API_TOKEN, allowedHosts: env.HTTP_ALLOWED_HOSTS, publicUrl: env.PUBLIC_URL },
    alerts: alertConfig(env),
    battery: batteryConfig(env),
    comparePlansFile: env.COMPARE_PLANS_FILE,
    mqtt: mqttConfig(env),
    homeAssistant: homeAssistantConfig(env),
    fixedChargesFile: env.FIXED_CHARGES_FILE,
  };
}

function batteryConfig(env: SectionValues<'battery'>): BatteryParams {
  return {
    capacityKwh: env.BATTERY_CAPACITY_KWH,
    chargeKw: env.BATTERY_CHARGE_KW ?? env.BATTERY_POWER_KW,
    dischargeKw: env.BATTERY_DISCHARGE_KW ?? env.BATTERY_POWER_KW,
    efficiency: env.BATTERY_EFFICIENCY,
    reserve: env.BATTERY_RESERVE,
    exportLimitKw: env.BATTERY_EXPORT_LIMIT_KW,
  };
}

/** A URL's own prefix wins, then ALERT_WEBHOOK_FORMAT, then the format its host is known for. */
function alertConfig(env: SectionValues<'alerts'>): AlertConfig {
  return {
    targets: env.ALERT_WEBHOOK_URL.map(({ url, format }) => ({ url, format: format ?? env.ALERT_WEBHOOK_FORMAT ?? inferAlertFormat(url) })),
    priceAbove: env.ALERT_PRICE_ABOVE,
    priceBelow: env.ALERT_PRICE_BELOW,
    feedInAbove: env.ALERT_FEED_IN_ABOVE,
    spikeStatuses: [...env.ALERT_SPIKE_STATUS],
    lookaheadMinutes: env.ALERT_LOOKAHEAD_MINUTES,
    staleMinutes: env.ALERT_STALE_MINUTES,
    failedCycles: env.ALERT_FAILED_CYCLES,
    quietHours: env.ALERT_QUIET_HOURS,
    maxPerHour: env.ALERT_MAX_PER_HOUR,
  };
}

/** The variables `amber-collector alerts test` reads: the targets and the dashboard link, nothing else. */
interface AlertTestConfig {
  alerts: AlertConfig;
  publicUrl: string | null;
}

/** Loads the env files like `readConfig` and reads the alert variables and PUBLIC_URL. */
export function readAlertTestConfig(): AlertTestConfig {
  return parseAlertTestConfig(environment());
}

/** `parseConfig` restricted to the alert variables and PUBLIC_URL, with the same defaults, messages and error. */
function parseAlertTestConfig(env: Record<string, string | undefined>): AlertTestConfig {
  const values = parseSections(['alerts', 'publicUrl'], env);
  return deepFreeze({ alerts: alertConfig(values), publicUrl: values.PUBLIC_URL });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
