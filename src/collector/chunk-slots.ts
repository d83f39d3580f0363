/**
 * A bound on the chunks the collector holds in memory at once, whichever work they belong to (backfill,
 * cycles, gap repair, backfill requests). A 7-day chunk of a 5-minute, 3-channel site is about 15 MB
 * between its response and its commit (the body, the parsed rows, the batch sent to Postgres), so without a
 * bound a cycle over many sites, or a cycle during a backfill, would set the daemon's peak memory.
 *
 * A freed slot goes to the oldest waiter of the highest priority: fresh data (cycles) before backfill, the
 * order the rate limiter keeps too.
 */
import type { Priority } from '../amber/rate-limiter.ts';

export class ChunkSlots {
  private free: number;
  private readonly waiting: Record<Priority, Array<() => void>> = { fresh: [], backfill: [] };

  constructor(count: number) {
    this.free = count;
  }

  /** Runs `work` once a slot is free, and frees the slot when it settles. */
  async use<T>(priority: Priority, work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting[priority].push(resolve));
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private release(): void {
    // Handing the slot straight to a waiter (rather than freeing it) keeps a new caller from taking it first.
    const next = this.waiting.fresh.shift() ?? this.waiting.backfill.shift();
    if (next) next();
    else this.free += 1;
  }
}
