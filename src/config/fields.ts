/**
 * Field parsers for environment variables. Each gets the trimmed value (undefined when unset or blank, so
 * `FOO=` in a .env file means "use the default") and returns the typed value or a Problem saying what was
 * expected; `variable` turns such a parser into a zod field whose problems are reported by variable name.
 */
import { z } from 'zod';
import { checkBatteryValue, type BatteryField } from '../domain/battery-limits.ts';
import { ALERT_FORMATS, type AlertFormat } from '../domain/alert-formats.ts';
import { isNemDate } from '../domain/nem-time.ts';

export class Problem {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

export function problem(message: string): Problem {
  return new Problem(message);
}

export function variable<T>(parse: (raw: string | undefined) => T | Problem) {
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

export function wholeNumber<F extends number | null>(options: { min: number; max: number; fallback: F }) {
  const { min, max, fallback } = options;
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return variable((raw): number | F | Problem => {
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    return value >= min && value <= max ? value : problem(`expected a whole number ${range}, got ${quote(raw)}`);
  });
}

export function batteryValue<F extends number | null>(field: BatteryField, fallback: F) {
  return variable((raw): number | F | Problem => {
    if (raw === undefined) return fallback;
    const checked = checkBatteryValue(field, raw);
    return 'value' in checked ? checked.value : problem(checked.problem);
  });
}

export function oneOf<const T extends string>(raw: string, allowed: readonly T[]): T | Problem {
  return (allowed as readonly string[]).includes(raw)
    ? (raw as T)
    : problem(`expected one of ${allowed.join(', ')}, got ${quote(raw)}`);
}

export function parseBoolean(raw: string): boolean | Problem {
  const value = raw.toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  return problem(`expected true, false, 1, 0, yes or no, got ${quote(raw)}`);
}

export function parseList(raw: string | undefined): string[] | null {
  const items = [...new Set((raw ?? '').split(',').map((item) => item.trim()).filter((item) => item !== ''))];
  return items.length > 0 ? items : null;
}

/** A price in c/kWh such as `30`, `-5` or `12.5`; unset turns the rule off. */
export function centsPerKwh() {
  return variable((raw): number | null | Problem => {
    if (raw === undefined) return null;
    const value = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    return Math.abs(value) <= 100_000 ? value : problem(`expected a price in c/kWh such as 30, -5 or 12.5, got ${quote(raw)}`);
  });
}

/** The key `.env.example` ships with: copied unchanged, it would only earn 401s from Amber. */
const PLACEHOLDER_API_KEY = 'psk_replace_with_your_key';

export function parseApiKey(raw: string | undefined): string | Problem {
  if (raw === undefined) return problem('is required (create one at https://app.amber.com.au/developers)');
  if (raw === PLACEHOLDER_API_KEY) {
    return problem(`is still the placeholder from .env.example: replace ${PLACEHOLDER_API_KEY} with your key from https://app.amber.com.au/developers`);
  }
  return raw;
}

/** The API key goes in a header; credentials in the URL would end up in logs and error texts, so they are refused. */
export function parseBaseUrl(raw: string): string | Problem {
  const url = URL.parse(raw);
  // A value with an @ may hold credentials: it is not echoed.
  const shown = raw.includes('@') ? ' (the value is not shown: it may contain credentials)' : `, got ${quote(raw)}`;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return problem(`expected an http:// or https:// URL${shown}`);
  }
  // URL() quietly encodes spaces, so `URL KEY=… DATE=…` pasted on one line would pass as a path. Only the part
  // before the first space is echoed: what follows may be the API key.
  if (/\s/.test(raw)) {
    const before = raw.includes('@') ? '' : `, got ${quote(`${raw.split(/\s/)[0] ?? ''} …`)}`;
    return problem(`must be one URL with no spaces (put each setting on its own line in .env)${before}`);
  }
  if (url.username !== '' || url.password !== '') {
    return problem('must not contain a user name or password (the value is not shown); the API key goes in AMBER_API_KEY');
  }
  return raw.replace(/\/+$/, '');
}

/** Host names, lower case, without ports; a value that is not a plain host name is a problem. */
export function parseHostList(raw: string | undefined): string[] | Problem {
  const hosts = parseList(raw?.toLowerCase()) ?? [];
  const bad = hosts.filter((host) => !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(host));
  return bad.length > 0 ? problem(`expected host names such as collector.example.com (no scheme, port or path), got ${bad.map(quote).join(', ')}`) : hosts;
}

/** The RateLimit-Policy header syntax the API sends, e.g. `50;w=300`. */
export function parseRatePolicy(raw: string): { limit: number; windowSeconds: number } | Problem {
  const match = /^(\d+)\s*;\s*w\s*=\s*(\d+)$/.exec(raw);
  const limit = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!(limit >= 1 && windowSeconds >= 1)) {
    return problem(`expected "<requests>;w=<seconds>" with both at least 1, e.g. "50;w=300", got ${quote(raw)}`);
  }
  return { limit, windowSeconds };
}

export function parseStartDate(raw: string | undefined, today: string): string | Problem {
  if (raw === undefined) return problem('is required: the first day to collect, as YYYY-MM-DD');
  if (!isNemDate(raw)) return problem(`expected a date as YYYY-MM-DD, got ${quote(raw)}`);
  if (raw > today) return problem(`must not be after today's NEM date ${today}, got ${quote(raw)}`);
  return raw;
}

/**
 * Never echoes a URL: webhook URLs carry their secret in the path or query. Problems name the target by
 * its position instead.
 */
export function parseWebhookUrls(raw: string | undefined): Array<{ url: string; format: AlertFormat | null }> | Problem {
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
export function parseQuietHours(raw: string): { from: number; to: number } | Problem {
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

export function quote(raw: string | undefined): string {
  if (raw === undefined) return 'nothing';
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw);
}
