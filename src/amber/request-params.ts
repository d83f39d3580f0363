/**
 * A call's path and query, checked before any budget is spent: a request Amber would refuse (a range
 * longer than 7 days, a resolution it does not know) is an AMBER_BAD_REQUEST here, not a wasted call.
 */
import type { NemDate } from '../domain/models.ts';
import { daysBetween, isNemDate, MAX_RANGE_DAYS } from '../domain/nem-time.ts';
import { CollectorError } from '../errors.ts';

const RESOLUTIONS = [5, 30];

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
