/**
 * `amber-collector backup [--file F]`: every table of the collector, from one consistent snapshot, into one
 * compressed, checksummed file written atomically (or to stdout with `--file -`). Safe while the daemon runs.
 * Needs only the database settings.
 */
import type { Writable } from 'node:stream';
import { readDatabaseConfig } from '../config/config.ts';
import { makeBackup, type BackupResult } from '../backup/make-backup.ts';
import { backupFileName } from '../backup/files.ts';
import type { DatabaseConfig } from '../config/database.ts';
import { openCommandDatabase, type CommandDatabase } from '../embedded/database-server.ts';
import { CollectorError } from '../errors.ts';
import { defineCommand, type CommandIo } from './frame/define-command.ts';

const BACKUP_USAGE = `Usage: amber-collector backup [--file FILE]

Writes every table of the collector (prices, usage, forecasts, coverage, rejected intervals, alert state,
progress, ...) to one file: a consistent snapshot taken while collection goes on, gzip-compressed, with a
checksum, written under a temporary name and renamed when complete. Restore it with
\`amber-collector restore FILE\`.

Options:
  --file FILE   where to write it (default: amber-collector-<UTC time>.backup in the current folder);
                - writes to stdout
  -h, --help    show this text

Exit status: 0 written, 1 a problem to fix, 2 bad usage, 75 database unreachable.
Reads DATABASE_URL (and DATABASE_SSL) from the environment or .env; without it, the embedded PostgreSQL in
DATA_DIR (the running one, or started for this command). No Amber API key is needed.
`;

export interface BackupEnvironment extends CommandIo {
  stdout: Writable;
  now: () => Date;
  readConfig(): DatabaseConfig;
  openDatabase(config: DatabaseConfig): Promise<CommandDatabase>;
}

export const backupCommand = defineCommand({
  name: 'backup',
  usage: BACKUP_USAGE,
  options: { file: { type: 'string' } },
  positionals: false,
  environment: (): Omit<BackupEnvironment, keyof CommandIo> => ({
    stdout: process.stdout,
    now: () => new Date(),
    readConfig: readDatabaseConfig,
    // No pipeline mode: the snapshot reads through a cursor.
    openDatabase: (config) => openCommandDatabase(config, { max: 1, applicationName: 'amber-collector-backup', pipeline: false }),
  }),
  async run({ values }, _config, env, scope) {
    const file = values.file ?? backupFileName(env.now());
    const database = await scope.open(env.openDatabase(env.readConfig()));
    const result = await makeBackup(database.pool, file === '-' ? env.stdout : file, { now: env.now }).catch((err: unknown) => {
      throw isFileError(err) ? new CollectorError('BACKUP_FAILED', `cannot write ${file}: ${err.message}`, { cause: err }) : err;
    });
    // With the backup on stdout, the report goes to stderr.
    await (file === '-' ? env.err : env.out).write(describe(result, file === '-' ? 'stdout' : file));
    return 0;
  },
  databaseError: (err) => `the database refused the backup: ${err.message}`,
});

function describe(result: BackupResult, where: string): string {
  const tables = Object.keys(result.rows).length;
  const rows = Object.values(result.rows).reduce((sum, n) => sum + n, 0);
  const size = result.bytes === null ? '' : `, ${(result.bytes / 1e6).toFixed(1)} MB`;
  return `backup written to ${where}: ${rows} rows in ${tables} tables at schema version ${result.schemaVersion}${size}, in ${(result.durationMs / 1000).toFixed(1)} s (sha256 ${result.sha256})\n`;
}

/** A failure of the file system (a missing folder, no permission, a full disk), not of the database. */
function isFileError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string' && !('address' in err);
}
