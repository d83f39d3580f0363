/**
 * Restoring a backup: the schema is first brought to the version the backup was taken at, the rows are loaded
 * and verified in one transaction (db/restore-load.ts), then the migrations after that version run as they do
 * at any start, so a backup of an older release is upgraded exactly as its database would have been. A backup
 * from a newer release than this one, or a database already past the backup's version, is refused.
 */
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { databaseSchemaVersion, loadBackup, type LoadResult } from '../db/restore-load.ts';
import { knownMigrations, migrate } from '../db/migrate.ts';
import { CollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { openBackup, type BackupHeader } from './backup-format.ts';

export interface RestoreResult extends LoadResult {
  header: BackupHeader;
  /** The schema version after the restore (the backup's, upgraded to this release's newest). */
  schemaVersion: number;
  durationMs: number;
}

/** `pool` without pipeline mode (the rows go in with COPY); one connection is enough. */
export async function restoreBackup(pool: pg.Pool, input: Readable, options: { file: string; force: boolean; logger: Logger }): Promise<RestoreResult> {
  const started = performance.now();
  const { header, events } = await openBackup(input, options.file);
  const code = await knownMigrations();
  if (header.schemaVersion > code.newest) {
    throw new CollectorError(
      'BACKUP_INVALID',
      `${options.file} was made at schema version ${header.schemaVersion}, newer than this amber-collector knows (${code.newest}): restore it with that release or a newer one`,
      { details: { file: options.file } },
    );
  }
  const current = await databaseSchemaVersion(pool);
  if (current > header.schemaVersion) {
    throw new CollectorError(
      'RESTORE_REFUSED',
      `the database's schema is at version ${current}, past the backup's (${header.schemaVersion}), so the backup's rows cannot be loaded into it ` +
        'and upgraded: restore into a new, empty database (or DATA_DIR) before a collector starts on it',
      { details: { reason: 'schema-newer' } },
    );
  }
  await migrate(pool, options.logger, { upTo: header.schemaVersion });
  const loaded = await loadBackup(pool, events, { force: options.force });
  await migrate(pool, options.logger);
  return { ...loaded, header, schemaVersion: code.newest, durationMs: Math.round(performance.now() - started) };
}
