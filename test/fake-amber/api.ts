/**
 * The API's endpoints as pure functions of (configuration, route, query, data clock): routing, parameter
 * validation with the live API's status codes and bodies, and the data each endpoint returns. HTTP,
 * auth, rate limiting and faults live in `server.ts`.
 */
import type { Endpoint } from './faults.ts';
import { INTERNAL_SERVER_ERROR_BODY } from './faults.ts';
import { MINUTE_MS, nemDayOfInstant, nemDayOfIntervalEnd, nemDayStartMs, parseNemDate } from './nem-time.ts';
import { type PriceJson, currentSlots, forecastHorizonEndMs, priceRowsFor, slotsOfDays } from './prices.ts';
import { STATES, renewableRows } from './renewables.ts';
import { type SiteModel, dataDays, siteJson } from './sites.ts';
import { type UsageJson, type UsageTiming, usageRows, usageStageOf } from './usage.ts';

export interface ApiConfig {
  readonly seed: number;
  /** In the order `/sites` lists them. */
  readonly sites: readonly SiteModel[];
  readonly historyDays: number | null;
  readonly usageTiming: UsageTiming;
  readonly mixedDurations: boolean;
}

export interface Route {
  endpoint: Endpoint;
  siteId: string | null;
  state: string | null;
}

/** Inclusive NEM day numbers. */
type DayRange = { first: number; last: number };

/** A successful array, or an error with the exact body bytes to send. */
export type ApiResult = { status: 200; rows: Array<Record<string, unknown>> } | { status: number; body: string };

/** Spec limit for `startDate`/`endDate` (API-NOTES §2.2): a difference above 7 days is rejected. */
const MAX_RANGE_DAYS = 7;
/** Spec limit for `previous + next` on `/prices/current` (API-NOTES §2.3). */
const MAX_CURRENT_INTERVALS = 2048;
/** The live API fails with 500 when `startDate` is omitted in the last ~11 minutes of the NEM day (§2.2). */
const MIDNIGHT_BUG_WINDOW_MS = 11 * MINUTE_MS;

const RANGE_TOO_LONG = message('Requested date range is greater than 7 days');
const TOO_MANY_INTERVALS = message('Requested number of intervals is greater than 2048');

function message(text: string): string {
  return JSON.stringify({ message: text });
}

function error(status: number, body: string): ApiResult {
  return { status, body };
}

export function routeOf(pathname: string): Route {
  const parts = pathname.replace(/\/+$/, '').split('/').slice(1);
  const unknown: Route = { endpoint: 'unknown', siteId: null, state: null };
  if (parts[0] !== 'v1') return unknown;
  const [, first, id, leaf, extra] = parts;
  if (first === 'sites' && id === undefined) return { endpoint: 'sites', siteId: null, state: null };
  if (first === 'sites' && id !== undefined) {
    const siteId = decodeURIComponent(id);
    if (leaf === 'prices' && extra === undefined) return { endpoint: 'prices', siteId, state: null };
    if (leaf === 'prices' && extra === 'current' && parts.length === 5) return { endpoint: 'currentPrices', siteId, state: null };
    if (leaf === 'usage' && extra === undefined) return { endpoint: 'usage', siteId, state: null };
  }
  if (first === 'state' && id !== undefined && leaf === 'renewables' && extra === 'current' && parts.length === 5) {
    return { endpoint: 'renewables', siteId: null, state: decodeURIComponent(id) };
  }
  return unknown;
}

export function handleApiRequest(config: ApiConfig, route: Route, query: Record<string, string>, nowMs: number): ApiResult {
  if (route.endpoint === 'sites') return { status: 200, rows: config.sites.map((site) => siteJson(site.spec)) };
  if (route.endpoint === 'renewables') return renewables(config, route.state ?? '', query, nowMs);
  if (route.endpoint === 'unknown') return error(404, message('Not Found'));
  const site = config.sites.find((candidate) => candidate.spec.id === route.siteId);
  if (!site) return error(404, message('Site not found'));
  switch (route.endpoint) {
    case 'prices':
      return prices(config, site, query, nowMs);
    case 'currentPrices':
      return currentPrices(config, site, query, nowMs);
    case 'usage':
      return usage(config, site, query, nowMs);
  }
}

function prices(config: ApiConfig, site: SiteModel, query: Record<string, string>, nowMs: number): ApiResult {
  const range = dateRange(query, nowMs, { required: false });
  if ('status' in range) return range;
  const resolution = resolutionOf(query, site);
  if (resolution === null) return error(422, message('Resolution must be 5 or 30'));
  return { status: 200, rows: asRows(pricesForDays(config, site, range.first, range.last, resolution, nowMs)) };
}

/** The `/prices` rows for whole NEM days, regardless of the 7-day limit (also the ground truth). */
export function pricesForDays(
  config: ApiConfig,
  site: SiteModel,
  first: number,
  last: number,
  resolution: number,
  nowMs: number,
): PriceJson[] {
  const days = clampToData(config, site, first, last, nowMs);
  if (!days) return [];
  return priceRowsFor(site, slotsOfDays(site, days.first, days.last, resolution, forecastHorizonEndMs(nowMs)), nowMs);
}

function currentPrices(config: ApiConfig, site: SiteModel, query: Record<string, string>, nowMs: number): ApiResult {
  const counts = neighbourCounts(query);
  if (counts === null) return error(422, message('previous and next must be non-negative integers'));
  if (counts.previous + counts.next > MAX_CURRENT_INTERVALS) return error(422, TOO_MANY_INTERVALS);
  const resolution = resolutionOf(query, site);
  if (resolution === null) return error(422, message('Resolution must be 5 or 30'));
  const days = dataDays(site.spec, nemDayOfInstant(nowMs), config.historyDays);
  const slots = currentSlots(site, nowMs, {
    ...counts,
    resolution,
    mixedDurations: config.mixedDurations,
    isAvailable: (endMs) => {
      const day = nemDayOfIntervalEnd(endMs);
      return days !== null && day >= days.first && day <= days.last;
    },
  });
  return { status: 200, rows: asRows(priceRowsFor(site, slots, nowMs)) };
}

function usage(config: ApiConfig, site: SiteModel, query: Record<string, string>, nowMs: number): ApiResult {
  // `resolution` is deprecated and ignored on /usage (API-NOTES §2.4), whatever its value.
  const range = dateRange(query, nowMs, { required: true });
  if ('status' in range) return range;
  return { status: 200, rows: asRows(usageForDays(config, site, range.first, range.last, nowMs)) };
}

/** The `/usage` rows for whole NEM days as of `nowMs`, regardless of the 7-day limit (also the ground truth). */
export function usageForDays(config: ApiConfig, site: SiteModel, first: number, last: number, nowMs: number): UsageJson[] {
  const days = clampToData(config, site, first, last, nowMs);
  if (!days) return [];
  const stages = [];
  for (let day = days.first; day <= days.last; day++) stages.push({ day, stage: usageStageOf(day, nowMs, config.usageTiming) });
  return usageRows(site, stages);
}

function renewables(config: ApiConfig, state: string, query: Record<string, string>, nowMs: number): ApiResult {
  if (!(STATES as readonly string[]).includes(state)) return error(404, message('State not found'));
  const counts = neighbourCounts(query);
  if (counts === null) return error(422, message('previous and next must be non-negative integers'));
  if (counts.previous + counts.next > MAX_CURRENT_INTERVALS) return error(422, TOO_MANY_INTERVALS);
  // The renewables endpoint defaults to 30 minutes, not to a billing interval (API-NOTES §2.5).
  const resolution = query['resolution'] === undefined ? 30 : parseResolution(query['resolution']);
  if (resolution === null) return error(422, message('Resolution must be 5 or 30'));
  return { status: 200, rows: asRows(renewableRows(config.seed, state, nowMs, { ...counts, resolution })) };
}

/**
 * `startDate`/`endDate` as NEM day numbers, with the live API's answers to bad input (API-NOTES §2.2, §7):
 * malformed dates → 500 with the gateway body; start after end → 400; more than 7 days apart → 422.
 * Both default to today on `/prices`; both are required on `/usage` (400).
 */
function dateRange(query: Record<string, string>, nowMs: number, options: { required: boolean }): DayRange | ApiResult {
  const startText = query['startDate'];
  const endText = query['endDate'];
  if (options.required && (startText === undefined || endText === undefined)) {
    return error(400, message('startDate and endDate are required'));
  }
  const today = nemDayOfInstant(nowMs);
  if (startText === undefined && endText !== undefined && nemDayStartMs(today + 1) - nowMs <= MIDNIGHT_BUG_WINDOW_MS) {
    return error(500, INTERNAL_SERVER_ERROR_BODY);
  }
  const first = startText === undefined ? today : parseNemDate(startText);
  const last = endText === undefined ? today : parseNemDate(endText);
  if (first === null || last === null) return error(500, INTERNAL_SERVER_ERROR_BODY);
  if (first > last) return error(400, message('startDate must be on or before endDate'));
  // Undocumented whether a difference of exactly 7 (8 days inclusive) passes (API-NOTES §12); the fake
  // accepts it and rejects anything larger, per the spec's wording "must not exceed 7 days".
  if (last - first > MAX_RANGE_DAYS) return error(422, RANGE_TOO_LONG);
  return { first, last };
}

/** Default: the site's billing interval (API-NOTES §2.2, S9). Anything but 5 or 30 is rejected (§7, S13). */
function resolutionOf(query: Record<string, string>, site: SiteModel): number | null {
  const text = query['resolution'];
  return text === undefined ? site.spec.intervalLength : parseResolution(text);
}

function parseResolution(text: string): number | null {
  return text === '5' || text === '30' ? Number(text) : null;
}

function neighbourCounts(query: Record<string, string>): { previous: number; next: number } | null {
  const parse = (text: string | undefined) => (text === undefined ? 0 : /^\d{1,9}$/.test(text) ? Number(text) : null);
  const previous = parse(query['previous']);
  const next = parse(query['next']);
  return previous === null || next === null ? null : { previous, next };
}

/** Intersects requested days with the days the site has data (activeFrom, closedOn, history depth). */
function clampToData(config: ApiConfig, site: SiteModel, first: number, last: number, nowMs: number): DayRange | null {
  const days = dataDays(site.spec, nemDayOfInstant(nowMs), config.historyDays);
  if (!days) return null;
  const clamped = { first: Math.max(first, days.first), last: Math.min(last, days.last) };
  return clamped.first <= clamped.last ? clamped : null;
}

function asRows(rows: ReadonlyArray<object>): Array<Record<string, unknown>> {
  return rows as Array<Record<string, unknown>>;
}

