/**
 * The Amber REST API client: the only code that speaks HTTP to Amber. Every attempt (retries included, since
 * each costs quota) waits for the shared rate limiter, and every response reconciles the limiter with the
 * server's RateLimit headers. Errors are `CollectorError`s with stable codes; per-element schema problems are
 * returned in `rejected`, not thrown, so the caller decides what to do with a partly valid response.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { abortError, CollectorError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { NemDate, Parsed, PriceInterval, Site, UsageInterval } from '../domain/models.ts';
import { daysBetween, lastUsageDay } from '../domain/nem-time.ts';
import type { Clock, Priority, RateLimiter, ResponseHeaders } from './rate-limiter.ts';
import {
  backoffDelayMs,
  classifyStatus,
  classifyTransportError,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
  type RetryPolicy,
} from './retry.ts';
import { badRequest, checkRange, checkResolution, checkSiteId, currentPricesRange, queryString, sitePath, type CurrentPricesParams } from './request-params.ts';
import { parseResponseBody } from './response-body.ts';
import { parsePriceIntervals, parseSites, parseUsageIntervals, truncatedSample } from './schemas.ts';
import { describeCall, type CallEvent, type CallTarget, type RateLimitedEvent, type UnstorableTextEvent } from './call-target.ts';

const CONNECT_TIMEOUT_MS = 10_000;
/** `/prices/current`: "The total number of intervals requested must not exceed 2048". */
const MAX_CURRENT_INTERVALS = 2048;
/**
 * The longest a 429 holds every call, whatever its headers ask (or one window, if the declared window is
 * longer). Amber's window is 5 minutes, so this honours a lockout of 12 windows, while a garbage header (a
 * reset of 10 days) stalls collection for an hour at most. Too short costs one more 429 per hour; too long
 * costs hours of data, so err short.
 */
const MAX_LOCKOUT_MS = 60 * 60 * 1000;

export interface AmberClientOptions {
  /** E.g. `https://api.amber.com.au/v1`. */
  baseUrl: string;
  apiKey: string;
  limiter: RateLimiter;
  logger: Logger;
  /** When omitted the client creates (and `close()` closes) an Agent with connect, headers and body timeouts. */
  dispatcher?: Dispatcher;
  /** Per attempt: headers timeout, body inactivity timeout and overall deadline (AMBER_REQUEST_TIMEOUT_SECONDS). */
  requestTimeoutMs: number;
  retry?: Partial<RetryPolicy>;
  /** Uniform [0, 1), for backoff jitter. */
  random?: () => number;
  /** Must share the limiter's time base (429 pauses are limiter times); defaults to the limiter's clock. */
  clock?: Clock;
  /** Wall-clock epoch ms: today's NEM date for usage requests, HTTP-date `Retry-After`. */
  wallClock?: () => number;
  onCall?: (event: CallEvent) => void;
  onRateLimited?: (event: RateLimitedEvent) => void;
  onUnstorableText?: (event: UnstorableTextEvent) => void;
}

interface CallOptions {
  priority?: Priority;
  signal?: AbortSignal;
}

export interface AmberClient {
  listSites(options?: CallOptions): Promise<Parsed<Site>>;
  getPrices(
    siteId: string,
    startDate: NemDate,
    endDate: NemDate,
    options?: CallOptions & { resolution?: number },
  ): Promise<Parsed<PriceInterval>>;
  getUsage(siteId: string, startDate: NemDate, endDate: NemDate, options?: CallOptions): Promise<Parsed<UsageInterval>>;
  getCurrentPrices(siteId: string, params: CurrentPricesParams, options?: CallOptions): Promise<Parsed<PriceInterval>>;
  /** Closes the dispatcher the client created; an injected one is left to its owner. */
  close(): Promise<void>;
}

type AttemptResult =
  | { kind: 'success'; text: string }
  | { kind: 'retry'; error: CollectorError }
  | { kind: 'rate-limited'; headers: ResponseHeaders };

export function createAmberClient(options: AmberClientOptions): AmberClient {
  const { apiKey, limiter, logger, onCall, onRateLimited, onUnstorableText } = options;
  const { requestTimeoutMs } = options;
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const random = options.random ?? Math.random;
  const clock = options.clock ?? limiter.clock;
  const wallClock = options.wallClock ?? Date.now;
  const base = new URL(options.baseUrl);
  const origin = base.origin;
  const basePath = base.pathname.replace(/\/+$/, '');
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs });
  let closing: Promise<void> | null = null;

  async function call<T>(target: CallTarget, parse: (body: unknown) => Parsed<T>, callOptions: CallOptions): Promise<Parsed<T>> {
    const { priority = 'fresh', signal } = callOptions;
    for (let attempt = 1; ; attempt += 1) {
      await limiter.acquire({ priority, signal });
      const result = await attemptOnce(target, attempt, signal);
      if (result.kind === 'success') return parseResponseBody(target, result.text, parse, { logger, onUnstorableText });
      const lastAttempt = attempt >= retry.maxAttempts;
      if (result.kind === 'rate-limited') {
        // Hold every call on this key, not just this one: retrying into an active lockout only extends it.
        pauseForLockout(target, attempt, result.headers);
        if (lastAttempt) {
          throw new CollectorError('AMBER_RATE_LIMITED', `Amber kept answering 429 after ${attempt} attempts`, {
            retryable: true,
            details: { ...describeCall(target), attempts: attempt },
          });
        }
      } else {
        if (lastAttempt) throw result.error;
        const delayMs = backoffDelayMs(attempt - 1, retry, random);
        logger.debug(
          { ...describeCall(target), attempt, code: result.error.code, reason: result.error.message, delayMs },
          'amber call failed; retrying',
        );
        await clock.sleep(delayMs, signal);
      }
    }
  }

  async function attemptOnce(target: CallTarget, attempt: number, signal: AbortSignal | undefined): Promise<AttemptResult> {
    const startedAt = clock.now();
    const deadline = AbortSignal.timeout(requestTimeoutMs);
    let status: number | 'error' = 'error';
    try {
      const response = await request(`${origin}${basePath}${target.path}${queryString(target.query)}`, {
        dispatcher,
        method: 'GET',
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json', 'user-agent': 'amber-collector' },
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        headersTimeout: requestTimeoutMs,
        bodyTimeout: requestTimeoutMs,
      });
      limiter.observe(response.headers);
      // Always read the body to the end: an unconsumed undici body keeps its socket from the pool.
      const text = await response.body.text();
      status = response.statusCode;
      return outcomeOf(target, status, response.headers, text);
    } catch (err) {
      if (signal?.aborted) throw abortError(signal.reason);
      if (err instanceof CollectorError) throw err;
      const code = deadline.aborted ? 'AMBER_TIMEOUT' : classifyTransportError(err);
      if (code === null) throw err;
      return { kind: 'retry', error: transportError(code, target, err) };
    } finally {
      const durationMs = Math.round(clock.now() - startedAt);
      onCall?.({ endpoint: target.endpoint, status, durationMs, attempt });
      logger.debug(
        { ...describeCall(target), status, durationMs, attempt, remaining: limiter.snapshot().remaining },
        'amber call',
      );
    }
  }

  function outcomeOf(target: CallTarget, status: number, headers: ResponseHeaders, text: string): AttemptResult {
    const outcome = classifyStatus(status);
    if (outcome === 'success') return { kind: 'success', text };
    const details = { ...describeCall(target), status, body: truncatedSample(text, 200) };
    switch (outcome) {
      case 'auth':
        throw new CollectorError(
          'AMBER_AUTH',
          `Amber rejected the API key (HTTP ${status}): check AMBER_API_KEY ` +
            '(keys are created at https://app.amber.com.au/developers)',
          { details },
        );
      case 'not-found': {
        // The path says which address was wrong (the key travels in a header, never in it).
        const path = `${basePath}${target.path}`;
        const hint =
          target.siteId === undefined
            ? 'check AMBER_API_BASE_URL (Amber\'s is https://api.amber.com.au/v1)'
            : `check AMBER_API_BASE_URL, and that site ${target.siteId} is still on this account`;
        throw new CollectorError('AMBER_NOT_FOUND', `Amber answered 404 for ${path}: ${hint}`, { details: { ...details, path } });
      }
      case 'bad-request':
        logger.error(
          { ...details, path: target.path, query: target.query },
          'Amber refused the request as invalid; this is a bug in the collector',
        );
        throw new CollectorError('AMBER_BAD_REQUEST', `Amber refused ${target.endpoint} with HTTP ${status}`, { details });
      case 'rate-limited':
        return { kind: 'rate-limited', headers };
      case 'server-error':
        return {
          kind: 'retry',
          error: new CollectorError('AMBER_SERVER', `Amber answered HTTP ${status}`, { retryable: true, details }),
        };
    }
  }

  /**
   * Retry-After wins, then RateLimit-Reset, then a full window; plus backoff jitter so waiters don't stampede.
   * A header's pause is honoured even beyond the window (retrying early only earns more 429s), up to
   * MAX_LOCKOUT_MS.
   */
  function pauseForLockout(target: CallTarget, attempt: number, headers: ResponseHeaders): void {
    const retryAfterMs = parseRetryAfterMs(headers['retry-after'], wallClock());
    const resetMs = limiter.resetDelayMs(headers);
    const windowMs = limiter.snapshot().windowSeconds * 1000;
    const [requestedMs, source]: [number, RateLimitedEvent['source']] =
      retryAfterMs !== null
        ? [retryAfterMs, 'retry-after']
        : resetMs !== null
          ? [resetMs, 'ratelimit-reset']
          : [windowMs, 'window'];
    const maxMs = Math.max(MAX_LOCKOUT_MS, windowMs);
    if (requestedMs > maxMs) {
      logger.warn(
        { ...describeCall(target), source, requestedMs, maxMs, retryAfter: headers['retry-after'] ?? null, ...rateLimitHeaders(headers) },
        'Amber asked for an implausibly long 429 pause; capping it',
      );
    }
    const waitMs = Math.min(requestedMs, maxMs) + backoffDelayMs(attempt - 1, retry, random);
    limiter.pauseUntil(clock.now() + waitMs);
    logger.warn(
      { ...describeCall(target), attempt, waitMs, source, retryAfter: headers['retry-after'] ?? null, ...rateLimitHeaders(headers) },
      'Amber rate limit hit (429); all calls paused',
    );
    onRateLimited?.({ endpoint: target.endpoint, attempt, waitMs, source });
  }

  return {
    listSites(callOptions = {}) {
      return call({ endpoint: 'sites', path: '/sites', query: {} }, (body) => parseSites(body, logger), callOptions);
    },

    async getPrices(siteId, startDate, endDate, callOptions = {}) {
      const { resolution, ...rest } = callOptions;
      checkSiteId(siteId);
      checkRange(startDate, endDate);
      if (resolution !== undefined) checkResolution(resolution);
      const query: Record<string, string> = { startDate, endDate };
      if (resolution !== undefined) query.resolution = String(resolution);
      const target: CallTarget = { endpoint: 'prices', path: `${sitePath(siteId)}/prices`, query, siteId, startDate, endDate };
      return call(target, (body) => parsePriceIntervals(body, logger, { from: startDate, to: endDate }), rest);
    },

    async getUsage(siteId, startDate, endDate, callOptions = {}) {
      checkSiteId(siteId);
      checkRange(startDate, endDate);
      const lastDay = lastUsageDay(new Date(wallClock()));
      if (daysBetween(endDate, lastDay) < 0) {
        throw badRequest(`usage can be requested up to yesterday (${lastDay}, NEM time), not ${endDate}`);
      }
      const target: CallTarget = {
        endpoint: 'usage',
        path: `${sitePath(siteId)}/usage`,
        query: { startDate, endDate },
        siteId,
        startDate,
        endDate,
      };
      return call(target, (body) => parseUsageIntervals(body, logger, { from: startDate, to: endDate }), callOptions);
    },

    async getCurrentPrices(siteId, params, callOptions = {}) {
      checkSiteId(siteId);
      const query: Record<string, string> = {};
      for (const name of ['previous', 'next'] as const) {
        const value = params[name];
        if (value === undefined) continue;
        if (!Number.isInteger(value) || value < 0) throw badRequest(`${name} must be a non-negative integer, got ${value}`);
        query[name] = String(value);
      }
      if ((params.previous ?? 0) + (params.next ?? 0) > MAX_CURRENT_INTERVALS) {
        throw badRequest(`previous + next must not exceed ${MAX_CURRENT_INTERVALS}`);
      }
      if (params.resolution !== undefined) {
        checkResolution(params.resolution);
        query.resolution = String(params.resolution);
      }
      const target: CallTarget = { endpoint: 'currentPrices', path: `${sitePath(siteId)}/prices/current`, query, siteId };
      const range = currentPricesRange(params, new Date(wallClock()));
      return call(target, (body) => parsePriceIntervals(body, logger, range), callOptions);
    },

    close() {
      closing ??= ownsDispatcher ? dispatcher.close() : Promise.resolve();
      return closing;
    },
  };
}

function rateLimitHeaders(headers: ResponseHeaders): Record<string, unknown> {
  return {
    rateLimitRemaining: headers['ratelimit-remaining'] ?? null,
    rateLimitReset: headers['ratelimit-reset'] ?? null,
    rateLimitPolicy: headers['ratelimit-policy'] ?? null,
  };
}

function transportError(
  code: Extract<ErrorCode, 'AMBER_TIMEOUT' | 'AMBER_NETWORK'>,
  target: CallTarget,
  cause: unknown,
): CollectorError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const message =
    code === 'AMBER_TIMEOUT' ? `Amber did not answer in time (${reason})` : `network error talking to Amber (${reason})`;
  return new CollectorError(code, message, { retryable: true, cause, details: describeCall(target) });
}
