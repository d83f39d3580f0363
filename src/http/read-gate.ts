/**
 * Admission control for the read API. At most `concurrency` requests query the database at once (the read
 * pool's size), at most `queueLength` more wait, each for at most `maxWaitMs`; anything beyond is refused
 * at once with `READ_OVERLOADED`, which the API answers 503 with Retry-After. Without it, a burst of heavy
 * reads queued without bound inside pg-pool and came back as 500s after its connection timeout.
 */
import { CollectorError } from '../errors.ts';

/** The refusal: retryable, with the seconds a client should wait before asking again. */
function readOverloaded(message: string, retryAfterSeconds: number): CollectorError<'READ_OVERLOADED'> {
  return new CollectorError('READ_OVERLOADED', message, { retryable: true, details: { retryAfterSeconds } });
}

export interface ReadGateOptions {
  concurrency: number;
  queueLength: number;
  maxWaitMs: number;
}

export class ReadGate {
  private readonly options: ReadGateOptions;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(options: ReadGateOptions) {
    this.options = options;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.admit();
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  /** Resolves holding a slot: a free one, or the one a finishing request hands over. */
  private admit(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active += 1;
      return Promise.resolve();
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(this.options.maxWaitMs / 1000));
    if (this.waiting.length >= this.options.queueLength) {
      return Promise.reject(readOverloaded('too many reads at once', retryAfterSeconds));
    }
    return new Promise((resolve, reject) => {
      const handOver = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(handOver), 1);
        reject(readOverloaded(`no read slot within ${this.options.maxWaitMs} ms`, retryAfterSeconds));
      }, this.options.maxWaitMs);
      this.waiting.push(handOver);
    });
  }
}
