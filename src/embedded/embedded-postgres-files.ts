/**
 * The embedded PostgreSQL's files under DATA_DIR and the user its server runs as: the folder and its
 * permissions, the generated password, the last URL (for the port), and the unprivileged system user a root
 * collector starts the server as (PostgreSQL refuses to run as root).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readFile, stat } from 'node:fs/promises';
import { platform, userInfo } from 'node:os';
import { dirname, parse as parsePath, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CollectorError } from '../errors.ts';

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
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
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

export async function readOrCreatePassword(path: string): Promise<string> {
  try {
    const password = (await readFile(path, 'utf8')).trim();
    if (password !== '') return password;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // URL-safe, so the URL in database-url needs no escaping.
  const password = randomBytes(24).toString('base64url');
  await writeSecret(path, `${password}\n`);
  return password;
}

/** Writes a file only its owner can read, whatever the umask and whatever mode it had before. */
export async function writeSecret(path: string, content: string): Promise<void> {
  const file = await open(path, 'w', 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(content);
  } finally {
    await file.close();
  }
}

export async function previousPort(urlFile: string): Promise<number | null> {
  try {
    const port = Number(new URL((await readFile(urlFile, 'utf8')).trim()).port);
    return port > 0 ? port : null;
  } catch {
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
