/**
 * The read API on the daemon's HTTP server: JSON over the collected data, for the dashboard and for
 * anyone's own scripts. Every route is protected (bearer token or `?token=` when HTTP_API_TOKEN is set).
 *
 *   GET /api/sites                  the stored sites
 *   GET /api/summary                stored ranges, row counts and all-time usage totals (?site=)
 *   GET /api/status                 collection status per site and data type, as `amber-collector status --json` (?site=)
 *   GET /api/prices                 price series (?site, from, to, channel, window, agg)
 *   GET /api/usage                  usage series (same parameters; channel also takes meter ids like E1)
 *   GET /api/prices/current         the current price and forecast of one site from the forecast archive (?site=)
 *   GET /api/costs                  import / feed-in / net dollars per NEM day, energy only (?site, from, to as dates)
 *   GET /api/bill                   one month's statement as on an Amber bill (?site, month=YYYY-MM; default the month of yesterday)
 *   GET /api/forecast-accuracy      archived forecasts against settled prices by lead time (?site, from, to, channel,
 *                                   by=time-of-day adds the figures per NEM hour; default the last 30 days, at most
 *                                   366; see query/forecast-accuracy.ts)
 *   GET /api/feeds/emhass           EMHASS runtime parameters: import and export prices per step (?site, horizon_hours,
 *                                   step_minutes, source, align; see query/emhass-feed.ts)
 *   GET /api/feeds/forecast         the forecast in Home Assistant's core Amber shape (?site, channel; query/core-forecast.ts)
 *
 * Series parameters: `from`/`to` are NEM dates (YYYY-MM-DD; `to` inclusive) or ISO 8601 instants with an
 * offset (`to` exclusive); intervals are selected and bucketed by their START, in NEM time. Defaults: the
 * last 7 NEM days through tomorrow (so stored forecasts show). `window` is 5m, 30m, 1h, 1d or 1mo; without
 * one the finest window that keeps the response within `maxPoints` (20,000) is used, and a requested
 * window that would exceed it is refused with a 400 naming the windows that fit. `agg` (min, max, avg,
 * sum) applies to every value column; prices default to avg (time-weighted), usage to sum.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';
import { z } from 'zod';
import type { NemDate } from '../domain/models.ts';
import { addDays, daysBetween, isNemDate, isNemMonth, lastUsageDay, monthOf, nemDayStart, nemIsoInstant, nemToday } from '../domain/nem-time.ts';
import { isConnectionFailure } from '../db/pool.ts';
import { CollectorError, isCollectorError } from '../errors.ts';
import { buildStatusReport, type StatusSettings } from '../query/collection-status.ts';
import { archivedForecastEntries } from '../query/core-forecast.ts';
import { readPricesNow } from '../query/current.ts';
import { emhassFeed, FEED_ALIGNMENTS, FEED_SOURCES, MAX_HORIZON_HOURS, STEP_MINUTES } from '../query/emhass-feed.ts';
import { forecastAccuracy } from '../query/forecast-accuracy.ts';
import { forecastInForce } from '../query/forecast-archive.ts';
import { dailyCosts, summary } from '../query/reports.ts';
import { ENERGY_ONLY, monthlyStatement } from '../query/statement.ts';
import type { FixedCharges } from '../domain/fixed-charges.ts';
import { AGGREGATES, chooseWindow, DEFAULT_MAX_POINTS, priceSeries, usageSeries, WINDOWS, type SeriesRange } from '../query/series.ts';
import { listSites, selectSites } from '../query/site-selection.ts';
import { ReadGate } from './read-gate.ts';
import { sendJson, type Route } from './server.ts';

export interface ReadApiDeps {
  /** The read pool: its own connections, so reads never take the collector's (see daemon.ts). */
  pool: pg.Pool;
  /** The collection settings `/api/status` judges staleness, gaps and ETAs by (see statusSettingsOf). */
  status: StatusSettings;
  /** Admission control in front of the pool. Default: the pool's size at once, twice that waiting up to 2 s. */
  gate?: ReadGate;
  /** The clock for defaults and "current"; tests pin it. */
  now?: () => Date;
  /** Most points one series response may hold. Default 20,000. */
  maxPoints?: number;
  /** FIXED_CHARGES_FILE as read at start; null or absent: statements are energy only. */
  fixedCharges?: FixedCharges | null;
}

const DEFAULT_CONCURRENCY = 3;
const DEFAULT_MAX_WAIT_MS = 2_000;
const DEFAULT_SERIES_DAYS = 7;
const DEFAULT_COST_DAYS = 30;
const MAX_COST_DAYS = 3660;
const DEFAULT_ACCURACY_DAYS = 30;
/** A year answers in seconds (query/forecast-accuracy.ts); longer would hold a read connection too long. */
const MAX_ACCURACY_DAYS = 366;

export function readRoutes(deps: ReadApiDeps): Route[] {
  const { pool } = deps;
  const now = deps.now ?? (() => new Date());
  const maxPoints = deps.maxPoints ?? DEFAULT_MAX_POINTS;
  const concurrency = pool.options.max ?? DEFAULT_CONCURRENCY;
  const gate = deps.gate ?? new ReadGate({ concurrency, queueLength: 2 * concurrency, maxWaitMs: DEFAULT_MAX_WAIT_MS });
  const jsonRoute = <S extends z.ZodType<object>>(path: string, schema: S, handler: (query: z.output<S>) => Promise<unknown>): Route =>
    gatedJsonRoute(path, schema, (query) => gate.run(() => handler(query)));

  return [
    jsonRoute('/api/sites', z.strictObject({}), async () => ({ sites: await listSites(pool) })),
    jsonRoute('/api/summary', siteOnly, async (query) => {
      const sites = await selectSites(pool, query.site ?? null);
      return summary(pool, sites.map((s) => s.id));
    }),
    jsonRoute('/api/status', siteOnly, async (query) => {
      // selectSites turns an unknown ?site= into a 400 that lists the known ones.
      const site = query.site === undefined ? null : ((await selectSites(pool, query.site))[0]?.id ?? null);
      const at = now();
      return { now: at.toISOString(), ...(await buildStatusReport(pool, deps.status, at, { siteId: site })) };
    }),
    jsonRoute('/api/prices', seriesQuery, async (query) => {
      const range = await seriesRange(pool, query, now());
      const plan = planWindow('price', range, query.window ?? null, maxPoints);
      const agg = query.agg ?? 'avg';
      return { ...describeRange(range, plan, agg, maxPoints), unit: 'c/kWh', series: await priceSeries(pool, range, plan.window, agg) };
    }),
    jsonRoute('/api/usage', seriesQuery, async (query) => {
      const range = await seriesRange(pool, query, now());
      const plan = planWindow('usage', range, query.window ?? null, maxPoints);
      const agg = query.agg ?? 'sum';
      return { ...describeRange(range, plan, agg, maxPoints), unit: 'kWh; cost in cents', series: await usageSeries(pool, range, plan.window, agg) };
    }),
    jsonRoute('/api/prices/current', siteOnly, async (query) => {
      // Without ?site= the first listed site: active ones come first, newest first.
      const [site] = await selectSites(pool, query.site ?? null);
      if (site === undefined) return { siteId: null, now: now().toISOString(), channels: [], forecast: [] };
      return { siteId: site.id, ...(await readPricesNow(pool, { siteId: site.id, now: now() })) };
    }),
    jsonRoute('/api/costs', costsQuery, async (query) => {
      const sites = await selectSites(pool, query.site ?? null);
      const to = query.to ?? addDays(nemToday(now()), -1);
      const from = query.from ?? addDays(to, -(DEFAULT_COST_DAYS - 1));
      if (daysBetween(from, to) < 0) throw badRequest([`from: ${from} is after to ${to}`]);
      if (daysBetween(from, to) >= MAX_COST_DAYS) throw badRequest([`from/to: at most ${MAX_COST_DAYS} days at a time`]);
      // Daily figures are energy: supply, membership and fees are billed by the month (/api/bill).
      return { from, to, basis: ENERGY_ONLY, days: await dailyCosts(pool, { siteIds: sites.map((s) => s.id), from, to }) };
    }),
    jsonRoute('/api/bill', billQuery, async (query) => {
      const [site] = await selectSites(pool, query.site ?? null);
      if (site === undefined) throw badRequest(['site: no sites are stored yet; the collector reads them from Amber when it first runs']);
      const month = query.month ?? monthOf(lastUsageDay(now()));
      return monthlyStatement(pool, { site, month, fixedCharges: deps.fixedCharges ?? null, now: now() });
    }),
    jsonRoute('/api/forecast-accuracy', accuracyQuery, async (query) => {
      // Without ?site= the first listed site, as /api/prices/current.
      const [site] = await selectSites(pool, query.site ?? null);
      const to = query.to === undefined ? now() : instantOf(query.to, 'end');
      const from = query.from === undefined ? new Date(to.getTime() - DEFAULT_ACCURACY_DAYS * 86_400_000) : instantOf(query.from, 'start');
      if (from.getTime() >= to.getTime()) throw badRequest([`from: must be before to (${nemIsoInstant(from)} is not before ${nemIsoInstant(to)})`]);
      if (to.getTime() - from.getTime() > MAX_ACCURACY_DAYS * 86_400_000) throw badRequest([`from/to: at most ${MAX_ACCURACY_DAYS} days at a time`]);
      const range = { siteId: site?.id ?? null, from: nemIsoInstant(from), to: nemIsoInstant(to), unit: 'c/kWh' };
      const byTimeOfDay = query.by === 'time-of-day';
      if (site === undefined) return { ...range, buckets: [], spikeWarnings: [], ...(byTimeOfDay ? { timeOfDay: [] } : {}) };
      return { ...range, ...(await forecastAccuracy(pool, { siteId: site.id, from, to, channels: query.channel ?? null, byTimeOfDay })) };
    }),
    jsonRoute('/api/feeds/emhass', emhassQuery, async (query) => {
      const [site] = await selectSites(pool, query.site ?? null);
      if (site === undefined) throw badRequest(['site: no sites are stored yet']);
      return {
        site_id: site.id,
        ...(await emhassFeed(pool, {
          siteId: site.id,
          hasFeedIn: site.channels.some((c) => c.type === 'feedIn'),
          now: now(),
          horizonHours: query.horizon_hours ?? 24,
          stepMinutes: query.step_minutes ?? 30,
          source: query.source ?? 'perKwh',
          align: query.align ?? 'next',
        })),
      };
    }),
    jsonRoute('/api/feeds/forecast', forecastFeedQuery, async (query) => {
      const [site] = await selectSites(pool, query.site ?? null);
      const channel = query.channel ?? 'general';
      if (site === undefined) return { site_id: null, channel_type: channel, forecasts: [] };
      const at = now();
      const archived = await forecastInForce(pool, { siteId: site.id, at, until: new Date(at.getTime() + FORECAST_FEED_HOURS * 3_600_000) });
      // Intervals starting after now, as the core integration's forecast sensor lists them (the running one is its price sensor).
      const forecast = archived.filter((price) => price.channelType === channel && price.startMs > at.getTime());
      return { site_id: site.id, channel_type: channel, forecasts: archivedForecastEntries(forecast) };
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Parameters

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * No stored interval lies outside these years; refusing such dates up front keeps year 9999 from reaching
 * date arithmetic (which would step past year 9999) and SQL.
 */
const PLAUSIBLE_YEARS = { first: 2000, last: 2100 };
const plausibleYear = (value: string): boolean => {
  const year = Number(value.slice(0, 4));
  return year >= PLAUSIBLE_YEARS.first && year <= PLAUSIBLE_YEARS.last;
};
const yearRange = `years ${PLAUSIBLE_YEARS.first} to ${PLAUSIBLE_YEARS.last}`;

export const siteParam = z.string().trim().min(1, { error: 'expected a site id' });

const timeParam = z
  .string()
  .refine((value) => isNemDate(value) || (ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value))), {
    error: (issue) =>
      `expected a NEM date (YYYY-MM-DD) or an ISO 8601 instant with an offset (e.g. 2025-11-20T13:00:00+10:00), got ${JSON.stringify(issue.input)}`,
    abort: true,
  })
  .refine(plausibleYear, { error: (issue) => `expected a date in the ${yearRange}, got ${JSON.stringify(issue.input)}` });

export const dateParam = z
  .string()
  .refine(isNemDate, { error: (issue) => `expected a date as YYYY-MM-DD, got ${JSON.stringify(issue.input)}`, abort: true })
  .refine(plausibleYear, { error: (issue) => `expected a date in the ${yearRange}, got ${JSON.stringify(issue.input)}` });

const siteOnly = z.strictObject({ site: siteParam.optional() });

/** One of a fixed set of words; a 400 lists them. */
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue) => `expected one of ${values.join(', ')}, got ${JSON.stringify(issue.input)}` });

/** A comma-separated list, blanks dropped. */
const commaList = z.string().transform((value) => value.split(',').map((part) => part.trim()).filter((part) => part !== ''));

/** Site and range, the parameters every read over time shares. */
const rangeParams = { site: siteParam.optional(), from: timeParam.optional(), to: timeParam.optional() };

const seriesQuery = z.strictObject({
  ...rangeParams,
  channel: commaList.refine((channels) => channels.length > 0, { error: 'expected channel types or meter ids, e.g. general,feedIn or E1' }).optional(),
  window: oneOf(WINDOWS).optional(),
  agg: oneOf(AGGREGATES).optional(),
});

const CHANNEL_TYPES = ['general', 'controlledLoad', 'feedIn'] as const;

/** `lead` (the default): by lead bucket only; `time-of-day` adds the figures per NEM hour. */
const ACCURACY_VIEWS = ['lead', 'time-of-day'] as const;

const accuracyQuery = z.strictObject({
  ...rangeParams,
  channel: commaList
    .refine((channels) => channels.length > 0 && channels.every((c) => (CHANNEL_TYPES as readonly string[]).includes(c)), {
      error: (issue) => `expected channel types from ${CHANNEL_TYPES.join(', ')}, comma separated, got ${JSON.stringify(issue.input)}`,
    })
    .optional(),
  by: oneOf(ACCURACY_VIEWS).optional(),
});

/** A whole number written as digits only (no sign, exponent or fraction), then checked against its range. */
const wholeParam = (name: string, check: (value: number) => boolean, range: string) =>
  z
    .string()
    .regex(/^\d{1,6}$/, { error: (issue) => `expected ${name} as a whole number, ${range}, got ${JSON.stringify(issue.input)}` })
    .transform(Number)
    .refine(check, { error: (issue) => `expected ${name} ${range}, got ${JSON.stringify(issue.input)}` });

const emhassQuery = z.strictObject({
  site: siteParam.optional(),
  horizon_hours: wholeParam('hours', (h) => h >= 1 && h <= MAX_HORIZON_HOURS, `from 1 to ${MAX_HORIZON_HOURS}`).optional(),
  step_minutes: wholeParam('minutes', (m) => (STEP_MINUTES as readonly number[]).includes(m), `one of ${STEP_MINUTES.join(', ')}`).optional(),
  source: oneOf(FEED_SOURCES).optional(),
  align: oneOf(FEED_ALIGNMENTS).optional(),
});

/** Amber's forecast reaches the end of the next NEM day: 48 hours at most. */
const FORECAST_FEED_HOURS = 48;

const forecastFeedQuery = z.strictObject({
  site: siteParam.optional(),
  channel: oneOf(CHANNEL_TYPES).optional(),
});

const costsQuery = z.strictObject({ site: siteParam.optional(), from: dateParam.optional(), to: dateParam.optional() });

const monthParam = z
  .string()
  .refine(isNemMonth, { error: (issue) => `expected a month as YYYY-MM, got ${JSON.stringify(issue.input)}`, abort: true })
  .refine(plausibleYear, { error: (issue) => `expected a month in the ${yearRange}, got ${JSON.stringify(issue.input)}` });

const billQuery = z.strictObject({ site: siteParam.optional(), month: monthParam.optional() });

export function badRequest(problems: string[]): CollectorError {
  return new CollectorError('USAGE', 'invalid query parameters', { details: { problems } });
}

/** Control characters (NUL included, which PostgreSQL cannot even receive) belong in no parameter. */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** The query string as an object (without `token`, which belongs to authentication), refusing repeats and control characters. */
function queryObject(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of url.searchParams) {
    if (key === 'token') continue;
    if (CONTROL_CHARACTER.test(key) || CONTROL_CHARACTER.test(value)) {
      problems.push(`${JSON.stringify(key.slice(0, 40))}: control characters are not allowed in parameters`);
      continue;
    }
    if (Object.hasOwn(query, key)) problems.push(`${key}: given more than once`);
    query[key] = value;
  }
  if (problems.length > 0) throw badRequest(problems);
  return query;
}

/**
 * A GET route answering JSON: the query string checked against `schema` (a 400 lists every problem), then
 * `handler`, which the caller runs through its gate.
 */
export function gatedJsonRoute<S extends z.ZodType<object>>(path: string, schema: S, handler: (query: z.output<S>, url: URL) => Promise<unknown>): Route {
  return {
    method: 'GET',
    path,
    protected: true,
    async handle(_req: IncomingMessage, res: ServerResponse, url: URL) {
      try {
        const parsed = schema.safeParse(queryObject(url));
        if (!parsed.success) {
          throw badRequest(parsed.error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message)));
        }
        sendJson(res, 200, await handler(parsed.data, url));
      } catch (err) {
        answerFailure(res, err, 'invalid query parameters');
      }
    },
  };
}

/**
 * A usage error is a 400 listing its problems; overload, a statement timeout or an unreachable database a
 * 503 to retry; a battery calculation stopped at its deadline a 504; anything else is a bug and propagates (the server answers 500).
 */
export function answerFailure(res: ServerResponse, err: unknown, badRequestText: string): void {
  if (isCollectorError(err, 'USAGE')) {
    const problems = err.details.problems ?? [err.message];
    sendJson(res, 400, { error: badRequestText, problems });
  } else if (isCollectorError(err, 'BATTERY_LIMIT')) {
    // Past its deadline the same request would take as long again (504); out of memory, perhaps not with less running (503).
    if (err.details.limit === 'memory') res.setHeader('retry-after', '60');
    sendJson(res, err.details.limit === 'memory' ? 503 : 504, { error: err.message });
  } else if (isCollectorError(err, 'READ_OVERLOADED')) {
    const retryAfterSeconds = err.details.retryAfterSeconds ?? 1;
    res.setHeader('retry-after', String(retryAfterSeconds));
    sendJson(res, 503, { error: `the read API is busy; try again in ${retryAfterSeconds} s` });
  } else if (err instanceof pg.DatabaseError && err.code === '57014') {
    // The read pool's statement timeout: a heavy query under load. Refused like overload, not a bug.
    res.setHeader('retry-after', '5');
    sendJson(res, 503, { error: 'the query took too long under the current load; try again shortly or ask for a shorter range' });
  } else if (databaseNotReady(err)) {
    res.setHeader('retry-after', '30');
    sendJson(res, 503, { error: 'the database is not reachable or not migrated yet; try again shortly' });
  } else {
    throw err;
  }
}

/**
 * The daemon serves HTTP before the database is up (so health checks answer): until then, and while it is
 * unreachable, reads fail with a 503 a client can retry rather than a 500 that looks like a bug.
 */
function databaseNotReady(err: unknown): boolean {
  // Refused, cut, starting up, or no pool connection within its timeout; or no table yet.
  return isConnectionFailure(err) || (err instanceof pg.DatabaseError && err.code === '42P01');
}

// ---------------------------------------------------------------------------------------------------
// Series ranges

async function seriesRange(pool: pg.Pool, query: z.output<typeof seriesQuery>, now: Date): Promise<SeriesRange> {
  const sites = await selectSites(pool, query.site ?? null);
  const today = nemToday(now);
  const to = query.to === undefined ? nemDayStart(addDays(today, 2)) : instantOf(query.to, 'end');
  const from = query.from === undefined ? new Date(to.getTime() - DEFAULT_SERIES_DAYS * 86_400_000) : instantOf(query.from, 'start');
  if (from.getTime() >= to.getTime()) throw badRequest([`from: must be before to (${nemIsoInstant(from)} is not before ${nemIsoInstant(to)})`]);
  return { sites, channels: query.channel ?? null, from, to };
}

/** A date means the whole NEM day: `from` at its start, `to` at its end (the next day's start). */
function instantOf(value: string, side: 'start' | 'end'): Date {
  if (!isNemDate(value)) return new Date(value);
  const day: NemDate = side === 'start' ? value : addDays(value, 1);
  return nemDayStart(day);
}

function planWindow(kind: 'price' | 'usage', range: SeriesRange, requested: (typeof WINDOWS)[number] | null, maxPoints: number) {
  const choice = chooseWindow(kind, range, requested, maxPoints);
  if (!choice.ok) throw badRequest([`window: ${choice.problem}`]);
  return { window: choice.window, chosen: requested === null ? 'auto' : 'requested' };
}

function describeRange(range: SeriesRange, plan: { window: string; chosen: string }, agg: string, maxPoints: number) {
  return { from: nemIsoInstant(range.from), to: nemIsoInstant(range.to), window: plan.window, windowChosen: plan.chosen, agg, maxPoints };
}
