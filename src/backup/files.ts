/**
 * Backup files by name: `amber-collector-20261207T213000Z.backup`, named by the time the backup was taken so
 * that their names sort in time order, and the daily backup's rotation, which keeps the newest N of them and
 * removes what a crash left half-written.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PARTIAL_PREFIX } from './atomic-file.ts';

const NAME = /^amber-collector-\d{8}T\d{6}Z\.backup$/;
/** A temporary file this old is a crash's leftover, not a backup being written. */
const STALE_PARTIAL_MS = 24 * 60 * 60_000;

export function backupFileName(at: Date): string {
  return `amber-collector-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')}.backup`;
}

/** The backups in `folder`, newest first. */
export async function listBackups(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => NAME.test(name)).sort().reverse();
}

/** Deletes all but the newest `keep` backups in `folder`, and crash leftovers; returns the names deleted. */
export async function pruneBackups(folder: string, keep: number, now: Date): Promise<string[]> {
  const removed = (await listBackups(folder)).slice(keep);
  for (const name of await readdir(folder)) {
    if (!name.startsWith(PARTIAL_PREFIX)) continue;
    const info = await stat(join(folder, name)).catch(() => null);
    if (info !== null && now.getTime() - info.mtimeMs > STALE_PARTIAL_MS) removed.push(name);
  }
  for (const name of removed) await rm(join(folder, name), { force: true });
  return removed;
}
