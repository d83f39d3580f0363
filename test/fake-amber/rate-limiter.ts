/**
 * Amber's per-key request budget (API-NOTES §6): 50 requests per 300 s, announced on every authenticated
 * response with draft-06 `RateLimit-*` headers. Modelled as a sliding window over real monotonic time
 * (performance.now()), so a test can use a policy like `10;w=2` and wait it out for real.
 *
 * API-NOTES §12 leaves open whether Amber's window is fixed or sliding; sliding is the stricter of the
 * two for clients, so a client that copes with it copes with both.
 */

export interface RateLimitPolicy {
  limit: number;
  windowSeconds: number;
}

/** With limiting off the headers are still sent, honestly, for a budget no client will reach. */
const UNLIMITED_POLICY: RateLimitPolicy = { limit: 1_000_000, windowSeconds: 300 };

export interface RateLimitDecision {
  allowed: boolean;
  headers: Record<string, string>;
}

export class SlidingWindowRateLimiter {
  #policy: RateLimitPolicy;
  #enforced: boolean;
  /** performance.now() of every admitted request still inside the window, oldest first. */
  #admitted: number[] = [];

  constructor(policy: RateLimitPolicy | null) {
    this.#policy = policy ?? UNLIMITED_POLICY;
    this.#enforced = policy !== null;
  }

  /** A new policy starts from an empty window, so a test's budget does not depend on earlier tests. */
  setPolicy(policy: RateLimitPolicy | null): void {
    this.#policy = policy ?? UNLIMITED_POLICY;
    this.#enforced = policy !== null;
    this.#admitted = [];
  }

  /** Counts a request if the budget allows it. Rejected requests are not counted (they did no work). */
  admit(nowMs: number): RateLimitDecision {
    this.#forgetExpired(nowMs);
    const allowed = !this.#enforced || this.#admitted.length < this.#policy.limit;
    if (allowed) this.#admitted.push(nowMs);
    return { allowed, headers: this.headers(nowMs) };
  }

  /**
   * The headers as of now. `RateLimit-Reset` is delta-seconds (not an epoch) until the oldest counted call
   * leaves the window, i.e. until at least one more request is allowed (API-NOTES §6).
   */
  headers(nowMs: number, overrides: { remaining?: number; resetSeconds?: number } = {}): Record<string, string> {
    this.#forgetExpired(nowMs);
    const { limit, windowSeconds } = this.#policy;
    const oldest = this.#admitted[0];
    const resetSeconds = oldest === undefined ? 0 : Math.max(0, Math.ceil((oldest + windowSeconds * 1000 - nowMs) / 1000));
    const remaining = Math.max(0, limit - this.#admitted.length);
    return {
      'RateLimit-Limit': String(limit),
      'RateLimit-Remaining': String(overrides.remaining ?? remaining),
      'RateLimit-Reset': String(overrides.resetSeconds ?? resetSeconds),
      'RateLimit-Policy': `${limit};w=${windowSeconds}`,
    };
  }

  #forgetExpired(nowMs: number): void {
    const windowStart = nowMs - this.#policy.windowSeconds * 1000;
    let expired = 0;
    while (expired < this.#admitted.length && (this.#admitted[expired] ?? Infinity) <= windowStart) expired++;
    if (expired > 0) this.#admitted.splice(0, expired);
  }
}

/** Parses `50;w=300` (the `RateLimit-Policy` form, also used by FAKE_AMBER_RATE_LIMIT). */
export function parseRateLimitPolicy(text: string): RateLimitPolicy | null {
  const match = /^\s*(\d+)\s*;\s*w\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!match) return null;
  return { limit: Number(match[1]), windowSeconds: Number(match[2]) };
}
