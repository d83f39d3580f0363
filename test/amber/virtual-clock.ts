/**
 * A `Clock` whose time only moves when everything else is idle: whenever no microtask is pending (checked
 * with `setImmediate`), it jumps to the earliest pending sleep and wakes it. Pure in-memory code (the rate
 * limiter) then runs thousands of "minutes" of calls in milliseconds, in exactly the order real time would.
 * Work that waits on real I/O (a request to a loopback server) is not visible to `setImmediate`: `busy` says
 * when some is under way, and time holds still until it is done, so however long the machine takes to deliver
 * a request, it arrives at the virtual moment it was sent.
 */
import { abortError } from '../../src/errors.ts';
import type { Clock } from '../../src/amber/rate-limiter.ts';

interface Timer {
  at: number;
  seq: number;
  wake: () => void;
}

export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers: Timer[] = [];
  private advanceScheduled = false;

  private readonly busy: () => boolean;

  constructor(start = 0, options: { busy?: () => boolean } = {}) {
    this.current = start;
    this.busy = options.busy ?? (() => false);
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal.reason));
        return;
      }
      const onAbort = (): void => {
        this.remove(timer);
        reject(abortError(signal?.reason));
      };
      const timer: Timer = {
        at: this.current + Math.max(0, ms),
        seq: this.seq++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      this.scheduleAdvance();
    });
  }

  /** Pending sleeps (for asserting that nothing was left waiting). */
  get pending(): number {
    return this.timers.length;
  }

  private remove(timer: Timer): void {
    const index = this.timers.indexOf(timer);
    if (index !== -1) this.timers.splice(index, 1);
  }

  private scheduleAdvance(): void {
    if (this.advanceScheduled) return;
    this.advanceScheduled = true;
    setImmediate(() => {
      this.advanceScheduled = false;
      if (this.timers.length > 0 && this.busy()) {
        // Real I/O under way: look again shortly (a timer, not setImmediate, so the wait does not spin).
        this.advanceScheduled = true;
        setTimeout(() => {
          this.advanceScheduled = false;
          this.scheduleAdvance();
        }, 1);
        return;
      }
      const next = this.timers.shift();
      if (!next) return;
      this.current = Math.max(this.current, next.at);
      next.wake();
      if (this.timers.length > 0) this.scheduleAdvance();
    });
  }
}
