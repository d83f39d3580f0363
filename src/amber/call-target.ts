/** What one Amber call is about, and what the client reports of its calls to observers (metrics). */
import type { NemDate } from '../domain/models.ts';

export type Endpoint = 'sites' | 'prices' | 'currentPrices' | 'usage';

/** One HTTP attempt, for metrics. `status` is 'error' when no complete response arrived. */
export interface CallEvent {
  endpoint: Endpoint;
  status: number | 'error';
  durationMs: number;
  /** 1 for the first attempt of a call. */
  attempt: number;
}

/** A 429: how long every call now holds, and which header said so. */
export interface RateLimitedEvent {
  endpoint: Endpoint;
  attempt: number;
  waitMs: number;
  source: 'retry-after' | 'ratelimit-reset' | 'window';
}

/** A response whose text held characters PostgreSQL cannot store, replaced before parsing. */
export interface UnstorableTextEvent {
  endpoint: Endpoint;
  /** Characters replaced in the response. */
  replaced: number;
}

/** What one call is about: enough to build the URL and to log it without secrets. */
export interface CallTarget {
  endpoint: Endpoint;
  path: string;
  query: Record<string, string>;
  siteId?: string;
  startDate?: NemDate;
  endDate?: NemDate;
}

/** Log and error fields for a call: never the URL or headers, so the key cannot leak. */
export function describeCall(target: CallTarget): Record<string, unknown> {
  return {
    endpoint: target.endpoint,
    ...(target.siteId === undefined ? {} : { site: target.siteId }),
    ...(target.startDate === undefined ? {} : { startDate: target.startDate, endDate: target.endDate }),
  };
}
