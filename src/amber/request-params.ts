/**
 * A call's path and query, checked before any budget is spent: a request Amber would refuse (a range
 * longer than 7 days, a resolution it does not know) is an AMBER_BAD_REQUEST here, not a wasted call.
 */
import type { NemDate } from '../domain/models.ts';
import { daysBetween, isNemDate, MAX_RANGE_DAYS, nemToday } from '../domain/nem-time.ts';
import { CollectorError } from '../errors.ts';
import type { RequestedRange } from '../domain/interval-rules.ts';

const RESOLUTIONS = [5, 30];
/** What `/prices/current` answers in when no resolution is asked for: the site's length, at most 30. */
const DEFAULT_RESOLUTION = 30;
const CLOCK_SKEW_MS = 60 * 60 * 1000;

export function queryString(query: Record<string, string>): string {
  const text = new URLSearchParams(query).toString();
  return text === '' ? '' : `?${text}`;
}

export function sitePath(siteId: string): string {
  return `/sites/${encodeURIComponent(siteId)}`;
}

export function badRequest(message: string): CollectorError {
  return new CollectorError('AMBER_BAD_REQUEST', message);
}

export function checkSiteId(siteId: string): void {
  if (siteId === '') throw badRequest('siteId must not be empty');
}

/** Both dates inclusive, at most 7 calendar days: longer ranges get a 422 from Amber. */
export function checkRange(startDate: NemDate, endDate: NemDate): void {
  if (!isNemDate(startDate) || !isNemDate(endDate)) {
    throw badRequest(`dates must be YYYY-MM-DD, got ${JSON.stringify(startDate)}..${JSON.stringify(endDate)}`);
  }
  const days = daysBetween(startDate, endDate) + 1;
  if (days < 1) throw badRequest(`startDate ${startDate} is after endDate ${endDate}`);
  if (days > MAX_RANGE_DAYS) {
    throw badRequest(`${startDate}..${endDate} spans ${days} days; Amber allows at most ${MAX_RANGE_DAYS}`);
  }
}

export function checkResolution(resolution: number): void {
  if (!RESOLUTIONS.includes(resolution)) throw badRequest(`resolution must be 5 or 30, got ${resolution}`);
}

export interface CurrentPricesParams {
  previous?: number;
  next?: number;
  resolution?: number;
}

/**
 * The NEM days `/prices/current` can answer for: from the end of the earliest previous interval to the end
 * of the last next one (the running interval ends at most one interval from now), widened by an hour each
 * side for clock skew between Amber and this machine.
 */
export function currentPricesRange(params: CurrentPricesParams, now: Date): RequestedRange {
  const stepMs = (params.resolution ?? DEFAULT_RESOLUTION) * 60_000;
  const earliest = now.getTime() - (params.previous ?? 0) * stepMs - CLOCK_SKEW_MS;
  const latest = now.getTime() + ((params.next ?? 0) + 1) * stepMs + CLOCK_SKEW_MS;
  return { from: nemToday(new Date(earliest)), to: nemToday(new Date(latest)) };
}
