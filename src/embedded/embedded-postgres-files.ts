/**
 * The embedded PostgreSQL's files under DATA_DIR and the user its server runs as: the folder and its
 * permissions, the generated password, the last URL (for the port), the tail of the server's log, and the unprivileged system user a root
 * collector starts the server as (PostgreSQL refuses to run as root).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, readFile, stat } from 'node:fs/promises';
import { platform, userInfo } from 'node:os';
import { dirname, parse as parsePath, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CollectorError } from '../errors.ts';
import { ensureDataDir, readDataFile, writeDataFile } from './data-dir.ts';

const execFileAsync = promisify(execFile);

export interface RunAs {
  /** Absent when this process is not root: the server runs as us. */
  uid?: number;
  gid?: number;
  name: string;
}

export async function serverUser(systemUser: string): Promise<RunAs> {
  if (platform() === 'win32' || process.getuid?.() !== 0) return { name: userInfo().username };
  let ids = await userIds(systemUser);
  if (!ids) {
    try {
      await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', systemUser]);
    } catch (err) {
      throw new CollectorError(
        'EMBEDDED_DB_FAILED',
        `PostgreSQL refuses to run as root and the user "${systemUser}" to run it as could not be created (${(err as Error).message.trim()}); ` +
          'create an unprivileged user of that name, run the collector as a normal user, or set DATABASE_URL',
        { cause: err },
      );
    }
    ids = await userIds(systemUser);
    if (!ids) throw new CollectorError('EMBEDDED_DB_FAILED', `the user "${systemUser}" was created but cannot be found`);
  }
  return { ...ids, name: systemUser };
}

async function userIds(name: string): Promise<{ uid: number; gid: number } | null> {
  try {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', name]), execFileAsync('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return null;
  }
}

/**
 * DATA_DIR holds the password, so only its owner may list it; when the server runs as another user, that
 * user may still pass through it (mode 711) to its own cluster folder, and through every folder above.
 */
export async function prepareDataDir(dataDir: string, runAs: RunAs): Promise<void> {
  const otherUser = runAs.uid !== undefined;
  await ensureDataDir(dataDir);
  if (otherUser) {
    const { mode } = await stat(dataDir);
    if ((mode & 0o001) === 0) await chmod(dataDir, (mode & 0o7777) | 0o011);
    await requireReachable(dirname(dataDir), runAs);
  }
}

async function requireReachable(dir: string, runAs: RunAs): Promise<void> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const info = await stat(current);
    const reachable =
      info.uid === runAs.uid ? (info.mode & 0o100) !== 0 : info.gid === runAs.gid ? (info.mode & 0o010) !== 0 : (info.mode & 0o001) !== 0;
    if (!reachable) {
      throw new CollectorError(
        'EMBEDDED_DB_FAILED',
        `PostgreSQL refuses to run as root, so it runs as the user "${runAs.name}", which cannot pass through ${current} ` +
          `to reach DATA_DIR. Set DATA_DIR to a folder outside ${current} (e.g. /var/lib/amber-collector), or run as a normal user`,
      );
    }
    if (current === parsePath(current).root) return;
  }
}

/** The generated password, created on first use; never read from a file someone else could have written. */
export async function readOrCreatePassword(dataDir: string, path: string): Promise<string> {
  const password = (await readDataFile(dataDir, path))?.trim() ?? '';
  if (password !== '') return password;
  // URL-safe, so the URL in database-url needs no escaping.
  const generated = randomBytes(24).toString('base64url');
  await writeDataFile(path, `${generated}\n`);
  return generated;
}

/** Writes a file only its owner can read, whatever the umask, replacing (never following) what was there. */
export async function writeSecret(path: string, content: string): Promise<void> {
  await writeDataFile(path, content);
}

export async function previousPort(dataDir: string, urlFile: string): Promise<number | null> {
  try {
    const port = Number(new URL((await readDataFile(dataDir, urlFile))?.trim() ?? '').port);
    return port > 0 ? port : null;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'DATA_DIR_UNSAFE') throw err;
    return null;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The last lines of the server's log, for an error saying why it did not start. */
export async function logTail(logPath: string): Promise<string> {
  try {
    const lines = (await readFile(logPath, 'utf8')).trim().split('\n');
    return lines.slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}
