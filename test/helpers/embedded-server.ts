/** Looks at an embedded PostgreSQL server from outside, as a test checking start, stop and SIGKILL needs to. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The postmaster's pid, from the cluster's postmaster.pid under `dataDir`. */
export function serverPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** True while `pid` is a live process: one that exists (even if owned by another user) and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !/\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
