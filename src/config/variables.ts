/**
 * Every environment variable the collector reads, with its default and its rule, in the order `.env.example`
 * and the README document them. config.ts turns the parsed values into the `Config` the rest of the code
 * sees.
 */
import { z } from 'zod';
import { ALERT_FORMATS } from '../domain/alert-formats.ts';
import { parseDatabaseUrl } from './database.ts';
import { parseHomeAssistantUrl } from './home-assistant-settings.ts';
import { parseMqttUrl, parseTopicPrefix } from './mqtt-settings.ts';
import {
  batteryValue,
  centsPerKwh,
  oneOf,
  parseApiKey,
  parseBaseUrl,
  parseBoolean,
  parseHostList,
  parseList,
  parseQuietHours,
  parseRatePolicy,
  parseStartDate,
  parseWebhookUrls,
  Problem,
  problem,
  quote,
  variable,
  wholeNumber,
} from './fields.ts';

/** Amber's documented budget, 50 calls in any 300 s; the client adopts the server's RateLimit-Policy once it sees one. */
export const DEFAULT_RATE_LIMIT: { readonly limit: number; readonly windowSeconds: number } = Object.freeze({ limit: 50, windowSeconds: 300 });

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

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
export function envSchema(today: string) {
  return z.object({
    // Amber API key from app.amber.com.au/developers. Required; never logged.
    AMBER_API_KEY: variable((raw) => parseApiKey(raw)),
    // Amber API base URL. Default https://api.amber.com.au/v1.
    AMBER_API_BASE_URL: variable((raw) => parseBaseUrl(raw ?? DEFAULT_BASE_URL)),
    // Starting request budget, "<requests>;w=<seconds>" like the RateLimit-Policy header. Default 50;w=300.
    AMBER_RATE_LIMIT: variable((raw) => (raw === undefined ? DEFAULT_RATE_LIMIT : parseRatePolicy(raw))),
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
    // Folder the daemon writes a backup to every day. Default unset: no daily backup.
    BACKUP_DIR: variable((raw) => raw ?? null),
    // Daily backups kept in BACKUP_DIR (the oldest are deleted), 1..1000. Default 7.
    BACKUP_KEEP: wholeNumber({ min: 1, max: 1000, fallback: 7 }),
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
    // auto (pretty at a terminal, else json) | json (one object per line, for machines) | pretty (one readable
    // line per event). Default auto.
    LOG_FORMAT: variable((raw) => oneOf((raw ?? 'auto').toLowerCase(), ['auto', 'json', 'pretty'] as const)),
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
    // Most charge or discharge power in kW, > 0: both directions unless set apart below. Default 5.
    BATTERY_POWER_KW: batteryValue('powerKw', 5),
    // Most charge power in kW (drawn at the meter), > 0. Default unset: BATTERY_POWER_KW.
    BATTERY_CHARGE_KW: batteryValue('chargeKw', null),
    // Most discharge power in kW (delivered at the meter), > 0. Default unset: BATTERY_POWER_KW.
    BATTERY_DISCHARGE_KW: batteryValue('dischargeKw', null),
    // Round-trip efficiency, from 0.5 to 1. Default 0.9.
    BATTERY_EFFICIENCY: batteryValue('efficiency', 0.9),
    // Share of the capacity never used, in [0, 1). Default 0.1.
    BATTERY_RESERVE: batteryValue('reserve', 0.1),
    // Most kW the battery may add to the export. Default unset: no limit.
    BATTERY_EXPORT_LIMIT_KW: batteryValue('exportLimitKw', null),
    // YAML file of retail plans `compare`, /api/compare and the dashboard price your usage under. Default unset:
    // no plans (the command then needs --plans).
    COMPARE_PLANS_FILE: variable((raw) => raw ?? null),
    // MQTT broker the live prices, forecast and collector health are published to: mqtt:// or mqtts://, no
    // credentials in it. Default unset: MQTT is off.
    MQTT_URL: variable((raw) => (raw === undefined ? null : parseMqttUrl(raw))),
    // User name for the broker. Default unset: connect without one.
    MQTT_USERNAME: variable((raw) => raw ?? null),
    // Password for the broker, taken as written (spaces included). Default unset. Never logged.
    MQTT_PASSWORD: z
      .string()
      .optional()
      .transform((value) => (value === undefined || value === '' ? null : value)),
    // First level(s) of every topic published. Default amber_collector.
    MQTT_TOPIC_PREFIX: variable((raw) => parseTopicPrefix(raw ?? 'amber_collector')),
    // Home Assistant's discovery prefix; set it empty to publish no discovery configs. Default homeassistant.
    MQTT_DISCOVERY_PREFIX: z
      .string()
      .optional()
      .transform((value, ctx) => {
        // Unlike other variables, empty is not "the default" here: it is how discovery is turned off.
        if (value === undefined) return 'homeassistant';
        if (value.trim() === '') return null;
        const prefix = parseTopicPrefix(value.trim());
        if (typeof prefix === 'string') return prefix;
        ctx.addIssue({ code: 'custom', message: prefix.message });
        return z.NEVER;
      }),
    // Home Assistant to import long-term statistics into, e.g. http://homeassistant.local:8123. Default unset: off.
    HOME_ASSISTANT_URL: variable((raw) => (raw === undefined ? null : parseHomeAssistantUrl(raw))),
    // A long-lived access token of a Home Assistant administrator (importing statistics needs admin). Never logged.
    HOME_ASSISTANT_TOKEN: variable((raw) => raw ?? null),
    // YAML or JSON file of each site's supply charges, membership and other fees (README, "Bills"). Default
    // unset: every money figure is energy only.
    FIXED_CHARGES_FILE: variable((raw) => raw ?? null),
  });;
}

/**
 * Variables that only work together: one set without the other would silently leave its feature off, so it is
 * reported as a problem of the missing one.
 */
export const PAIRED_VARIABLES: ReadonlyArray<readonly [string, string]> = [['HOME_ASSISTANT_URL', 'HOME_ASSISTANT_TOKEN']];

export type Env = z.infer<ReturnType<typeof envSchema>>;

/** Every variable the collector reads, in the order `.env.example` and the README document them. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(envSchema('').shape));
