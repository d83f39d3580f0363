/**
 * The Amber REST API client: the only code that speaks HTTP to Amber. Every attempt (retries included, since
 * each costs quota) waits for the shared rate limiter, and every response reconciles the limiter with the
 * server's RateLimit headers. Errors are `CollectorError`s with stable codes; per-element schema problems are
 * returned in `rejected`, not thrown, so the caller decides what to do with a partly valid response.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { abortError, CollectorError, isCollectorError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { NemDate, Parsed, PriceInterval, Site, UsageInterval } from '../domain/models.ts';
import { daysBetween, lastUsageDay, nemToday } from '../domain/nem-time.ts';
import type { Clock, Priority, RateLimiter, ResponseHeaders } from './rate-limiter.ts';
import {
  backoffDelayMs,
  classifyStatus,
  classifyTransportError,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
  type RetryPolicy,
} from './retry.ts';
import { badRequest, checkRange, checkResolution, checkSiteId, queryString, sitePath } from './request-params.ts';
import type { RequestedRange } from '../domain/interval-rules.ts';
import { parsePriceIntervals, parseSites, parseUsageIntervals, truncatedSample } from './schemas.ts';
import { mayHoldUnstorableText, storableJson } from './storable-text.ts';

const CONNECT_TIMEOUT_MS = 10_000;
/** `/prices/current`: "The total number of intervals requested must not exceed 2048". */
const MAX_CURRENT_INTERVALS = 2048;
/** What `/prices/current` answers in when no resolution is asked for: the site's length, at most 30. */
const DEFAULT_RESOLUTION = 30;
const CLOCK_SKEW_MS = 60 * 60 * 1000;
/**
 * The longest a 429 holds every call, whatever its headers ask (or one window, if the declared window is
 * longer). Amber's window is 5 minutes, so this honours a lockout of 12 windows, while a garbage header (a
 * reset of 10 days) stalls collection for an hour at most. Too short costs one more 429 per hour; too long
 * costs hours of data, so err short.
 */
const MAX_LOCKOUT_MS = 60 * 60 * 1000;

type Endpoint = 'sites' | 'prices' | 'currentPrices' | 'usage';

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

export interface CurrentPricesParams {
  previous?: number;
  next?: number;
  resolution?: number;
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

/** What one call is about: enough to build the URL and to log it without secrets. */
interface CallTarget {
  endpoint: Endpoint;
  path: string;
  query: Record<string, string>;
  siteId?: string;
  startDate?: NemDate;
  endDate?: NemDate;
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
      if (result.kind === 'success') return parseBody(target, result.text, parse);
      const lastAttempt = attempt >= retry.maxAttempts;
      if (result.kind === 'rate-limited') {
        // Hold every call on this key, not just this one: retrying into an active lockout only extends it.
        pauseForLockout(target, attempt, result.headers);
        if (lastAttempt) {
          throw new CollectorError('AMBER_RATE_LIMITED', `Amber kept answering 429 after ${attempt} attempts`, {
            retryable: true,
            details: { ...describe(target), attempts: attempt },
          });
        }
      } else {
        if (lastAttempt) throw result.error;
        const delayMs = backoffDelayMs(attempt - 1, retry, random);
        logger.debug(
          { ...describe(target), attempt, code: result.error.code, reason: result.error.message, delayMs },
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
        { ...describe(target), status, durationMs, attempt, remaining: limiter.snapshot().remaining },
        'amber call',
      );
    }
  }

  function outcomeOf(target: CallTarget, status: number, headers: ResponseHeaders, text: string): AttemptResult {
    const outcome = classifyStatus(status);
    if (outcome === 'success') return { kind: 'success', text };
    const details = { ...describe(target), status, body: truncatedSample(text, 200) };
    switch (outcome) {
      case 'auth':
        throw new CollectorError(
          'AMBER_AUTH',
          `Amber rejected the API key (HTTP ${status}): check AMBER_API_KEY ` +
            '(keys are created at https://app.amber.com.au/developers)',
          { details },
        );
      case 'not-found':
        throw new CollectorError('AMBER_NOT_FOUND', `Amber answered 404 for ${target.endpoint} ${target.siteId ?? ''}`.trim(), {
          details,
        });
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
        { ...describe(target), source, requestedMs, maxMs, retryAfter: headers['retry-after'] ?? null, ...rateLimitHeaders(headers) },
        'Amber asked for an implausibly long 429 pause; capping it',
      );
    }
    const waitMs = Math.min(requestedMs, maxMs) + backoffDelayMs(attempt - 1, retry, random);
    limiter.pauseUntil(clock.now() + waitMs);
    logger.warn(
      { ...describe(target), attempt, waitMs, source, retryAfter: headers['retry-after'] ?? null, ...rateLimitHeaders(headers) },
      'Amber rate limit hit (429); all calls paused',
    );
    onRateLimited?.({ endpoint: target.endpoint, attempt, waitMs, source });
  }

  function parseBody<T>(target: CallTarget, text: string, parse: (body: unknown) => Parsed<T>): Parsed<T> {
    let parsed: Parsed<T>;
    try {
      parsed = parse(storableBody(target, text, JSON.parse(text)));
    } catch (err) {
      // Invalid JSON (a SyntaxError) or a body that is not an array; anything else is a bug and surfaces as is.
      if (!(err instanceof SyntaxError || isCollectorError(err, 'AMBER_SCHEMA'))) throw err;
      const sample = truncatedSample(text);
      logger.error({ ...describe(target), sample }, 'Amber sent a body that is not a JSON array');
      throw new CollectorError('AMBER_SCHEMA', `Amber sent an unreadable ${target.endpoint} body`, {
        retryable: true,
        cause: err,
        details: { ...describe(target), sample },
      });
    }
    const [first] = parsed.rejected;
    if (first !== undefined) {
      // One line per response, whatever the number of bad elements: the count by reason and one sample.
      const rules: Record<string, number> = {};
      for (const item of parsed.rejected) rules[item.rule] = (rules[item.rule] ?? 0) + 1;
      logger.warn(
        {
          ...describe(target),
          rejected: parsed.rejected.length,
          accepted: parsed.items.length,
          rules,
          sample: { index: first.index, rule: first.rule, problems: first.problems.slice(0, 3), element: first.sample },
        },
        'Amber response has elements that failed validation',
      );
    }
    return parsed;
  }

  /** `body` with the characters PostgreSQL cannot store replaced (storable-text.ts), logged once per response. */
  function storableBody(target: CallTarget, text: string, body: unknown): unknown {
    if (!mayHoldUnstorableText(text)) return body;
    const storable = storableJson(body);
    if (storable.replaced > 0) {
      logger.warn(
        { ...describe(target), replaced: storable.replaced, sample: truncatedSample(storable.firstReplaced, 200) },
        'Amber sent text PostgreSQL cannot store (NUL or a lone surrogate); replaced with U+FFFD',
      );
      onUnstorableText?.({ endpoint: target.endpoint, replaced: storable.replaced });
    }
    return storable.value;
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

/** Log and error fields for a call: never the URL or headers, so the key cannot leak. */
function describe(target: CallTarget): Record<string, unknown> {
  return {
    endpoint: target.endpoint,
    ...(target.siteId === undefined ? {} : { site: target.siteId }),
    ...(target.startDate === undefined ? {} : { startDate: target.startDate, endDate: target.endDate }),
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
  return new CollectorError(code, message, { retryable: true, cause, details: describe(target) });
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
