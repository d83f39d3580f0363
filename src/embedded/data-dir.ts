/**
 * DATA_DIR as a place this process can trust: a folder that belongs to the user the collector runs as and
 * that nobody else can write into, and files in it that are read and written without following symlinks.
 * A root collector otherwise overwrites whatever file a planted symlink points at, or sets up its cluster
 * with a password someone else chose. Also the one place that turns "cannot create or write DATA_DIR" into
 * an error naming it (exit 1, not the "try again" of 75: a restart would meet the same folder).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { CollectorError } from '../errors.ts';

/** The folder's trouble, in words that say what to change. */
function unsafe(dataDir: string, what: string): CollectorError<'DATA_DIR_UNSAFE'> {
  return new CollectorError('DATA_DIR_UNSAFE', `DATA_DIR ${dataDir} is not safe to use: ${what}`, { details: { dataDir } });
}

function unusable(dataDir: string, err: unknown): CollectorError<'DATA_DIR_UNUSABLE'> {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const why =
    code === 'EROFS'
      ? 'it is on a read-only file system'
      : code === 'EACCES' || code === 'EPERM'
        ? 'this user may not create or write it'
        : code === 'ENOTDIR' || code === 'EEXIST'
          ? 'a part of its path is a file, not a folder'
          : code === 'ENOSPC'
            ? 'the disk is full'
            : code === 'ENOENT'
              ? 'a folder above it is missing and cannot be created (a read-only file system, or one not mounted)'
              : (err as Error).message;
  return new CollectorError('DATA_DIR_UNUSABLE', `DATA_DIR ${dataDir} cannot be created or written (${code}: ${why}); set DATA_DIR to a writable folder`, {
    cause: err,
    details: { dataDir },
  });
}

function myUid(): number | undefined {
  return process.geteuid?.();
}

/**
 * Creates DATA_DIR when missing (mode 700), then refuses it unless it is a folder owned by this user that
 * neither its group nor others may write, and that this process can write.
 */
export async function ensureDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw unusable(dataDir, err);
  }
  const info = await stat(dataDir).catch((err: unknown) => {
    throw unusable(dataDir, err);
  });
  if (!info.isDirectory()) throw unusable(dataDir, Object.assign(new Error('not a folder'), { code: 'ENOTDIR' }));
  const uid = myUid();
  if (uid !== undefined && info.uid !== uid) {
    throw unsafe(dataDir, `it belongs to uid ${info.uid}, not to uid ${uid} who runs the collector; use a folder of your own (or chown it)`);
  }
  if ((info.mode & 0o022) !== 0) {
    throw unsafe(dataDir, `its group or others may write into it (mode ${(info.mode & 0o777).toString(8)}); \`chmod go-w ${dataDir}\``);
  }
  try {
    await access(dataDir, constants.W_OK);
  } catch (err) {
    throw unusable(dataDir, err);
  }
}

/** Refuses a file handle's file unless it is a regular file of this user that group and others cannot write. */
async function requireOwnFile(dataDir: string, path: string, file: FileHandle): Promise<void> {
  const info = await file.stat();
  const uid = myUid();
  if (!info.isFile()) throw unsafe(dataDir, `${path} is not a regular file`);
  if (uid !== undefined && info.uid !== uid) throw unsafe(dataDir, `${path} belongs to uid ${info.uid}, not to uid ${uid}; remove it`);
  if ((info.mode & 0o022) !== 0) throw unsafe(dataDir, `${path} may be written by its group or others (mode ${(info.mode & 0o777).toString(8)}); remove it`);
}

function refuseSymlink(dataDir: string, path: string, err: unknown): never {
  // O_NOFOLLOW on a symlink fails with ELOOP (Linux, macOS).
  if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw unsafe(dataDir, `${path} is a symbolic link; remove it`);
  throw err;
}

/** The text of a file in DATA_DIR, or null when there is none; never through a symlink, never another user's file. */
export async function readDataFile(dataDir: string, path: string): Promise<string | null> {
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    refuseSymlink(dataDir, path, err);
  }
  try {
    await requireOwnFile(dataDir, path, file);
    return await file.readFile('utf8');
  } finally {
    await file.close();
  }
}

/**
 * Replaces a file in DATA_DIR with `content`, readable by its owner only: written to a new file (O_EXCL, so
 * never through a planted link) and renamed over the old one, which replaces a symlink rather than follows it.
 */
export async function writeDataFile(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(content);
    await file.close();
    await rename(temporary, path);
  } catch (err) {
    await file.close().catch(() => {});
    await rm(temporary, { force: true });
    throw err;
  }
}

/** Opens a log file in DATA_DIR for appending, never through a symlink and never another user's file. */
export async function appendDataFile(dataDir: string, path: string): Promise<FileHandle> {
  let file: FileHandle;
  try {
    file = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    refuseSymlink(dataDir, path, err);
  }
  try {
    await requireOwnFile(dataDir, path, file);
  } catch (err) {
    await file.close();
    throw err;
  }
  return file;
}
