/**
 * One collector per DATA_DIR. Two daemons on one embedded PostgreSQL would each try to stop it when they
 * stop, and the second start would look like the recovery from a crash. The first daemon writes its pid to
 * DATA_DIR/collector.pid; a second one finds that process alive and refuses to start. A pid file whose
 * process is gone (SIGKILL, a power cut) is stale and taken over.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CollectorError } from '../errors.ts';
import { ensureDataDir } from './data-dir.ts';

const LOCK_FILE = 'collector.pid';

/** Takes DATA_DIR for this process; resolves to the function that gives it back. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await ensureDataDir(dataDir);
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 1; ; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        if ((await readPid(path)) === process.pid) await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw err;
    }
    const owner = await dataDirOwner(dataDir);
    if (owner !== null) {
      throw new CollectorError(
        'DATA_DIR_IN_USE',
        `another amber-collector (pid ${owner}) is already running with DATA_DIR ${dataDir}; stop it first, or give this one its own DATA_DIR`,
        { details: { pid: owner, dataDir } },
      );
    }
    await rm(path, { force: true });
  }
}

/** The pid of the live collector holding DATA_DIR, or null when none does. */
export async function dataDirOwner(dataDir: string): Promise<number | null> {
  const pid = await readPid(join(dataDir, LOCK_FILE));
  return pid !== null && pid !== process.pid && isCollectorProcess(pid) ? pid : null;
}

async function readPid(path: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(path, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Alive, and (where /proc tells) a node process: after a reboot the pid may belong to anything. */
function isCollectorProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return /node/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}
