/**
 * `amber-collector restore FILE [--force]`: loads a backup into the database (DATABASE_URL's, or the embedded
 * one in DATA_DIR), migrating the schema first, verifying the file's checksum and every table's row count
 * before anything is committed. An empty database only, unless --force.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { readDatabaseConfig } from '../config/config.ts';
import { restoreBackup, type RestoreResult } from '../backup/restore-backup.ts';
import type { DatabaseConfig } from '../config/database.ts';
import { openCommandDatabase, type CommandDatabase } from '../embedded/database-server.ts';
import { silentLogger } from '../logger.ts';
import { CollectorError } from '../errors.ts';
import { usageError } from './frame/arguments.ts';
import { defineCommand, type CommandIo } from './frame/define-command.ts';

const RESTORE_USAGE = `Usage: amber-collector restore FILE [--force]

Loads a backup made by \`amber-collector backup\` into the database: the schema is migrated to the backup's
version, every row is loaded, the file's checksum and each table's row count are verified, and only then is
anything committed; later migrations then upgrade the data to this release. Stop the collector first.

Arguments and options:
  FILE          the backup; - reads it from stdin
  --force       replace everything the database holds (default: refuse a database that holds data)
  -h, --help    show this text

Exit status: 0 restored, 1 refused or a damaged file (nothing changed), 2 bad usage, 75 database unreachable.
Reads DATABASE_URL (and DATABASE_SSL) from the environment or .env; without it, the embedded PostgreSQL in
DATA_DIR (created if missing). No Amber API key is needed.
`;

export interface RestoreEnvironment extends CommandIo {
  stdin: Readable;
  readConfig(): DatabaseConfig;
  openDatabase(config: DatabaseConfig): Promise<CommandDatabase>;
}

export const restoreCommand = defineCommand({
  name: 'restore',
  usage: RESTORE_USAGE,
  options: { force: { type: 'boolean' } },
  positionals: true,
  environment: (): Omit<RestoreEnvironment, keyof CommandIo> => ({
    stdin: process.stdin,
    readConfig: readDatabaseConfig,
    // No pipeline mode: rows go in with COPY.
    openDatabase: (config) => openCommandDatabase(config, { max: 1, applicationName: 'amber-collector-restore', pipeline: false }),
  }),
  async run({ values, positionals }, _config, env, scope) {
    if (positionals.length !== 1 || positionals[0] === '') throw usageError('name one backup file to restore (or - for stdin)');
    const file = positionals[0]!;
    const input = file === '-' ? env.stdin : createReadStream(file);
    // Opened before the database: a wrong name is reported without starting anything.
    if (file !== '-') {
      await new Promise<void>((resolve, reject) => input.once('open', () => resolve()).once('error', reject)).catch((err: Error) => {
        throw new CollectorError('BACKUP_INVALID', `cannot read ${file}: ${err.message}`, { details: { file }, cause: err });
      });
    }
    const database = await scope.open(env.openDatabase(env.readConfig()));
    const result = await restoreBackup(database.pool, input, { file: file === '-' ? 'stdin' : file, force: values.force === true, logger: silentLogger() });
    for (const table of result.skippedTables) await env.err.write(`amber-collector restore: table ${table} of the backup is not one of the collector's tables here; it was not restored\n`);
    await env.out.write(describe(result));
    return 0;
  },
  databaseError: (err) => `the database refused the restore: ${err.message}`,
});

function describe(result: RestoreResult): string {
  const rows = Object.values(result.rows).reduce((sum, n) => sum + n, 0);
  return (
    `restored ${rows} rows in ${Object.keys(result.rows).length} tables from a backup of ${result.header.createdAt} ` +
    `(schema version ${result.header.schemaVersion}, now ${result.schemaVersion}); checksum and row counts verified, in ${(result.durationMs / 1000).toFixed(1)} s\n`
  );
}
