/**
 * Writes a file so that its name only ever holds a complete file: the bytes go to a hidden temporary file
 * beside it (created exclusively, mode 600: a backup is all of the user's data), are flushed to the disk, and
 * the temporary file is then renamed over the name, and the folder flushed so the rename survives a power cut.
 * A crash or an error at any point leaves the name as it was (absent, or the previous file).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';

/** The prefix of a temporary file, so a folder's leftovers from a crash can be recognised. */
export const PARTIAL_PREFIX = '.partial-';

/** Has `write` fill a stream, and puts what it wrote at `path` atomically; returns the bytes written. */
export async function writeFileAtomically(path: string, write: (out: Writable) => Promise<void>): Promise<number> {
  const temporary = join(dirname(path), `${PARTIAL_PREFIX}${randomBytes(6).toString('hex')}-${basename(path)}`);
  try {
    const stream = createWriteStream(temporary, { flags: 'wx', mode: 0o600 });
    await write(stream);
    await syncFile(temporary);
    await rename(temporary, path);
    await syncFile(dirname(path));
    return stream.bytesWritten;
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/** fsync of a file (its data, whichever descriptor wrote it) or of a folder (its entries). */
async function syncFile(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
