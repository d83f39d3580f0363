/**
 * The rate budget as a rule: a policy of `limit` calls per window, and how long a number of calls takes at
 * it. The limiter (amber/rate-limiter.ts) enforces it; the status read model and the backfill command's
 * estimate only need the arithmetic.
 */

export interface RateLimitPolicy {
  limit: number;
  windowSeconds: number;
}

/**
 * Extra time added to the window so that sends our clock places just outside it are also outside it for
 * the server, which sees them later (latency) and counts them with its own clock.
 */
export const DEFAULT_MARGIN_MS = 250;

/**
 * How long `calls` sends take at `policy` from an idle start: bursts of `limit`, one window (plus the margin)
 * apart. What `RateLimiter.estimateDurationMs` says before any send, without building a limiter.
 */
export function fullBudgetDurationMs(policy: RateLimitPolicy, calls: number, marginMs: number = DEFAULT_MARGIN_MS): number {
  if (calls <= 0) return 0;
  return Math.floor((calls - 1) / policy.limit) * (policy.windowSeconds * 1000 + marginMs);
}
