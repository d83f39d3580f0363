/**
 * Reads everything a backup holds from one consistent snapshot: a single REPEATABLE READ, READ ONLY
 * transaction on one connection, so every table is read as it stood at the same instant while the collector
 * goes on writing. Rows come through a cursor, a bounded batch at a time, with every value as PostgreSQL's own
 * text form (what `COPY` would write), which turns back into the identical value on restore.
 */
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { CollectorError } from '../errors.ts';
import { MIGRATIONS_TABLE, projectSchema, projectTables, qualified, quoteIdentifier, sequenceStates, type CatalogTable, type SequenceState } from './backup-catalog.ts';
import { readSchemaVersion } from './migrate.ts';

/** A row as PostgreSQL's text output of each column, null for SQL NULL. */
export type TextRow = Array<string | null>;

export interface Snapshot {
  schemaVersion: number;
  /** The applied migrations' file names, oldest first. */
  migrations: string[];
  /** `server_version` of the database the backup came from. */
  serverVersion: string;
  tables: CatalogTable[];
  /** The rows of `table`, in batches of at most `batchRows`. */
  rows(table: CatalogTable): AsyncGenerator<TextRow[]>;
  /** Where the schema's sequences stand (read last: a sequence is never behind the rows read before it). */
  sequences(): Promise<SequenceState[]>;
}

const BATCH_ROWS = 1000;
/** Every column as its text form: no parsing into JavaScript values (which would lose digits of a numeric). */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/** Runs `use` inside the snapshot; the transaction ends (rolled back: it only read) whatever happens. */
export async function withSnapshot<T>(pool: pg.Pool, use: (snapshot: Snapshot) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const ignoreConnectionError = (): void => {};
  client.on('error', ignoreConnectionError);
  let broken = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // A year of data takes longer than the pool's per-statement limit, and writing a batch to a slow disk
    // leaves the transaction idle for a while between reads.
    await client.query("SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0; SET LOCAL TimeZone = 'UTC'");
    const schema = await projectSchema(client);
    if (schema === null) {
      throw new CollectorError('BACKUP_FAILED', `this database has no amber-collector tables (no ${MIGRATIONS_TABLE}): there is nothing to back up`);
    }
    const migrations = await client.query<{ name: string }>(`SELECT name FROM ${qualified(schema, MIGRATIONS_TABLE)} ORDER BY version`);
    const server = await client.query<{ version: string }>("SELECT current_setting('server_version') AS version");
    const snapshot: Snapshot = {
      schemaVersion: await readSchemaVersion(client),
      migrations: migrations.rows.map((row) => row.name),
      serverVersion: server.rows[0]!.version,
      tables: await projectTables(client, schema),
      rows: (table) => readRows(client, schema, table),
      sequences: () => sequenceStates(client, schema),
    };
    return await use(snapshot);
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    client.off('error', ignoreConnectionError);
    client.release(broken);
  }
}

async function* readRows(client: pg.PoolClient, schema: string, table: CatalogTable): AsyncGenerator<TextRow[]> {
  const columns = table.columns.map((column) => quoteIdentifier(column.name)).join(', ');
  const cursor = client.query(new Cursor(`SELECT ${columns} FROM ${qualified(schema, table.name)}`, [], { rowMode: 'array', types: TEXT_TYPES }));
  try {
    for (;;) {
      const rows = (await cursor.read(BATCH_ROWS)) as TextRow[];
      if (rows.length === 0) return;
      yield rows;
    }
  } finally {
    await cursor.close();
  }
}
