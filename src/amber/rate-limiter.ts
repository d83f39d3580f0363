/**
 * One rate limiter per API key, shared by every site and data type. Amber allows 50 calls per 300 s
 * (API-NOTES §6; whether per key, account or IP is undocumented). A sliding-window log of send times enforces "at most `limit` sends in any window", which
 * a token bucket or a fixed window would not (both allow a 2× burst across a boundary). The server is the
 * source of truth: the policy it declares is adopted, and its `RateLimit-Remaining` overrides ours when it
 * is lower (another process using the same key).
 */
import { DEFAULT_MARGIN_MS, type RateLimitPolicy } from '../domain/rate-budget.ts';
import { abortError } from '../errors.ts';

export type Priority = 'fresh' | 'backfill';

/** Monotonic time and cancellable sleeps, injectable so tests can drive thousands of calls in virtual time. */
export interface Clock {
  /** Milliseconds on a monotonic clock (never jumps with the wall clock). */
  now(): number;
  /** Resolves after `ms`; rejects with `abortError()` as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** setTimeout fires at once for delays above 2^31 − 1 ms; longer sleeps end early and the caller sleeps again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal.reason));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(signal?.reason));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.min(Math.max(0, ms), MAX_TIMER_MS));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** `RateLimit-Reset` values above this are epoch seconds (legacy `X-RateLimit-Reset` style), not deltas. */
const EPOCH_THRESHOLD_SECONDS = 1_000_000_000;

export interface RateLimiterOptions {
  /** The policy to start with (the configured AMBER_RATE_LIMIT), until a response declares one. */
  policy: RateLimitPolicy;
  clock?: Clock;
  marginMs?: number;
  /** Wall-clock epoch milliseconds, only to convert an epoch-style `RateLimit-Reset`. */
  wallClock?: () => number;
}

export interface AcquireOptions {
  /** `fresh` (incremental data someone is waiting for) goes before queued `backfill`. Default `fresh`. */
  priority?: Priority;
  signal?: AbortSignal;
}

export interface RateLimiterSnapshot {
  limit: number;
  windowSeconds: number;
  /** `RateLimit-Remaining` from the last response that carried it, or null before any. */
  remaining: number | null;
  /** Sends (ours, plus those the server told us about) inside the current window. */
  inWindow: number;
  /** Monotonic ms until which every waiter holds after a 429, or null when not paused. */
  pausedUntil: number | null;
  queued: number;
}

/** Response headers as node and undici deliver them: lower-case names. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Sends at one instant: `count` is 1 for ours, more for a batch the server counted and we did not make. */
interface LogEntry {
  at: number;
  count: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  return new RateLimiter(options);
}

export class RateLimiter {
  readonly clock: Clock;
  private readonly marginMs: number;
  private readonly wallClock: () => number;
  private limit: number;
  private windowMs: number;
  /** Sends inside the window, oldest first. */
  private readonly log: LogEntry[] = [];
  private pausedUntilMs = Number.NEGATIVE_INFINITY;
  private serverRemaining: number | null = null;
  private readonly queues: Record<Priority, Waiter[]> = { fresh: [], backfill: [] };
  private draining = false;
  private wakeDrain: AbortController | null = null;

  constructor(options: RateLimiterOptions) {
    this.limit = options.policy.limit;
    this.windowMs = options.policy.windowSeconds * 1000;
    this.clock = options.clock ?? realClock;
    this.marginMs = options.marginMs ?? DEFAULT_MARGIN_MS;
    this.wallClock = options.wallClock ?? Date.now;
  }

  /** Waits for a send slot, then counts the send. Rejects with `abortError()` promptly when `signal` aborts. */
  acquire(options: AcquireOptions = {}): Promise<void> {
    const { priority = 'fresh', signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    return new Promise<void>((resolve, reject) => {
      const queue = this.queues[priority];
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = queue.indexOf(waiter);
          if (index !== -1) queue.splice(index, 1);
          reject(abortError(signal?.reason));
          // Nobody left to serve: end the drain's sleep now rather than hold a timer for up to a window.
          if (this.queuedCount() === 0) this.wakeDrain?.abort();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      queue.push(waiter);
      if (!this.draining) void this.drain();
    });
  }

  /** Holds every waiter until `monotonicMs` (a 429 lockout). Never shortens an existing pause. */
  pauseUntil(monotonicMs: number): void {
    this.pausedUntilMs = Math.max(this.pausedUntilMs, monotonicMs);
  }

  /** Reconciles with what a response declares: its policy, and its remaining quota if lower than ours. */
  observe(headers: ResponseHeaders): void {
    const declared = declaredPolicy(headers, this.windowMs / 1000);
    if (declared) {
      this.limit = declared.limit;
      this.windowMs = declared.windowSeconds * 1000;
    }
    const quota = declaredQuota(headers);
    if (quota.remaining !== null) this.adoptServerRemaining(quota.remaining, quota.resetSeconds);
    // The next free slot may have moved either way: let a sleeping drain look again.
    this.wakeDrain?.abort();
  }

  snapshot(): RateLimiterSnapshot {
    const now = this.clock.now();
    this.prune(now);
    return {
      limit: this.limit,
      windowSeconds: this.windowMs / 1000,
      remaining: this.serverRemaining,
      inWindow: totalCount(this.log),
      pausedUntil: this.pausedUntilMs > now ? this.pausedUntilMs : null,
      queued: this.queuedCount(),
    };
  }

  /**
   * How long `calls` more sends would take from now at the full budget, after the sends already in the
   * window, ignoring latency and other waiters. `fullBudgetDurationMs` is the same for an idle limiter.
   */
  estimateDurationMs(calls: number): number {
    const now = this.clock.now();
    const planned = this.log.map((entry) => ({ ...entry }));
    let last = now;
    for (let i = 0; i < calls; i += 1) {
      pruneLog(planned, last - this.effectiveWindowMs);
      last = this.slotAfter(planned, last);
      planned.push({ at: last, count: 1 });
    }
    return last - now;
  }

  /**
   * Milliseconds until the server's quota resets, at least 0 and possibly longer than the window (a lockout,
   * or a server window longer than ours); null when the headers don't say. Bounding it is the caller's call.
   */
  resetDelayMs(headers: ResponseHeaders): number | null {
    const { resetSeconds } = declaredQuota(headers);
    return resetSeconds === null ? null : this.untilReset(resetSeconds);
  }

  /**
   * When the server has fewer calls left than we think, it counted sends we did not make (another process
   * on the same key): add placeholders for them that leave the window when the server says its quota
   * resets (a full window from now when it does not say). A higher server figure changes nothing: our own
   * log is the stricter view.
   */
  private adoptServerRemaining(remaining: number, resetSeconds: number | null): void {
    this.serverRemaining = remaining;
    const now = this.clock.now();
    this.prune(now);
    const missing = this.limit - totalCount(this.log) - remaining;
    // Clamped to the window: the log models one window, so a placeholder must leave it within one (a later
    // one would sit in the future and skew `inWindow` and estimates). A reset beyond the window on a success
    // says our window is stale or the header is garbage; if the key really is locked, the next call gets a
    // 429, whose pause honours the full reset (client.ts): at most one call lost.
    const resetMs = resetSeconds === null ? this.windowMs : Math.min(this.untilReset(resetSeconds), this.windowMs);
    if (missing > 0) this.record(now + resetMs - this.windowMs, missing);
  }

  private get effectiveWindowMs(): number {
    return this.windowMs + this.marginMs;
  }

  private queuedCount(): number {
    return this.queues.fresh.length + this.queues.backfill.length;
  }

  /** Grants slots in priority order, sleeping until the next one frees. One drain runs at a time. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (;;) {
        const waiter = this.queues.fresh[0] ?? this.queues.backfill[0];
        if (!waiter) return;
        const now = this.clock.now();
        this.prune(now);
        const readyAt = this.slotAfter(this.log, now);
        if (readyAt <= now) {
          this.grant(waiter, now);
          continue;
        }
        const wake = new AbortController();
        this.wakeDrain = wake;
        try {
          await this.clock.sleep(readyAt - now, wake.signal);
        } catch {
          // Woken early: the policy, quota or queue changed. Look again.
        } finally {
          this.wakeDrain = null;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private grant(waiter: Waiter, now: number): void {
    const queue = this.queues.fresh[0] === waiter ? this.queues.fresh : this.queues.backfill;
    queue.shift();
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    this.record(now, 1);
    waiter.resolve();
  }

  /** The earliest time ≥ `from` at which one more send keeps every window at or under the limit. */
  private slotAfter(log: readonly LogEntry[], from: number): number {
    let at = Math.max(from, this.pausedUntilMs);
    // The oldest sends must leave the window until fewer than `limit` remain.
    let mustExpire = totalCount(log) - this.limit + 1;
    for (const entry of log) {
      if (mustExpire <= 0) break;
      at = Math.max(at, entry.at + this.effectiveWindowMs);
      mustExpire -= entry.count;
    }
    return at;
  }

  private prune(now: number): void {
    pruneLog(this.log, now - this.effectiveWindowMs);
  }

  /** Adds sends at `at`, keeping the log in time order (server placeholders can predate our last send). */
  private record(at: number, count: number): void {
    let index = this.log.length;
    while (index > 0 && this.log[index - 1]!.at > at) index -= 1;
    this.log.splice(index, 0, { at, count });
  }

  /** A `RateLimit-Reset` (delta or epoch seconds) as milliseconds from now, never negative. */
  private untilReset(resetSeconds: number): number {
    const delta = resetSeconds > EPOCH_THRESHOLD_SECONDS ? resetSeconds - this.wallClock() / 1000 : resetSeconds;
    return Math.max(delta * 1000, 0);
  }
}

function totalCount(log: readonly LogEntry[]): number {
  return log.reduce((sum, entry) => sum + entry.count, 0);
}

/** Drops entries sent at or before `cutoff` (they have left the window). */
function pruneLog(log: LogEntry[], cutoff: number): void {
  const firstLive = log.findIndex((entry) => entry.at > cutoff);
  log.splice(0, firstLive === -1 ? log.length : firstLive);
}

/**
 * Parses a `RateLimit-Policy` value in either draft shape: `50;w=300` (drafts ≤ 06, what Amber sends) or
 * `"name";q=50;w=300` (drafts ≥ 07). Of a list, the first usable item wins. Null when unusable: the draft
 * says to ignore malformed values.
 */
export function parseRateLimitPolicy(value: string): RateLimitPolicy | null {
  for (const item of value.split(',')) {
    const [head = '', ...params] = item.split(';').map((part) => part.trim());
    const named = parseParams(params);
    const limit = /^\d+$/.test(head) ? Number(head) : named.get('q');
    const windowSeconds = named.get('w');
    if (limit !== undefined && limit >= 1 && windowSeconds !== undefined && windowSeconds >= 1) {
      return { limit, windowSeconds };
    }
  }
  return null;
}

/** `key=integer` parameters of a structured-field item; other parameters are ignored. */
function parseParams(params: readonly string[]): Map<string, number> {
  const named = new Map<string, number>();
  for (const param of params) {
    const match = /^([a-z]+)=(\d+)$/.exec(param);
    if (match) named.set(match[1]!, Number(match[2]));
  }
  return named;
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function nonNegativeInteger(value: string | undefined): number | null {
  const text = value?.trim();
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

/** From `RateLimit-Policy`, else `RateLimit-Limit` (leading integer) with the window we already know. */
function declaredPolicy(headers: ResponseHeaders, currentWindowSeconds: number): RateLimitPolicy | null {
  const policy = header(headers, 'ratelimit-policy');
  const parsed = policy === undefined ? null : parseRateLimitPolicy(policy);
  if (parsed) return parsed;
  const limit = nonNegativeInteger(header(headers, 'ratelimit-limit')?.split(',')[0]);
  return limit !== null && limit >= 1 ? { limit, windowSeconds: currentWindowSeconds } : null;
}

/** `RateLimit-Remaining` / `RateLimit-Reset`, or the draft ≥ 07 `RateLimit: "name";r=12;t=40`. */
function declaredQuota(headers: ResponseHeaders): { remaining: number | null; resetSeconds: number | null } {
  const remaining = nonNegativeInteger(header(headers, 'ratelimit-remaining'));
  const resetSeconds = nonNegativeInteger(header(headers, 'ratelimit-reset'));
  if (remaining !== null || resetSeconds !== null) return { remaining, resetSeconds };
  const combined = header(headers, 'ratelimit');
  if (combined === undefined) return { remaining: null, resetSeconds: null };
  const params = parseParams(combined.split(',')[0]!.split(';').slice(1).map((part) => part.trim()));
  return { remaining: params.get('r') ?? null, resetSeconds: params.get('t') ?? null };
}
