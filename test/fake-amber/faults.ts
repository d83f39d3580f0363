/**
 * Fault injection: failures the live API and its AWS gateway have shown (API-NOTES §6–8), queued by tests
 * and fired on matching requests in queue order.
 *
 * Three families:
 * - replacements answer instead of the API (`status`, `bare429`, `retryAfter429`, `lockout`); they happen
 *   in front of Amber's limiter, so they neither count against the budget nor carry `RateLimit-*` headers
 *   (except `lockout`, which is the limiter itself misbehaving);
 * - body faults rewrite a successful array (`unknownFields`, `newEnum`, `badRow`, `empty`, `dropIntervals`,
 *   `nul`, `inconsistent`, `bloated`);
 * - transport faults change how the bytes travel (`slowHeaders`, `slowBody`, `truncated`, `reset`).
 */
import { Stream, hashString, unit } from './hash.ts';

export type Endpoint = 'sites' | 'prices' | 'currentPrices' | 'usage' | 'renewables' | 'unknown';

export interface FaultMatch {
  /** Only requests to this endpoint (default: any). */
  endpoint?: Endpoint;
  /** Only requests for this site (default: any). */
  siteId?: string;
  /** How many matching requests the fault fires on (default 1). */
  times?: number;
}

export type FaultSpec = FaultMatch &
  (
    | { kind: 'status'; status: number; body?: unknown }
    | { kind: 'bare429' }
    | { kind: 'retryAfter429'; seconds: number }
    | { kind: 'lockout'; seconds: number }
    | { kind: 'slowHeaders'; ms: number }
    | { kind: 'slowBody'; ms: number }
    | { kind: 'truncated' }
    | { kind: 'reset' }
    | { kind: 'unknownFields' }
    | { kind: 'newEnum' }
    | { kind: 'badRow'; index?: number }
    | { kind: 'empty' }
    | { kind: 'dropIntervals'; fraction: number; days?: string[] }
    | { kind: 'nul' }
    | { kind: 'inconsistent'; fraction: number; days?: string[] }
    | { kind: 'bloated'; characters: number }
  );

export class FaultQueue {
  #queue: Array<{ fault: FaultSpec; remaining: number }> = [];

  inject(fault: FaultSpec): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`fault.times must be a positive integer, got ${times}`);
    this.#queue.push({ fault, remaining: times });
  }

  clear(): void {
    this.#queue = [];
  }

  /** The first queued fault matching this request, consumed once; null when none matches. */
  take(endpoint: Endpoint, siteId: string | null): FaultSpec | null {
    const matches = (fault: FaultSpec) =>
      (fault.endpoint === undefined || fault.endpoint === endpoint) && (fault.siteId === undefined || fault.siteId === siteId);
    const index = this.#queue.findIndex(({ fault }) => matches(fault));
    const entry = this.#queue[index];
    if (!entry) return null;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.#queue.splice(index, 1);
    return entry.fault;
  }
}

export const TOO_MANY_REQUESTS_BODY = '{"message":"Too Many Requests"}';
/** The live API's 500/502 body, including the space after the colon (API-NOTES §7). */
export const INTERNAL_SERVER_ERROR_BODY = '{"message": "Internal server error"}';

/** Default bodies for `status` faults: the API Gateway / Amber bodies where known (API-NOTES §7). */
export function defaultStatusBody(status: number): string {
  switch (status) {
    case 400:
      return '{"message":"Bad Request"}';
    case 401:
      return '{"message":"Unauthorized"}';
    case 403:
      return '{"message":"Forbidden"}';
    case 404:
      return '{"message":"Site not found"}';
    case 422:
      return '{"message":"Requested date range is greater than 7 days"}';
    case 429:
      return TOO_MANY_REQUESTS_BODY;
    case 503:
      return '{"message":"Service Unavailable"}';
    case 504:
      return '{"message":"Endpoint request timed out"}';
    default:
      return INTERNAL_SERVER_ERROR_BODY;
  }
}

type Row = Record<string, unknown>;

/** Applies a body fault to a successful response array; other faults leave it alone. */
export function applyBodyFault(fault: FaultSpec, rows: readonly Row[], seed: number): Row[] {
  switch (fault.kind) {
    case 'unknownFields':
      // Amber adds fields over time (API-NOTES §4.12): a scalar, and a nested object a client has never seen.
      return rows.map((row, index) => ({
        ...row,
        carbonIntensity: 0.62 + (index % 7) / 100,
        loyalty: { tier: 'gold', discountPercent: 2.5, since: '2024-01-01' },
      }));
    case 'newEnum':
      // Only the first rows change, so a test can see the rest of the response is untouched.
      return rows.map((row, index) => (index < 3 ? withNewEnumValue(row, index) : row));
    case 'badRow': {
      if (rows.length === 0) return [];
      const target = Math.min(rows.length - 1, Math.max(0, fault.index ?? Math.floor(rows.length / 2)));
      return rows.map((row, index) => (index === target ? withWrongType(row) : row));
    }
    case 'empty':
      return [];
    case 'dropIntervals': {
      const days = new Set(fault.days ?? []);
      // Dropped by interval end, so every channel loses the same intervals, as in a real data gap.
      return rows.filter((row) => {
        if (typeof row['date'] === 'string' && days.has(row['date'])) return false;
        const end = typeof row['endTime'] === 'string' ? row['endTime'] : null;
        return end === null || unit(seed, Stream.dropInterval, hashString(end)) >= fault.fraction;
      });
    }
    case 'nul':
      // A NUL in text, as a poisoned upstream record would carry it: in a value and in a key.
      return rows.map((row) => withNul(row));
    case 'inconsistent': {
      // nemTime an hour off endTime: the types are right, the interval is not (API-NOTES §3).
      const days = new Set(fault.days ?? []);
      return rows.map((row) => {
        const end = typeof row['endTime'] === 'string' ? row['endTime'] : null;
        if (end === null) return row;
        const hit = (typeof row['date'] === 'string' && days.has(row['date'])) || unit(seed, Stream.inconsistent, hashString(end)) < fault.fraction;
        return hit ? { ...row, nemTime: nemTimeOf(Date.parse(end) + 60 * 60 * 1000) } : row;
      });
    }
    case 'bloated':
      // Every element refused (a number that is text) and each as large as a hostile upstream cares to make it.
      return rows.map((row, index) => ({ ...row, perKwh: `${index}:${'9'.repeat(fault.characters)}` }));
    default:
      return [...rows];
  }
}

function withNul(row: Row): Row {
  if ('channels' in row) {
    const channels = (row['channels'] as Row[]).map((channel, index) => (index === 0 ? { ...channel, tariff: `${String(channel['tariff'])}\u0000` } : channel));
    return { ...row, network: `${String(row['network'])}\u0000x`, channels, 'note\u0000': 'a\u0000b' };
  }
  return { ...row, descriptor: `${String(row['descriptor'])}\u0000`, 'note\u0000': 'a\u0000b' };
}

/** An instant written as the API writes nemTime: at +10:00. */
function nemTimeOf(ms: number): string {
  return `${new Date(ms + 10 * 60 * 60 * 1000).toISOString().slice(0, 19)}+10:00`;
}

/**
 * Values outside today's enums, as the API has introduced before (API-NOTES §4.12): a new descriptor, spike
 * status and tariff period on rows 0, 1 and 2; a new status and channel type on sites.
 */
function withNewEnumValue(row: Row, index: number): Row {
  if ('channels' in row) {
    // A site: a new status, and a channel type nobody has seen.
    const battery = { identifier: 'S1', type: 'battery', tariff: 'BAT1' };
    return { ...row, status: 'transferring', channels: [...(row['channels'] as unknown[]), battery] };
  }
  switch (index % 3) {
    case 0:
      return { ...row, descriptor: 'ultraLow' };
    case 1:
      return { ...row, spikeStatus: 'imminent' };
    default:
      return { ...row, tariffInformation: { period: 'superOffPeak', season: 'default' } };
  }
}

function withWrongType(row: Row): Row {
  if ('perKwh' in row) return { ...row, perKwh: 'abc' };
  if ('channels' in row) return { ...row, channels: 'E1' };
  return { ...row, renewables: 'abc' };
}
