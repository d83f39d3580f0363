import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadEnvFiles, parseConfig, type Config } from '../src/config/config.ts';
import { CONFIG_VARIABLES } from '../src/config/variables.ts';
import { CollectorError } from '../src/errors.ts';

const NOW = new Date('2025-06-15T02:00:00Z'); // NEM date 2025-06-15

const REQUIRED = {
  AMBER_API_KEY: 'psk_0123456789abcdef0123456789abcdef',
  DATABASE_URL: 'postgres://collector:s3cret@db:5432/collector',
  HISTORICAL_START_DATE: '2025-01-01',
};

function parse(env: Record<string, string | undefined>, now = NOW): Config {
  return parseConfig({ ...REQUIRED, ...env }, now);
}

/** The problems a bad environment produces (fails the test if parsing succeeds). */
function problemsOf(env: Record<string, string | undefined>, now = NOW): string[] {
  try {
    parseConfig(env, now);
  } catch (err) {
    expect(err).toBeInstanceOf(CollectorError);
    expect((err as CollectorError).code).toBe('CONFIG_INVALID');
    return (err as CollectorError<'CONFIG_INVALID'>).details.problems ?? [];
  }
  throw new Error('expected the configuration to be rejected');
}

describe('parseConfig', () => {
  it('applies every default when only the required variables are set', () => {
    expect(parse({})).toEqual({
      amber: {
        apiKey: REQUIRED.AMBER_API_KEY,
        baseUrl: 'https://api.amber.com.au/v1',
        rateLimit: { limit: 50, windowSeconds: 300 },
        requestTimeoutMs: 30_000,
        siteIds: null,
      },
      database: { url: REQUIRED.DATABASE_URL, ssl: false },
      collection: {
        historicalStartDate: '2025-01-01',
        intervalMinutes: 5,
        forceReinit: false,
        priceRevisionDays: 2,
        usageRevisionDays: 7,
        usagePollMinutes: 60,
        forecastRetentionDays: null,
        forecastCompactAfterDays: 7,
      },
      log: { level: 'info', format: 'auto' },
      backup: { dir: null, keep: 7 },
      http: { port: 8080, apiToken: null, allowedHosts: [], publicUrl: null },
      alerts: {
        targets: [],
        priceAbove: null,
        priceBelow: null,
        feedInAbove: null,
        spikeStatuses: ['potential', 'spike'],
        lookaheadMinutes: 60,
        staleMinutes: 30,
        failedCycles: 3,
        quietHours: null,
        maxPerHour: 20,
      },
      battery: { capacityKwh: 13.5, chargeKw: 5, dischargeKw: 5, efficiency: 0.9, reserve: 0.1, exportLimitKw: null },
      comparePlansFile: null,
      mqtt: null,
      homeAssistant: null,
      fixedChargesFile: null,
    } satisfies Config);
  });

  it('MQTT: off without MQTT_URL; with it, the prefixes default and an empty discovery prefix turns discovery off', () => {
    expect(parse({ MQTT_USERNAME: 'ha' }).mqtt).toBeNull();
    expect(parse({ MQTT_URL: 'mqtt://broker.local:1883' }).mqtt).toEqual({
      url: 'mqtt://broker.local:1883',
      username: null,
      password: null,
      topicPrefix: 'amber_collector',
      discoveryPrefix: 'homeassistant',
    });
    const custom = parse({ MQTT_URL: 'mqtts://broker.local', MQTT_USERNAME: 'ha', MQTT_PASSWORD: ' pass word ', MQTT_TOPIC_PREFIX: 'home/amber', MQTT_DISCOVERY_PREFIX: '' }).mqtt;
    expect(custom).toEqual({ url: 'mqtts://broker.local', username: 'ha', password: ' pass word ', topicPrefix: 'home/amber', discoveryPrefix: null });
  });

  it('Home Assistant: both settings or neither, a plain http(s) address, and the token never echoed', () => {
    expect(parse({}).homeAssistant).toBeNull();
    expect(parse({ HOME_ASSISTANT_URL: 'http://homeassistant.local:8123/', HOME_ASSISTANT_TOKEN: 'abc.def' }).homeAssistant).toEqual({ url: 'http://homeassistant.local:8123', token: 'abc.def' });
    expect(problemsOf({ ...REQUIRED, HOME_ASSISTANT_URL: 'http://ha:8123' })).toEqual([expect.stringMatching(/^HOME_ASSISTANT_TOKEN: is required when HOME_ASSISTANT_URL is set/)]);
    const tokenOnly = problemsOf({ ...REQUIRED, HOME_ASSISTANT_TOKEN: 'secret-token' });
    expect(tokenOnly).toEqual([expect.stringMatching(/^HOME_ASSISTANT_URL: is required when HOME_ASSISTANT_TOKEN is set/)]);
    expect(tokenOnly.join()).not.toContain('secret-token');
    expect(problemsOf({ ...REQUIRED, HOME_ASSISTANT_URL: 'ws://ha:8123', HOME_ASSISTANT_TOKEN: 't' })).toEqual([expect.stringMatching(/^HOME_ASSISTANT_URL: expected an http:\/\/ or https:\/\/ URL/)]);
  });

  it('MQTT: refuses other schemes, credentials in the URL (without echoing them) and wildcard prefixes, each by name', () => {
    const problems = (env: Record<string, string>) => problemsOf({ ...REQUIRED, ...env });
    expect(problems({ MQTT_URL: 'http://broker.local' })).toEqual([expect.stringMatching(/^MQTT_URL: expected an mqtt:\/\/ or mqtts:\/\/ URL/)]);
    const secret = problems({ MQTT_URL: 'mqtt://ha:hunter2@broker.local' });
    expect(secret).toEqual([expect.stringMatching(/^MQTT_URL: must not contain a user name or password/)]);
    expect(secret.join()).not.toContain('hunter2');
    expect(problems({ MQTT_URL: 'mqtt://b', MQTT_TOPIC_PREFIX: 'amber/#', MQTT_DISCOVERY_PREFIX: 'home assistant' })).toEqual([
      expect.stringMatching(/^MQTT_TOPIC_PREFIX: expected topic levels/),
      expect.stringMatching(/^MQTT_DISCOVERY_PREFIX: expected topic levels/),
    ]);
  });

  it('without DATABASE_URL, keeps the data in the embedded PostgreSQL under DATA_DIR (default ./data)', () => {
    const withoutUrl = { DATABASE_URL: undefined };
    expect(parse(withoutUrl).database).toEqual({ url: null, dataDir: 'data' });
    expect(parse({ ...withoutUrl, DATA_DIR: '/var/lib/amber', DATABASE_SSL: 'require' }).database).toEqual({ url: null, dataDir: '/var/lib/amber' });
    // With a URL, DATA_DIR plays no part.
    expect(parse({ ...REQUIRED, DATA_DIR: '/var/lib/amber' }).database).toEqual({ url: REQUIRED.DATABASE_URL, ssl: false });
  });

  it('reads every variable when all are set', () => {
    const config = parse({
      AMBER_API_KEY: '  psk_padded  ',
      AMBER_API_BASE_URL: 'http://127.0.0.1:4010/v1/',
      AMBER_RATE_LIMIT: '20; w=60',
      AMBER_REQUEST_TIMEOUT_SECONDS: '5',
      AMBER_SITE_IDS: ' 01A, 01B ,,01A ',
      HISTORICAL_START_DATE: '2025-06-15',
      COLLECTION_INTERVAL_MINUTES: '15',
      FORCE_REINIT: 'YES',
      PRICE_REVISION_DAYS: '0',
      USAGE_REVISION_DAYS: '60',
      USAGE_POLL_MINUTES: '1440',
      FORECAST_RETENTION_DAYS: '30',
      FORECAST_COMPACT_AFTER_DAYS: '14',
      LOG_LEVEL: 'Warning',
      LOG_FORMAT: 'PRETTY',
      HTTP_PORT: '9000',
      HTTP_API_TOKEN: ' token ',
      HTTP_ALLOWED_HOSTS: 'Collector.Example.com, nas.local',
      PUBLIC_URL: 'http://amber.local:8080',
      BATTERY_CAPACITY_KWH: '27',
      BATTERY_POWER_KW: '10.5',
      BATTERY_CHARGE_KW: '3',
      BATTERY_EFFICIENCY: '1',
      BATTERY_RESERVE: '0',
      BATTERY_EXPORT_LIMIT_KW: '5',
    });
    expect(config.amber).toEqual({
      apiKey: 'psk_padded',
      baseUrl: 'http://127.0.0.1:4010/v1',
      rateLimit: { limit: 20, windowSeconds: 60 },
      requestTimeoutMs: 5000,
      siteIds: ['01A', '01B'],
    });
    expect(config.collection).toEqual({
      historicalStartDate: '2025-06-15',
      intervalMinutes: 15,
      forceReinit: true,
      priceRevisionDays: 0,
      usageRevisionDays: 60,
      usagePollMinutes: 1440,
      forecastRetentionDays: 30,
      forecastCompactAfterDays: 14,
    });
    expect(config.log).toEqual({ level: 'warn', format: 'pretty' });
    expect(config.http).toEqual({ port: 9000, apiToken: 'token', allowedHosts: ['collector.example.com', 'nas.local'], publicUrl: 'http://amber.local:8080' });
    expect(config.battery).toEqual({ capacityKwh: 27, chargeKw: 3, dischargeKw: 10.5, efficiency: 1, reserve: 0, exportLimitKw: 5 });
  });

  it('names every bad battery default', () => {
    const problems = problemsOf({ ...REQUIRED, BATTERY_CAPACITY_KWH: '0', BATTERY_POWER_KW: 'five', BATTERY_DISCHARGE_KW: '0', BATTERY_EFFICIENCY: '1.1', BATTERY_RESERVE: '1', BATTERY_EXPORT_LIMIT_KW: '-1' });
    expect(problems).toEqual([
      'BATTERY_CAPACITY_KWH: expected a number of kWh greater than 0 and at most 10000, got "0"',
      'BATTERY_POWER_KW: expected a number of kW greater than 0 and at most 10000, got "five"',
      'BATTERY_DISCHARGE_KW: expected a number of kW greater than 0 and at most 10000, got "0"',
      'BATTERY_EFFICIENCY: expected a round-trip efficiency from 0.5 to 1, got "1.1"',
      'BATTERY_RESERVE: expected a share of the capacity from 0 up to (not including) 1, got "1"',
      'BATTERY_EXPORT_LIMIT_KW: expected a number of kW from 0 to 10000, got "-1"',
    ]);
  });

  it('treats blank values as unset', () => {
    const config = parse({ AMBER_SITE_IDS: ' ', LOG_LEVEL: '', HTTP_API_TOKEN: '', FORECAST_RETENTION_DAYS: '  ', PORT: '' });
    expect(config.amber.siteIds).toBeNull();
    expect(config.log.level).toBe('info');
    expect(config.http).toEqual({ port: 8080, apiToken: null, allowedHosts: [], publicUrl: null });
    expect(config.collection.forecastRetentionDays).toBeNull();
  });

  it.each([
    ['0', null], ['1', 1], [' 7 ', 7], ['', 7], ['365', 365],
  ])('reads FORECAST_COMPACT_AFTER_DAYS=%j as %j (0: never compact)', (raw, expected) => {
    expect(parse({ FORECAST_COMPACT_AFTER_DAYS: raw }).collection.forecastCompactAfterDays).toBe(expected);
  });

  it('lets PORT (set by hosting platforms) win over HTTP_PORT', () => {
    expect(parse({ HTTP_PORT: '9000', PORT: '3000' }).http.port).toBe(3000);
  });

  it.each([
    ['true', true], ['TRUE', true], ['1', true], ['yes', true], ['Yes', true],
    ['false', false], ['False', false], ['0', false], ['no', false], ['NO', false],
  ])('reads FORCE_REINIT=%s as %s', (raw, expected) => {
    expect(parse({ FORCE_REINIT: raw }).collection.forceReinit).toBe(expected);
  });

  it.each([
    ['DEBUG', 'debug'], ['info', 'info'], ['WARNING', 'warn'], ['warn', 'warn'], ['Error', 'error'],
    ['TRACE', 'trace'], ['fatal', 'fatal'], ['SILENT', 'silent'],
  ])('maps LOG_LEVEL=%s to %s', (raw, expected) => {
    expect(parse({ LOG_LEVEL: raw }).log.level).toBe(expected);
  });

  it('returns a deeply frozen object', () => {
    const config = parse({ AMBER_SITE_IDS: 'a,b' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.amber.rateLimit)).toBe(true);
    expect(Object.isFrozen(config.amber.siteIds)).toBe(true);
    expect(Object.isFrozen(config.database)).toBe(true);
    expect(() => {
      (config.collection as { intervalMinutes: number }).intervalMinutes = 1;
    }).toThrow(TypeError);
  });

  it('accepts today (NEM time, UTC+10) as the start date but not tomorrow', () => {
    // 14:00 UTC is midnight NEM: the NEM date is already the next UTC day.
    const justAfterNemMidnight = new Date('2025-06-15T14:00:00Z');
    expect(parse({ HISTORICAL_START_DATE: '2025-06-16' }, justAfterNemMidnight).collection.historicalStartDate).toBe('2025-06-16');
    expect(problemsOf({ ...REQUIRED, HISTORICAL_START_DATE: '2025-06-16' }, new Date('2025-06-15T13:59:59Z'))).toEqual([
      'HISTORICAL_START_DATE: must not be after today\'s NEM date 2025-06-15, got "2025-06-16"',
    ]);
  });

  describe('rejects', () => {
    it.each([
      ['AMBER_API_KEY', undefined, 'AMBER_API_KEY: is required'],
      ['AMBER_API_KEY', '   ', 'AMBER_API_KEY: is required'],
      ['AMBER_API_BASE_URL', 'not a url', 'AMBER_API_BASE_URL: expected an http:// or https:// URL, got "not a url"'],
      ['AMBER_API_BASE_URL', 'ftp://api.amber.com.au/v1', 'AMBER_API_BASE_URL: expected an http:// or https:// URL'],
      ['AMBER_RATE_LIMIT', '50', 'AMBER_RATE_LIMIT: expected "<requests>;w=<seconds>"'],
      ['AMBER_RATE_LIMIT', '0;w=300', 'AMBER_RATE_LIMIT: expected "<requests>;w=<seconds>" with both at least 1'],
      ['AMBER_RATE_LIMIT', '50;w=0', 'AMBER_RATE_LIMIT: expected'],
      ['AMBER_REQUEST_TIMEOUT_SECONDS', '0', 'AMBER_REQUEST_TIMEOUT_SECONDS: expected a whole number from 1 to 300, got "0"'],
      ['AMBER_REQUEST_TIMEOUT_SECONDS', '301', 'AMBER_REQUEST_TIMEOUT_SECONDS: expected a whole number from 1 to 300, got "301"'],
      ['AMBER_REQUEST_TIMEOUT_SECONDS', '2.5', 'AMBER_REQUEST_TIMEOUT_SECONDS: expected a whole number from 1 to 300, got "2.5"'],
      ['DATABASE_URL', 'mysql://root:hunter2@db/collector', 'DATABASE_URL: expected a postgres:// or postgresql:// URL'],
      ['DATABASE_URL', 'postgres://u:hunter2@db/c?sslmode=maybe', 'DATABASE_URL: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got "maybe"'],
      ['DATABASE_SSL', 'on', 'DATABASE_SSL: expected one of disable, require, verify, got "on"'],
      ['HISTORICAL_START_DATE', undefined, 'HISTORICAL_START_DATE: is required'],
      ['HISTORICAL_START_DATE', '2024-13-01', 'HISTORICAL_START_DATE: expected a date as YYYY-MM-DD, got "2024-13-01"'],
      ['HISTORICAL_START_DATE', '2023-02-29', 'HISTORICAL_START_DATE: expected a date as YYYY-MM-DD, got "2023-02-29"'],
      ['HISTORICAL_START_DATE', '01/02/2024', 'HISTORICAL_START_DATE: expected a date as YYYY-MM-DD, got "01/02/2024"'],
      ['HISTORICAL_START_DATE', '2030-01-01', 'HISTORICAL_START_DATE: must not be after today\'s NEM date 2025-06-15, got "2030-01-01"'],
      ['COLLECTION_INTERVAL_MINUTES', '0', 'COLLECTION_INTERVAL_MINUTES: expected a whole number from 1 to 60, got "0"'],
      ['COLLECTION_INTERVAL_MINUTES', '61', 'COLLECTION_INTERVAL_MINUTES: expected a whole number from 1 to 60, got "61"'],
      ['FORCE_REINIT', 'maybe', 'FORCE_REINIT: expected true, false, 1, 0, yes or no, got "maybe"'],
      ['PRICE_REVISION_DAYS', '15', 'PRICE_REVISION_DAYS: expected a whole number from 0 to 14, got "15"'],
      ['PRICE_REVISION_DAYS', '-1', 'PRICE_REVISION_DAYS: expected a whole number from 0 to 14, got "-1"'],
      ['USAGE_REVISION_DAYS', '0', 'USAGE_REVISION_DAYS: expected a whole number from 1 to 60, got "0"'],
      ['USAGE_REVISION_DAYS', '61', 'USAGE_REVISION_DAYS: expected a whole number from 1 to 60, got "61"'],
      ['USAGE_POLL_MINUTES', '4', 'USAGE_POLL_MINUTES: expected a whole number from 5 to 1440, got "4"'],
      ['USAGE_POLL_MINUTES', '1441', 'USAGE_POLL_MINUTES: expected a whole number from 5 to 1440, got "1441"'],
      ['FORECAST_RETENTION_DAYS', '0', 'FORECAST_RETENTION_DAYS: expected a whole number of at least 1, got "0"'],
      ['FORECAST_RETENTION_DAYS', 'forever', 'FORECAST_RETENTION_DAYS: expected a whole number of at least 1, got "forever"'],
      ['FORECAST_COMPACT_AFTER_DAYS', '-1', 'FORECAST_COMPACT_AFTER_DAYS: expected a whole number of at least 0, got "-1"'],
      ['FORECAST_COMPACT_AFTER_DAYS', '1.5', 'FORECAST_COMPACT_AFTER_DAYS: expected a whole number of at least 0, got "1.5"'],
      ['FORECAST_COMPACT_AFTER_DAYS', 'never', 'FORECAST_COMPACT_AFTER_DAYS: expected a whole number of at least 0, got "never"'],
      ['LOG_LEVEL', 'verbose', 'LOG_LEVEL: expected one of TRACE, DEBUG, INFO, WARN, WARNING, ERROR, FATAL, SILENT, got "verbose"'],
      ['LOG_FORMAT', 'xml', 'LOG_FORMAT: expected one of auto, json, pretty, got "xml"'],
      ['AMBER_API_KEY', 'psk_replace_with_your_key', 'AMBER_API_KEY: is still the placeholder from .env.example'],
      // The fake server's snippet pasted on one line: the rest of the line (the key) is never echoed.
      [
        'AMBER_API_BASE_URL',
        'http://127.0.0.1:8787/v1 AMBER_API_KEY=psk_s3cret HISTORICAL_START_DATE=2026-10-08',
        'AMBER_API_BASE_URL: must be one URL with no spaces (put each setting on its own line in .env), got "http://127.0.0.1:8787/v1 …"',
      ],
      ['AMBER_API_BASE_URL', 'http://127.0.0.1:8787/v1\tx', 'AMBER_API_BASE_URL: must be one URL with no spaces'],
      ['HTTP_PORT', '-1', 'HTTP_PORT: expected a whole number from 0 to 65535, got "-1"'],
      ['HTTP_PORT', '65536', 'HTTP_PORT: expected a whole number from 0 to 65535, got "65536"'],
      ['PORT', 'http', 'PORT: expected a whole number from 1 to 65535, got "http"'],
      ['AMBER_API_BASE_URL', 'https://user:s3cret@api.amber.com.au/v1', 'AMBER_API_BASE_URL: must not contain a user name or password (the value is not shown)'],
      ['AMBER_API_BASE_URL', 'https://psk_s3cret@api.amber.com.au/v1', 'AMBER_API_BASE_URL: must not contain a user name or password'],
      ['AMBER_API_BASE_URL', 'htps:/s3cret@api', 'AMBER_API_BASE_URL: expected an http:// or https:// URL (the value is not shown: it may contain credentials)'],
      ['DATABASE_URL', 'postgres://u:s3cret%zz@db/c', 'DATABASE_URL: the password contains a % that does not start a valid escape such as %25'],
      ['DATABASE_URL', 'postgres://u%:s3cret@db/c%', 'DATABASE_URL: the user name and database name contain a % that does not start a valid escape'],
      ['HTTP_API_TOKEN', '   ', 'HTTP_API_TOKEN: is only whitespace'],
      ['HTTP_API_TOKEN', '\t\n', 'HTTP_API_TOKEN: is only whitespace'],
      ['HTTP_ALLOWED_HOSTS', 'collector.example.com, https://x.example:8080/', 'HTTP_ALLOWED_HOSTS: expected host names such as collector.example.com (no scheme, port or path), got "https://x.example:8080/"'],
      ['PUBLIC_URL', 'amber.example.net', 'PUBLIC_URL: expected an http:// or https:// URL, got "amber.example.net"'],
      ['ALERT_WEBHOOK_URL', 'ntfy.sh/mytopic', 'ALERT_WEBHOOK_URL: URL 1 is not an http:// or https:// URL'],
      ['ALERT_WEBHOOK_URL', 'https://a.example/x, mailto:me@example.com', 'ALERT_WEBHOOK_URL: URL 2 is not an http:// or https:// URL'],
      ['ALERT_WEBHOOK_URL', 'teams+https://example.com/hook', 'ALERT_WEBHOOK_URL: URL 1 has the unknown format prefix "teams"'],
      ['ALERT_WEBHOOK_FORMAT', 'teams', 'ALERT_WEBHOOK_FORMAT: expected one of json, ntfy, discord, slack, got "teams"'],
      ['ALERT_PRICE_ABOVE', '30c', 'ALERT_PRICE_ABOVE: expected a price in c/kWh such as 30, -5 or 12.5, got "30c"'],
      ['ALERT_PRICE_BELOW', 'zero', 'ALERT_PRICE_BELOW: expected a price in c/kWh'],
      ['ALERT_FEED_IN_ABOVE', '1e3', 'ALERT_FEED_IN_ABOVE: expected a price in c/kWh'],
      ['ALERT_SPIKE_STATUS', 'always', 'ALERT_SPIKE_STATUS: expected one of potential, spike, off, got "always"'],
      ['ALERT_LOOKAHEAD_MINUTES', '0', 'ALERT_LOOKAHEAD_MINUTES: expected a whole number from 5 to 2880, got "0"'],
      ['ALERT_STALE_MINUTES', '2', 'ALERT_STALE_MINUTES: expected a whole number from 5 to 1440, got "2"'],
      ['ALERT_FAILED_CYCLES', '0', 'ALERT_FAILED_CYCLES: expected a whole number from 1 to 100, got "0"'],
      ['ALERT_QUIET_HOURS', '22-7', 'ALERT_QUIET_HOURS: expected two different times of day in NEM time, HH:MM-HH:MM'],
      ['ALERT_QUIET_HOURS', '22:00-24:00', 'ALERT_QUIET_HOURS: expected two different times of day'],
      ['ALERT_QUIET_HOURS', '07:00-07:00', 'ALERT_QUIET_HOURS: expected two different times of day'],
      ['ALERT_MAX_PER_HOUR', '0', 'ALERT_MAX_PER_HOUR: expected a whole number from 1 to 1000, got "0"'],
    ])('%s=%j', (name, value, expected) => {
      const problems = problemsOf({ ...REQUIRED, [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(expected);
      expect(problems[0]).not.toContain('s3cret');
    });

    it('reports every problem at once, one per line, each starting with its variable', () => {
      let error: CollectorError<'CONFIG_INVALID'> | undefined;
      try {
        parseConfig(
          {
            DATABASE_URL: 'postgres://u:p%zz@db/c',
            AMBER_API_BASE_URL: 'https://u:p@api.amber.com.au/v1',
            HTTP_API_TOKEN: '  ',
            HISTORICAL_START_DATE: '2024-13-01',
            LOG_LEVEL: 'loud',
            PORT: 'x',
            FORCE_REINIT: '2',
          },
          NOW,
        );
      } catch (err) {
        error = err as CollectorError<'CONFIG_INVALID'>;
      }
      const problems = error?.details.problems ?? [];
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(
        ['AMBER_API_BASE_URL', 'AMBER_API_KEY', 'DATABASE_URL', 'FORCE_REINIT', 'HISTORICAL_START_DATE', 'HTTP_API_TOKEN', 'LOG_LEVEL', 'PORT'],
      );
      expect(error?.message.split('\n').slice(1).sort()).toEqual([...problems].sort());
    });

    it('lists bad alert settings with the other problems and never repeats a webhook URL', () => {
      const problems = problemsOf({
        DATABASE_URL: 'mysql://x',
        ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXXsecret,ftp://example.com/hook?token=XXXXsecret',
        ALERT_WEBHOOK_FORMAT: 'teams',
        ALERT_PRICE_ABOVE: 'high',
      });
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'ALERT_PRICE_ABOVE',
        'ALERT_WEBHOOK_FORMAT',
        'ALERT_WEBHOOK_URL',
        'AMBER_API_KEY',
        'DATABASE_URL',
        'HISTORICAL_START_DATE',
      ]);
      expect(problems.join('\n')).not.toContain('XXXXsecret');
    });

    it('never repeats the database URL or the API key in a message', () => {
      const problems = problemsOf({ AMBER_API_KEY: '', DATABASE_URL: 'mysql://root:hunter2@db/collector' });
      expect(problems.join('\n')).not.toContain('hunter2');
    });
  });

  describe('database TLS (libpq sslmode semantics)', () => {
    const url = (query: string) => `postgres://collector:s3cret@db.example.com:5432/collector${query}`;

    it.each([
      ['', false],
      ['?sslmode=disable', false],
      ['?sslmode=allow', { rejectUnauthorized: false }],
      ['?sslmode=prefer', { rejectUnauthorized: false }],
      ['?sslmode=require', { rejectUnauthorized: false }],
      ['?sslmode=verify-ca', { rejectUnauthorized: true }],
      ['?sslmode=verify-full', { rejectUnauthorized: true }],
      ['?ssl=true', { rejectUnauthorized: true }],
      ['?ssl=0', false],
    ])('DATABASE_URL%s gives ssl %j', (query, expected) => {
      expect(parse({ DATABASE_URL: url(query) }).database).toMatchObject({ ssl: expected });
    });

    it.each([
      ['disable', '?sslmode=verify-full', false],
      ['require', '', { rejectUnauthorized: false }],
      ['require', '?sslmode=verify-full', { rejectUnauthorized: false }],
      ['verify', '?sslmode=require', { rejectUnauthorized: true }],
    ])('DATABASE_SSL=%s overrides DATABASE_URL%s', (mode, query, expected) => {
      expect(parse({ DATABASE_URL: url(query), DATABASE_SSL: mode }).database).toMatchObject({ ssl: expected });
    });

    it('removes the TLS parameters from the URL and keeps the others', () => {
      const config = parse({
        DATABASE_URL: url('?sslmode=require&uselibpqcompat=true&sslrootcert=/ca.pem&application_name=amber&connect_timeout=5'),
      });
      expect(config.database.url).toBe(url('?application_name=amber&connect_timeout=5'));
    });
  });
});

describe('alert settings', () => {
  it('gives each webhook its format: a URL prefix, then ALERT_WEBHOOK_FORMAT, then the host, then json', () => {
    const urls = [
      'https://discord.com/api/webhooks/123/abc',
      'https://hooks.slack.com/services/T0/B0/x',
      'https://ntfy.sh/amber-alerts-x7',
      'https://ha.example.net/api/webhook/amber',
      'ntfy+https://ntfy.example.net/amber',
    ];
    const inferred = parse({ ALERT_WEBHOOK_URL: urls.join(', ') }).alerts.targets;
    expect(inferred).toEqual([
      { url: urls[0], format: 'discord' },
      { url: urls[1], format: 'slack' },
      { url: urls[2], format: 'ntfy' },
      { url: urls[3], format: 'json' },
      { url: 'https://ntfy.example.net/amber', format: 'ntfy' },
    ]);
    const forced = parse({ ALERT_WEBHOOK_URL: urls.join(','), ALERT_WEBHOOK_FORMAT: 'JSON' }).alerts.targets;
    expect(forced.map((t) => t.format)).toEqual(['json', 'json', 'json', 'json', 'ntfy']);
  });

  it('reads thresholds, quiet hours and the dashboard address', () => {
    const config = parse({
      PUBLIC_URL: 'https://amber.example.net/',
      ALERT_PRICE_ABOVE: '100',
      ALERT_PRICE_BELOW: '0',
      ALERT_FEED_IN_ABOVE: '-2.5',
      ALERT_SPIKE_STATUS: 'Spike',
      ALERT_LOOKAHEAD_MINUTES: '120',
      ALERT_STALE_MINUTES: '45',
      ALERT_FAILED_CYCLES: '5',
      ALERT_QUIET_HOURS: '22:30 - 6:45',
      ALERT_MAX_PER_HOUR: '5',
    });
    expect(config.http.publicUrl).toBe('https://amber.example.net');
    expect(config.alerts).toEqual({
      targets: [],
      priceAbove: 100,
      priceBelow: 0,
      feedInAbove: -2.5,
      spikeStatuses: ['spike'],
      lookaheadMinutes: 120,
      staleMinutes: 45,
      failedCycles: 5,
      quietHours: { from: 22 * 60 + 30, to: 6 * 60 + 45 },
      maxPerHour: 5,
    });
    expect(parse({ ALERT_SPIKE_STATUS: 'off' }).alerts.spikeStatuses).toEqual([]);
  });
});

describe('loadEnvFiles', () => {
  const keys = ['AMBER_TEST_ONLY_IN_ENV', 'AMBER_TEST_IN_BOTH', 'AMBER_TEST_FROM_PROCESS'];
  let dir: string | undefined;

  afterEach(() => {
    for (const key of keys) delete process.env[key];
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('loads .env, lets .env.local override it, lets the real environment win, and prints nothing', () => {
    dir = mkdtempSync(join(tmpdir(), 'amber-env-'));
    writeFileSync(join(dir, '.env'), 'AMBER_TEST_ONLY_IN_ENV=from-env\nAMBER_TEST_IN_BOTH=from-env\nAMBER_TEST_FROM_PROCESS=from-env\n');
    writeFileSync(join(dir, '.env.local'), 'AMBER_TEST_IN_BOTH=from-local\nAMBER_TEST_FROM_PROCESS=from-local\n');
    process.env.AMBER_TEST_FROM_PROCESS = 'from-process';
    const log = vi.spyOn(console, 'log');
    const error = vi.spyOn(console, 'error');
    const stdout = vi.spyOn(process.stdout, 'write');

    loadEnvFiles(dir);

    expect(process.env.AMBER_TEST_ONLY_IN_ENV).toBe('from-env');
    expect(process.env.AMBER_TEST_IN_BOTH).toBe('from-local');
    expect(process.env.AMBER_TEST_FROM_PROCESS).toBe('from-process');
    expect(log).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
    expect(stdout).not.toHaveBeenCalled();
  });

  it('does nothing when neither file exists', () => {
    dir = mkdtempSync(join(tmpdir(), 'amber-env-'));
    const before = { ...process.env };
    loadEnvFiles(dir);
    expect(process.env).toEqual(before);
  });
});

describe('documentation', () => {
  const read = (name: string) => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8');

  it('.env.example documents every variable, in schema order, and is a valid configuration once its key is set', () => {
    const example = read('.env.example');
    const collectorPart = example.split('# --- Docker Compose only')[0] ?? '';
    const documented = [...collectorPart.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(documented).toEqual(CONFIG_VARIABLES);
    const settings = dotenv.parse(example);
    expect(problemsOf(settings)).toEqual([expect.stringMatching(/^AMBER_API_KEY: is still the placeholder from \.env\.example/)]);
    expect(() => parseConfig({ ...settings, AMBER_API_KEY: 'psk_a_real_key' }, NOW)).not.toThrow();
  });

  it('the README configuration table lists the same variables in the same order', () => {
    const rows = [...read('README.md').matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(CONFIG_VARIABLES);
  });
});
