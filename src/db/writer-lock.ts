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
/** How pg_locks shows a bigint advisory key: its high and low 32 bits (objsubid 1 marks the bigint form). */
const KEY_HIGH = Number(WRITER_LOCK_KEY >> 32n);
const KEY_LOW = Number(WRITER_LOCK_KEY & 0xffffffffn);

/** The session holding the writer lock, as far as this role may see it in pg_stat_activity. */
export interface LockHolder {
  pid: number;
  user: string | null;
  applicationName: string | null;
  /** When that session connected (ISO 8601), or null when not visible. */
  since: string | null;
  /** True when its application name says it is an amber-collector process. */
  collector: boolean;
}

/**
 * Takes the writer lock until the end of the transaction `client` is in, when no collector holds it: a restore
 * must not load data beside a collector that is writing. False when someone holds it.
 */
export async function tryWriterLockForTransaction(client: pg.PoolClient): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [WRITER_LOCK_KEY.toString()]);
  return result.rows[0]?.locked === true;
}

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

  /**
   * Waits until this process holds the lock. Connection failures are retried like a held lock. Whoever holds
   * it is named in the log, and named again when the holder changes: a session that is not a collector
   * (another role's pooled connection that took the key) blocks collection until a person ends it.
   */
  async acquire(signal: AbortSignal): Promise<void> {
    let announced: number | null = null;
    while (!signal.aborted) {
      try {
        if (await this.tryAcquire()) {
          this.log.info('holding the single-writer lock; this collector writes');
          return;
        }
        const holder = await this.holder().catch(() => null);
        if (announced === null || (holder !== null && holder.pid !== announced)) {
          this.announceHolder(holder);
          announced = holder?.pid ?? 0;
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

  /** The session that holds the lock now, or null when none does (or it cannot be seen). */
  async holder(): Promise<LockHolder | null> {
    const result = await this.pool.query<{ pid: number; usename: string | null; application_name: string | null; backend_start: Date | null }>(
      `SELECT l.pid, a.usename, a.application_name, a.backend_start
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1`,
      [KEY_HIGH, KEY_LOW],
    );
    const row = result.rows[0];
    if (row === undefined) return null;
    return {
      pid: row.pid,
      user: row.usename,
      applicationName: row.application_name,
      since: row.backend_start?.toISOString() ?? null,
      collector: row.application_name?.startsWith('amber-collector') === true,
    };
  }

  private announceHolder(holder: LockHolder | null): void {
    if (holder === null || holder.collector) {
      this.log.warn({ holder }, 'another collector is active on this database; waiting for it to stop');
      return;
    }
    this.log.error(
      { holder },
      `the single-writer lock is held by a session that is not a collector (pid ${holder.pid}, user ${holder.user ?? 'unknown'}, application ` +
        `${JSON.stringify(holder.applicationName ?? '')}); collection waits until it ends. If no collector runs elsewhere, end it with ` +
        `SELECT pg_terminate_backend(${holder.pid}), and take pg_advisory_lock away from roles that do not need it (see the README's Security section)`,
    );
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
