/**
 * Single-writer election. Two collectors on one database (a Railway deploy overlap, a home server and a
 * cloud copy sharing one key) must never collect at the same time: they would split the API budget and
 * race on progress markers. A session-level advisory lock, held on one dedicated connection for as long
 * as this process collects, decides; Postgres releases it by itself if the process or connection dies.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { abortError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** 'amber' in ASCII: an arbitrary constant shared by every amber-collector process. */
const WRITER_LOCK_KEY = 0x616d626572n;

export interface WriterLockOptions {
  /** How often a waiting collector asks again. */
  retryMs?: number;
}

export class WriterLock {
  private readonly pool: pg.Pool;
  private readonly log: Logger;
  private readonly retryMs: number;
  private client: pg.PoolClient | null = null;
  private lost = new AbortController();

  constructor(pool: pg.Pool, logger: Logger, options: WriterLockOptions = {}) {
    this.pool = pool;
    this.log = logger;
    this.retryMs = options.retryMs ?? 30_000;
  }

  /** Aborts when the connection holding the lock breaks: the lock is gone and collection must pause. */
  get lostSignal(): AbortSignal {
    return this.lost.signal;
  }

  /** Waits until this process holds the lock. Connection failures are retried like a held lock. */
  async acquire(signal: AbortSignal): Promise<void> {
    let announced = false;
    while (!signal.aborted) {
      try {
        if (await this.tryAcquire()) {
          this.log.info('holding the single-writer lock; this collector writes');
          return;
        }
        if (!announced) {
          this.log.warn('another collector is active on this database; waiting for it to stop');
          announced = true;
        }
      } catch (err) {
        this.log.warn({ err }, 'could not ask for the single-writer lock; retrying');
      }
      await sleep(this.retryMs, undefined, { signal }).catch(() => undefined);
    }
    throw abortError(signal.reason);
  }

  /** Asks once: true when this process now holds the lock (the `backfill` command's "is a daemon running?"). */
  async tryAcquire(): Promise<boolean> {
    const client = await this.pool.connect();
    let held = false;
    try {
      const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [WRITER_LOCK_KEY.toString()]);
      held = result.rows[0]?.locked === true;
    } finally {
      if (!held) client.release();
    }
    if (held) {
      this.lost = new AbortController();
      const onLost = (err?: unknown): void => {
        if (this.client !== client) return;
        this.client = null;
        this.log.error({ err }, 'lost the connection holding the single-writer lock; pausing collection');
        client.release(true);
        this.lost.abort();
      };
      client.on('error', onLost);
      client.on('end', () => onLost());
      this.client = client;
    }
    return held;
  }

  /** Gives the lock up (a clean shutdown); another waiting collector takes over. */
  async release(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    try {
      await client.query('SELECT pg_advisory_unlock($1)', [WRITER_LOCK_KEY.toString()]);
      client.release();
    } catch {
      // The connection is already gone, and the lock with it.
      client.release(true);
    }
  }
}
