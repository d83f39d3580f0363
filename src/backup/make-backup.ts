/**
 * Making a backup: the database's consistent snapshot (db/backup-snapshot.ts), encoded in the backup format
 * (format.ts), gzip-compressed, streamed to a file written atomically (atomic-file.ts) or to a stream such as
 * stdout. Memory stays bounded whatever the database's size: rows flow through a cursor, a batch at a time,
 * and the compressor and the file are written with back-pressure.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type pg from 'pg';
import { withSnapshot } from '../db/backup-snapshot.ts';
import { writeFileAtomically } from './atomic-file.ts';
import { encodeBackup, type BackupSummary } from './backup-format.ts';

export interface BackupResult extends BackupSummary {
  schemaVersion: number;
  /** Compressed size; null when written to a stream that does not count. */
  bytes: number | null;
  durationMs: number;
}

/** Writes a backup of `pool`'s database to the file `target`, or to the stream. */
export async function makeBackup(pool: pg.Pool, target: string | Writable, options: { now?: () => Date; signal?: AbortSignal } = {}): Promise<BackupResult> {
  const now = options.now ?? (() => new Date());
  const started = performance.now();
  return withSnapshot(pool, async (snapshot) => {
    const summary: Partial<BackupSummary> = {};
    const write = (out: Writable): Promise<void> =>
      pipeline(Readable.from(encodeBackup(snapshot, now(), summary)), createGzip(), out, options.signal ? { signal: options.signal } : {});
    let bytes: number | null = null;
    if (typeof target === 'string') bytes = await writeFileAtomically(target, write);
    else await write(target);
    return {
      schemaVersion: snapshot.schemaVersion,
      rows: summary.rows ?? {},
      sha256: summary.sha256 ?? '',
      bytes,
      durationMs: Math.round(performance.now() - started),
    };
  });
}
