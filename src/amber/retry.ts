/**
 * Pure retry decisions for Amber calls: how a response status or a transport error is classified, how long
 * to back off, and how to read `Retry-After`. The client does the waiting (through the rate limiter, because
 * every retry costs quota).
 */
import type { ErrorCode } from '../errors.ts';

export interface RetryPolicy {
  /** Attempts per call, the first one included. */
  maxAttempts: number;
  /** Backoff base: the wait after failure n (from 0) is drawn from [0, min(capMs, baseMs · 2^n)). */
  baseMs: number;
  /** Backoff cap. */
  capMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseMs: 1_000, capMs: 60_000 };

/** What the client does with a response, by status. */
export type ResponseOutcome =
  | 'success'
  /** Bad or revoked key: fatal, never retried. */
  | 'auth'
  | 'not-found'
  /** A request the API refuses as malformed (400, 422 and other 4xx): a bug in the caller, never retried. */
  | 'bad-request'
  /** Wait for the lockout to end, then retry. */
  | 'rate-limited'
  /** 5xx and 408: retried with backoff. */
  | 'server-error';

export function classifyStatus(status: number): ResponseOutcome {
  if (status >= 200 && status < 300) return 'success';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status === 408 || status >= 500) return 'server-error';
  return 'bad-request';
}

const TIMEOUT_ERROR_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** undici codes for a malformed request or a call after `close()`: bugs that retrying cannot help. */
const PROGRAMMING_ERROR_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/**
 * The collector error code for an error thrown while sending a request or reading its body, or null when
 * the error is not a transport failure (a bug, which must surface as is).
 */
export function classifyTransportError(err: unknown): Extract<ErrorCode, 'AMBER_TIMEOUT' | 'AMBER_NETWORK'> | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (TIMEOUT_ERROR_CODES.has(code)) return 'AMBER_TIMEOUT';
  if (PROGRAMMING_ERROR_CODES.has(code)) return null;
  // Resets, refused connections, DNS failures, sockets closed mid-body (UND_ERR_SOCKET, ECONNRESET, …).
  return 'AMBER_NETWORK';
}

/**
 * Full-jitter exponential backoff: a uniform draw from [0, min(cap, base·2^attempt)) (AWS, "Exponential
 * Backoff and Jitter"). `attempt` counts from 0 for the wait after the first failure.
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` in milliseconds from now: delta seconds or an HTTP date (RFC 9110 §10.2.3). Null when
 * absent or malformed (the draft says to ignore malformed values); a date in the past gives 0.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, wallNowMs: number): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names a weekday and a month; this keeps V8's lenient parser away from junk like "1.5".
  if (!/[A-Za-z]{3}/.test(text)) return null;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - wallNowMs);
}
