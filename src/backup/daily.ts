/**
 * The daemon's optional daily backup (BACKUP_DIR): a backup when the newest one in the folder is a day old or
 * there is none, then one a day, keeping the newest BACKUP_KEEP. It runs beside collection on a connection of
 * its own and never holds a cycle up; a failure is logged and counted, and the next attempt comes an hour
 * later. A stop aborts a backup under way, which leaves no file behind.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { Logger } from '../logger.ts';
import { makeBackup, type BackupResult } from './make-backup.ts';
import { backupFileName, listBackups, pruneBackups } from './files.ts';

const DAY_MS = 24 * 60 * 60_000;
const RETRY_MS = 60 * 60_000;

/** What the daily backup reports, for metrics. */
export interface DailyBackupEvents {
  succeeded(result: BackupResult, at: Date): void;
  failed(): void;
}

export interface DailyBackupOptions {
  /** A pool without pipeline mode (the snapshot reads through a cursor); one connection is enough. */
  pool: pg.Pool;
  dir: string;
  keep: number;
  logger: Logger;
  events?: DailyBackupEvents;
  now?: () => Date;
  /** Between backups, and after a failure; a day and an hour unless a test needs them short. */
  intervalMs?: number;
  retryMs?: number;
}

export class DailyBackup {
  private readonly options: DailyBackupOptions;
  private readonly now: () => Date;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(options: DailyBackupOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
  }

  /** Schedules the first backup: now when the newest in the folder is a day old (or there is none). */
  async start(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    const newest = (await listBackups(this.options.dir))[0];
    const age = newest === undefined ? Number.POSITIVE_INFINITY : this.now().getTime() - timeOf(newest);
    this.schedule(Math.max(0, this.interval() - age));
  }

  /** Stops the schedule and aborts a backup under way (its temporary file is removed). */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private interval(): number {
    return this.options.intervalMs ?? DAY_MS;
  }

  private schedule(delayMs: number): void {
    if (this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => {
        this.running = null;
      });
    }, delayMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    const { dir, keep, logger } = this.options;
    const at = this.now();
    const file = join(dir, backupFileName(at));
    try {
      const result = await makeBackup(this.options.pool, file, { now: () => at, signal: this.stopping.signal });
      const removed = await pruneBackups(dir, keep, this.now());
      logger.info({ file, bytes: result.bytes, durationMs: result.durationMs, rows: result.rows, removed }, 'daily backup written');
      this.options.events?.succeeded(result, at);
      this.schedule(this.interval());
    } catch (err) {
      if (this.stopping.signal.aborted) {
        logger.info({ file }, 'daily backup abandoned: shutting down (no file was left)');
        return;
      }
      logger.error({ err, dir }, 'daily backup failed; collection carries on, and the backup is tried again in an hour');
      this.options.events?.failed();
      this.schedule(this.options.retryMs ?? RETRY_MS);
    }
  }
}

/** The time a backup's name records. */
function timeOf(name: string): number {
  const stamp = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(name)!;
  return Date.UTC(Number(stamp[1]), Number(stamp[2]) - 1, Number(stamp[3]), Number(stamp[4]), Number(stamp[5]), Number(stamp[6]));
}
