/** Backfill progress a person can follow while tailing the logs: percent done and an ETA under the rate budget. */
export interface ProgressSnapshot {
  done: number;
  total: number;
  percent: number;
  /** ISO time the remaining calls are expected to finish, under the current rate budget. */
  eta: string | null;
  etaSeconds: number | null;
}

export class BackfillProgress {
  private doneCalls = 0;
  private readonly totalCalls: number;
  private readonly estimateDurationMs: (calls: number) => number;
  private readonly now: () => Date;

  constructor(totalCalls: number, estimateDurationMs: (calls: number) => number, now: () => Date) {
    this.totalCalls = totalCalls;
    this.estimateDurationMs = estimateDurationMs;
    this.now = now;
  }

  /** Counts one planned call as finished (stored, skipped after an error, or given up on). */
  advance(calls = 1): ProgressSnapshot {
    this.doneCalls = Math.min(this.totalCalls, this.doneCalls + calls);
    return this.snapshot();
  }

  snapshot(): ProgressSnapshot {
    const remaining = this.totalCalls - this.doneCalls;
    const etaMs = remaining > 0 ? this.estimateDurationMs(remaining) : 0;
    return {
      done: this.doneCalls,
      total: this.totalCalls,
      percent: this.totalCalls === 0 ? 100 : Math.floor((this.doneCalls / this.totalCalls) * 1000) / 10,
      eta: new Date(this.now().getTime() + etaMs).toISOString(),
      etaSeconds: Math.round(etaMs / 1000),
    };
  }
}
