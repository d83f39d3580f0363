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
import { z } from 'zod';
import { isNemDate, nemToday } from './domain/nem-time.ts';
import { inferAlertFormat } from './alerts/targets.ts';
import type { BatteryParams } from './battery/model.ts';
import { checkBatteryValue } from './battery/params.ts';
import { CollectorError } from './errors.ts';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** A PostgreSQL server to connect to: DATABASE_URL's, or the embedded one once it runs. */
export interface DatabaseConnection {
  /** The connection string without TLS parameters: `ssl` below is what pg uses. */
  url: string;
  ssl: false | { rejectUnauthorized: boolean };
}

/**
 * Where the data lives: the PostgreSQL at DATABASE_URL, or, without one, the embedded PostgreSQL that keeps its
 * cluster in DATA_DIR (src/db/database-server.ts starts it).
 */
export type DatabaseConfig = DatabaseConnection | { url: null; dataDir: string };

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
  log: { level: LogLevel; format: 'json' | 'pretty' };
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
  alerts: AlertConfig;
}

export type AlertFormat = 'json' | 'ntfy' | 'discord' | 'slack';

const ALERT_FORMATS: readonly AlertFormat[] = ['json', 'ntfy', 'discord', 'slack'];

export interface AlertTarget {
  /** The full URL. It usually carries a secret (a token in the path or query): never log it, see describeTarget. */
  url: string;
  format: AlertFormat;
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
 */
export function loadEnvFiles(cwd: string = process.cwd()): void {
  // dotenv keeps the first value it sees for a key, so the file that should win comes first.
  const files = ['.env.local', '.env'].map((name) => join(cwd, name)).filter((path) => existsSync(path));
  if (files.length > 0) dotenv.config({ path: files, quiet: true });
}

/** Reads the process environment (after loading the env files) into a validated `Config`. */
export function readConfig(): Config {
  loadEnvFiles();
  return parseConfig(process.env);
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
  loadEnvFiles();
  return parseDatabaseConfig(process.env);
}

/** `parseConfig` restricted to DATABASE_URL, DATABASE_SSL and DATA_DIR, with the same messages and error. */
export function parseDatabaseConfig(env: Record<string, string | undefined>): DatabaseConfig {
  const schema = envSchema(nemToday(new Date())).pick({ DATABASE_URL: true, DATABASE_SSL: true, DATA_DIR: true });
  return deepFreeze(databaseConfig(validate(schema, env)));
}

/** What `battery` needs: the database (or DATA_DIR's embedded one) and the battery defaults. No API key, no start date. */
export interface BatteryCommandConfig {
  database: Config['database'];
  battery: BatteryParams;
}

/** Loads the env files like `readConfig` and reads the `BatteryCommandConfig` variables. */
export function readBatteryCommandConfig(): BatteryCommandConfig {
  loadEnvFiles();
  return parseBatteryCommandConfig(process.env);
}

/** `parseConfig` restricted to the database and BATTERY_* variables, with the same defaults, messages and error. */
export function parseBatteryCommandConfig(env: Record<string, string | undefined>): BatteryCommandConfig {
  const schema = envSchema(nemToday(new Date())).pick({
    DATABASE_URL: true,
    DATABASE_SSL: true,
    DATA_DIR: true,
    BATTERY_CAPACITY_KWH: true,
    BATTERY_POWER_KW: true,
    BATTERY_EFFICIENCY: true,
    BATTERY_RESERVE: true,
    BATTERY_EXPORT_LIMIT_KW: true,
  });
  const values = validate(schema, env);
  return deepFreeze({ database: databaseConfig(values), battery: batteryConfig(values) });
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
  loadEnvFiles();
  return parseMonitorConfig(process.env);
}

/** `parseConfig` restricted to the `MonitorConfig` variables, with the same defaults, messages and error. */
export function parseMonitorConfig(env: Record<string, string | undefined>): MonitorConfig {
  const schema = envSchema(nemToday(new Date())).pick({
    DATABASE_URL: true,
    DATABASE_SSL: true,
    DATA_DIR: true,
    AMBER_RATE_LIMIT: true,
    AMBER_SITE_IDS: true,
    COLLECTION_INTERVAL_MINUTES: true,
    USAGE_POLL_MINUTES: true,
    PRICE_REVISION_DAYS: true,
    USAGE_REVISION_DAYS: true,
  });
  const values = validate(schema, env);
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

function validate<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
    throw new CollectorError('CONFIG_INVALID', `invalid configuration:\n${problems.join('\n')}`, { details: { problems } });
  }
  return result.data;
}

const DEFAULT_BASE_URL = 'https://api.amber.com.au/v1';
const LOG_LEVEL_ALIASES: Record<string, LogLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'fatal',
  silent: 'silent',
};
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof SSL_MODES)[number];
/** URL parameters that configure TLS. They are removed so pg cannot override the explicit `ssl` object. */
const TLS_URL_PARAMS = ['ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslcrl', 'sslpassword', 'uselibpqcompat'];

function envSchema(today: string) {
  return z.object({
    // Amber API key from app.amber.com.au/developers. Required; never logged.
    AMBER_API_KEY: variable((raw) => raw ?? problem('is required (create one at https://app.amber.com.au/developers)')),
    // Amber API base URL. Default https://api.amber.com.au/v1.
    AMBER_API_BASE_URL: variable((raw) => parseBaseUrl(raw ?? DEFAULT_BASE_URL)),
    // Starting request budget, "<requests>;w=<seconds>" like the RateLimit-Policy header. Default 50;w=300.
    AMBER_RATE_LIMIT: variable((raw) => parseRatePolicy(raw ?? '50;w=300')),
    // Seconds before an Amber request is abandoned, 1..300. Default 30.
    AMBER_REQUEST_TIMEOUT_SECONDS: wholeNumber({ min: 1, max: 300, fallback: 30 }),
    // Comma-separated site ids to collect. Default unset: every site on the account.
    AMBER_SITE_IDS: variable((raw) => parseList(raw)),
    // PostgreSQL connection string (postgres:// or postgresql://). Default unset: the embedded PostgreSQL in DATA_DIR.
    DATABASE_URL: variable((raw) => (raw === undefined ? null : parseDatabaseUrl(raw))),
    // TLS override for hosts whose URL has no sslmode: disable | require | verify. Default unset: follow the URL.
    DATABASE_SSL: variable((raw) => (raw === undefined ? null : oneOf(raw, ['disable', 'require', 'verify'] as const))),
    // Folder of the embedded PostgreSQL used when DATABASE_URL is unset. Default ./data.
    DATA_DIR: variable((raw) => raw ?? 'data'),
    // First NEM day to collect, YYYY-MM-DD, not after today (UTC+10). Required.
    HISTORICAL_START_DATE: variable((raw) => parseStartDate(raw, today)),
    // Minutes between incremental cycles, 1..60. Default 5.
    COLLECTION_INTERVAL_MINUTES: wholeNumber({ min: 1, max: 60, fallback: 5 }),
    // Forget collection progress at start-up and collect everything again (rows are upserted, never deleted). Default false.
    FORCE_REINIT: variable((raw) => parseBoolean(raw ?? 'false')),
    // Trailing NEM days of prices re-fetched every cycle, 0..14. Default 2.
    PRICE_REVISION_DAYS: wholeNumber({ min: 0, max: 14, fallback: 2 }),
    // Trailing NEM days of usage re-fetched (usage is revised after it first appears), 1..60. Default 7.
    USAGE_REVISION_DAYS: wholeNumber({ min: 1, max: 60, fallback: 7 }),
    // Minutes between usage polls once the backfill is done, 5..1440. Default 60.
    USAGE_POLL_MINUTES: wholeNumber({ min: 5, max: 1440, fallback: 60 }),
    // Days of forecast prices kept, >= 1. Default unset: keep everything.
    FORECAST_RETENTION_DAYS: wholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER, fallback: null }),
    // Days after an interval ends before its forecasts are compacted to the vintages at fixed lead times, >= 0;
    // 0 never compacts (like PRICE_REVISION_DAYS=0, zero turns the feature off). Default 7.
    FORECAST_COMPACT_AFTER_DAYS: wholeNumber({ min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 7 }),
    // trace | debug | info | warn (or warning) | error | fatal | silent, any case. Default INFO.
    LOG_LEVEL: variable((raw) => {
      const level = LOG_LEVEL_ALIASES[(raw ?? 'info').toLowerCase()];
      return level ?? problem(`expected one of TRACE, DEBUG, INFO, WARN, WARNING, ERROR, FATAL, SILENT, got ${quote(raw)}`);
    }),
    // json (one object per line, for machines) | pretty (for a terminal). Default json.
    LOG_FORMAT: variable((raw) => oneOf((raw ?? 'json').toLowerCase(), ['json', 'pretty'] as const)),
    // Port of the HTTP server (health, metrics, read API), 0..65535; 0 picks a free port (it is logged). Default 8080.
    HTTP_PORT: wholeNumber({ min: 0, max: 65535, fallback: 8080 }),
    // Port set by hosting platforms such as Railway; wins over HTTP_PORT. Default unset.
    PORT: wholeNumber({ min: 1, max: 65535, fallback: null }),
    // Bearer token required by the read API and dashboard. Default unset: no token needed. Never logged.
    HTTP_API_TOKEN: z
      .string()
      .optional()
      .transform((value, ctx) => {
        // Unlike other variables, a value of only spaces is a mistake, not "unset": it would turn authentication off.
        if (value === undefined || value === '') return null;
        if (value.trim() !== '') return value.trim();
        ctx.addIssue({ code: 'custom', message: 'is only whitespace: set a real token, or leave it empty to need none' });
        return z.NEVER;
      }),
    // Comma-separated host names the read API and dashboard answer without a token, besides IP addresses and
    // localhost (a guard against DNS rebinding). Default unset. Ignored when HTTP_API_TOKEN is set.
    HTTP_ALLOWED_HOSTS: variable((raw) => parseHostList(raw)),
    // Address people open the dashboard at (http:// or https://); alerts link to it. Default unset: no link.
    PUBLIC_URL: variable((raw) => (raw === undefined ? null : parseBaseUrl(raw))),
    // Comma-separated webhook URLs alerts go to; a URL may start with json+, ntfy+, discord+ or slack+ to
    // name its format. Default unset: alerts are off.
    ALERT_WEBHOOK_URL: variable((raw) => parseWebhookUrls(raw)),
    // json | ntfy | discord | slack, for every URL without a prefix. Default unset: discord.com, hooks.slack.com
    // and ntfy.sh get their own format, anything else json.
    ALERT_WEBHOOK_FORMAT: variable((raw) => (raw === undefined ? null : oneOf(raw.toLowerCase(), ALERT_FORMATS))),
    // c/kWh on the general channel above which a run of intervals is an alert. Default unset: off.
    ALERT_PRICE_ABOVE: centsPerKwh(),
    // c/kWh on the general channel below which a run of intervals is an alert (0: negative prices). Default unset: off.
    ALERT_PRICE_BELOW: centsPerKwh(),
    // c/kWh earned by exporting above which a run of intervals is an alert. Default unset: off.
    ALERT_FEED_IN_ABOVE: centsPerKwh(),
    // Amber's own spike flag: potential (potential or spike) | spike | off. Default potential.
    ALERT_SPIKE_STATUS: variable((raw) => {
      const value = oneOf((raw ?? 'potential').toLowerCase(), ['potential', 'spike', 'off'] as const);
      if (value instanceof Problem) return value;
      return value === 'off' ? [] : value === 'spike' ? (['spike'] as const) : (['potential', 'spike'] as const);
    }),
    // Minutes ahead a forecast run is announced, 5..2880. Default 60.
    ALERT_LOOKAHEAD_MINUTES: wholeNumber({ min: 5, max: 2880, fallback: 60 }),
    // Minutes without collected prices before the collector reports itself stale, 5..1440. Default 30.
    ALERT_STALE_MINUTES: wholeNumber({ min: 5, max: 1440, fallback: 30 }),
    // Cycles in a row a stream must fail before it is reported, 1..100. Default 3.
    ALERT_FAILED_CYCLES: wholeNumber({ min: 1, max: 100, fallback: 3 }),
    // HH:MM-HH:MM in NEM time (UTC+10) during which price alerts wait; collector trouble always goes out. Default unset.
    ALERT_QUIET_HOURS: variable((raw) => (raw === undefined ? null : parseQuietHours(raw))),
    // Alerts sent per hour at most (collector trouble is never held back), 1..1000. Default 20.
    ALERT_MAX_PER_HOUR: wholeNumber({ min: 1, max: 1000, fallback: 20 }),
    // Battery what-if and schedule defaults. Usable capacity in kWh, > 0. Default 13.5.
    BATTERY_CAPACITY_KWH: batteryValue('capacityKwh', 13.5),
    // Most charge or discharge power in kW, > 0. Default 5.
    BATTERY_POWER_KW: batteryValue('powerKw', 5),
    // Round-trip efficiency, in (0, 1]. Default 0.9.
    BATTERY_EFFICIENCY: batteryValue('efficiency', 0.9),
    // Share of the capacity never used, in [0, 1). Default 0.1.
    BATTERY_RESERVE: batteryValue('reserve', 0.1),
    // Most kW the battery may add to the export. Default unset: no limit.
    BATTERY_EXPORT_LIMIT_KW: batteryValue('exportLimitKw', null),
  });
}

type Env = z.infer<ReturnType<typeof envSchema>>;

/** Every variable the collector reads, in the order `.env.example` and the README document them. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(envSchema('').shape));

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
    http: { port: env.PORT ?? env.HTTP_PORT, apiToken: env.HTTP_API_TOKEN, allowedHosts: env.HTTP_ALLOWED_HOSTS, publicUrl: env.PUBLIC_URL },
    alerts: alertConfig(env),
    battery: batteryConfig(env),
  };
}

type BatteryEnv = Pick<Env, 'BATTERY_CAPACITY_KWH' | 'BATTERY_POWER_KW' | 'BATTERY_EFFICIENCY' | 'BATTERY_RESERVE' | 'BATTERY_EXPORT_LIMIT_KW'>;

function batteryConfig(env: BatteryEnv): BatteryParams {
  return {
    capacityKwh: env.BATTERY_CAPACITY_KWH,
    powerKw: env.BATTERY_POWER_KW,
    efficiency: env.BATTERY_EFFICIENCY,
    reserve: env.BATTERY_RESERVE,
    exportLimitKw: env.BATTERY_EXPORT_LIMIT_KW,
  };
}

type AlertVariables = Pick<
  Env,
  | 'ALERT_WEBHOOK_URL'
  | 'ALERT_WEBHOOK_FORMAT'
  | 'ALERT_PRICE_ABOVE'
  | 'ALERT_PRICE_BELOW'
  | 'ALERT_FEED_IN_ABOVE'
  | 'ALERT_SPIKE_STATUS'
  | 'ALERT_LOOKAHEAD_MINUTES'
  | 'ALERT_STALE_MINUTES'
  | 'ALERT_FAILED_CYCLES'
  | 'ALERT_QUIET_HOURS'
  | 'ALERT_MAX_PER_HOUR'
>;

/** A URL's own prefix wins, then ALERT_WEBHOOK_FORMAT, then the format its host is known for. */
function alertConfig(env: AlertVariables): AlertConfig {
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
  loadEnvFiles();
  return parseAlertTestConfig(process.env);
}

/** `parseConfig` restricted to the alert variables and PUBLIC_URL, with the same defaults, messages and error. */
function parseAlertTestConfig(env: Record<string, string | undefined>): AlertTestConfig {
  const schema = envSchema(nemToday(new Date())).pick({
    PUBLIC_URL: true,
    ALERT_WEBHOOK_URL: true,
    ALERT_WEBHOOK_FORMAT: true,
    ALERT_PRICE_ABOVE: true,
    ALERT_PRICE_BELOW: true,
    ALERT_FEED_IN_ABOVE: true,
    ALERT_SPIKE_STATUS: true,
    ALERT_LOOKAHEAD_MINUTES: true,
    ALERT_STALE_MINUTES: true,
    ALERT_FAILED_CYCLES: true,
    ALERT_QUIET_HOURS: true,
    ALERT_MAX_PER_HOUR: true,
  });
  const values = validate(schema, env);
  return deepFreeze({ alerts: alertConfig(values), publicUrl: values.PUBLIC_URL });
}

function databaseConfig(env: Pick<Env, 'DATABASE_URL' | 'DATABASE_SSL' | 'DATA_DIR'>): DatabaseConfig {
  if (env.DATABASE_URL === null) return { url: null, dataDir: env.DATA_DIR };
  return { url: env.DATABASE_URL.url, ssl: sslFor(env.DATABASE_SSL ?? env.DATABASE_URL.sslMode) };
}

/**
 * libpq semantics, which node-postgres 8 does not follow (it treats `require` as verify-full, so a
 * self-signed hosted Postgres such as Railway's fails). No sslmode at all means plain TCP: pg cannot
 * fall back from TLS the way libpq's default `prefer` does, and local and compose databases have no TLS.
 */
function sslFor(mode: SslMode | 'verify' | null): DatabaseConnection['ssl'] {
  switch (mode) {
    case null:
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify':
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}

// ---------------------------------------------------------------------------------------------------
// Field parsers. Each gets the trimmed value (undefined when unset or blank, so `FOO=` in a .env file
// means "use the default") and returns the typed value or a Problem saying what was expected.

class Problem {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

function problem(message: string): Problem {
  return new Problem(message);
}

function variable<T>(parse: (raw: string | undefined) => T | Problem) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      const trimmed = value?.trim();
      const result = parse(trimmed === '' ? undefined : trimmed);
      if (result instanceof Problem) {
        ctx.addIssue({ code: 'custom', message: result.message });
        return z.NEVER;
      }
      return result;
    });
}

function wholeNumber<F extends number | null>(options: { min: number; max: number; fallback: F }) {
  const { min, max, fallback } = options;
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return variable((raw): number | F | Problem => {
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    return value >= min && value <= max ? value : problem(`expected a whole number ${range}, got ${quote(raw)}`);
  });
}

function batteryValue<F extends number | null>(field: keyof BatteryParams, fallback: F) {
  return variable((raw): number | F | Problem => {
    if (raw === undefined) return fallback;
    const checked = checkBatteryValue(field, raw);
    return 'value' in checked ? checked.value : problem(checked.problem);
  });
}

function oneOf<const T extends string>(raw: string, allowed: readonly T[]): T | Problem {
  return (allowed as readonly string[]).includes(raw)
    ? (raw as T)
    : problem(`expected one of ${allowed.join(', ')}, got ${quote(raw)}`);
}

function parseBoolean(raw: string): boolean | Problem {
  const value = raw.toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  return problem(`expected true, false, 1, 0, yes or no, got ${quote(raw)}`);
}

function parseList(raw: string | undefined): string[] | null {
  const items = [...new Set((raw ?? '').split(',').map((item) => item.trim()).filter((item) => item !== ''))];
  return items.length > 0 ? items : null;
}

/** A price in c/kWh such as `30`, `-5` or `12.5`; unset turns the rule off. */
function centsPerKwh() {
  return variable((raw): number | null | Problem => {
    if (raw === undefined) return null;
    const value = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    return Math.abs(value) <= 100_000 ? value : problem(`expected a price in c/kWh such as 30, -5 or 12.5, got ${quote(raw)}`);
  });
}

/**
 * Never echoes a URL: webhook URLs carry their secret in the path or query. Problems name the target by
 * its position instead.
 */
function parseWebhookUrls(raw: string | undefined): Array<{ url: string; format: AlertFormat | null }> | Problem {
  const items = (raw ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  const targets: Array<{ url: string; format: AlertFormat | null }> = [];
  const problems: string[] = [];
  items.forEach((item, index) => {
    const prefixed = /^([a-z]+)\+(.*)$/i.exec(item);
    const prefix = prefixed?.[1]?.toLowerCase();
    const url = prefixed ? (prefixed[2] ?? '') : item;
    const parsed = URL.canParse(url) ? new URL(url) : null;
    if (prefix !== undefined && !(ALERT_FORMATS as readonly string[]).includes(prefix)) {
      problems.push(`URL ${index + 1} has the unknown format prefix ${quote(prefix)} (expected ${ALERT_FORMATS.map((f) => `${f}+`).join(', ')})`);
    } else if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      problems.push(`URL ${index + 1} is not an http:// or https:// URL (the value is not shown: webhook URLs carry secrets)`);
    } else {
      targets.push({ url, format: (prefix as AlertFormat | undefined) ?? null });
    }
  });
  return problems.length > 0 ? problem(problems.join('; ')) : targets;
}

/** `22:00-07:00`: from 22:00 to 07:00 NEM time; the end is exclusive and may be before the start (past midnight). */
function parseQuietHours(raw: string): { from: number; to: number } | Problem {
  const match = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(raw);
  const [fromHour, fromMinute, toHour, toMinute] = (match?.slice(1) ?? []).map(Number);
  const minutes = (h: number | undefined, m: number | undefined) => (h !== undefined && m !== undefined && h <= 23 && m <= 59 ? h * 60 + m : NaN);
  const from = minutes(fromHour, fromMinute);
  const to = minutes(toHour, toMinute);
  if (Number.isNaN(from) || Number.isNaN(to) || from === to) {
    return problem(`expected two different times of day in NEM time, HH:MM-HH:MM such as 22:00-07:00, got ${quote(raw)}`);
  }
  return { from, to };
}

/** The API key goes in a header; credentials in the URL would end up in logs and error texts, so they are refused. */
function parseBaseUrl(raw: string): string | Problem {
  const url = URL.parse(raw);
  // A value with an @ may hold credentials: it is not echoed.
  const shown = raw.includes('@') ? ' (the value is not shown: it may contain credentials)' : `, got ${quote(raw)}`;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return problem(`expected an http:// or https:// URL${shown}`);
  }
  if (url.username !== '' || url.password !== '') {
    return problem('must not contain a user name or password (the value is not shown); the API key goes in AMBER_API_KEY');
  }
  return raw.replace(/\/+$/, '');
}

/** Host names, lower case, without ports; a value that is not a plain host name is a problem. */
function parseHostList(raw: string | undefined): string[] | Problem {
  const hosts = parseList(raw?.toLowerCase()) ?? [];
  const bad = hosts.filter((host) => !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(host));
  return bad.length > 0 ? problem(`expected host names such as collector.example.com (no scheme, port or path), got ${bad.map(quote).join(', ')}`) : hosts;
}

/** The RateLimit-Policy header syntax the API sends, e.g. `50;w=300`. */
function parseRatePolicy(raw: string): Config['amber']['rateLimit'] | Problem {
  const match = /^(\d+)\s*;\s*w\s*=\s*(\d+)$/.exec(raw);
  const limit = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!(limit >= 1 && windowSeconds >= 1)) {
    return problem(`expected "<requests>;w=<seconds>" with both at least 1, e.g. "50;w=300", got ${quote(raw)}`);
  }
  return { limit, windowSeconds };
}

/** Never echoes the value: it carries the database password. */
function parseDatabaseUrl(raw: string): { url: string; sslMode: SslMode | null } | Problem {
  const url = URL.parse(raw);
  if (url === null || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    return problem('expected a postgres:// or postgresql:// URL (the value is not shown: it may contain a password)');
  }
  // pg decodes these parts itself and throws a bare URIError on a stray `%`.
  const undecodable = (['username', 'password', 'pathname'] as const).filter((part) => !decodes(url[part]));
  if (undecodable.length > 0) {
    const names = undecodable.map((part) => ({ username: 'user name', password: 'password', pathname: 'database name' })[part]);
    return problem(`the ${names.join(' and ')} contain${names.length === 1 ? 's' : ''} a % that does not start a valid escape such as %25 (the value is not shown: it may contain a password)`);
  }
  const sslMode = sslModeOf(url.searchParams);
  if (sslMode instanceof Problem) return sslMode;
  for (const param of TLS_URL_PARAMS) url.searchParams.delete(param);
  return { url: url.toString(), sslMode };
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

function sslModeOf(params: URLSearchParams): SslMode | null | Problem {
  const mode = params.get('sslmode');
  if (mode !== null) {
    return (SSL_MODES as readonly string[]).includes(mode)
      ? (mode as SslMode)
      : problem(`sslmode must be one of ${SSL_MODES.join(', ')}, got ${quote(mode)}`);
  }
  // pg's own `ssl=true` spelling means "TLS with verification"; keep that meaning.
  const ssl = params.get('ssl');
  if (ssl === null) return null;
  return ['true', '1'].includes(ssl) ? 'verify-full' : 'disable';
}

function parseStartDate(raw: string | undefined, today: string): string | Problem {
  if (raw === undefined) return problem('is required: the first day to collect, as YYYY-MM-DD');
  if (!isNemDate(raw)) return problem(`expected a date as YYYY-MM-DD, got ${quote(raw)}`);
  if (raw > today) return problem(`must not be after today's NEM date ${today}, got ${quote(raw)}`);
  return raw;
}

function quote(raw: string | undefined): string {
  if (raw === undefined) return 'nothing';
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
