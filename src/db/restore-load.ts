/**
 * Loading a backup's rows into a database whose schema is at the backup's version, in one transaction: it
 * commits only once the file's checksum and every table's row count are verified, so a damaged file or a
 * failure half-way leaves the database as it was. The writer lock is taken for the transaction, so no
 * collector writes meanwhile; a database holding data is refused unless `force` empties it first. Rows go in
 * with COPY into tables whose indexes and keys are set aside until every row is in (restore-indexes.ts): the
 * same work pg_restore does, a few times faster than inserting into indexed tables row by row.
 */
import type pg from 'pg';
import { CollectorError } from '../errors.ts';
import { projectSchema, projectTables, qualified, quoteIdentifier, type CatalogTable, type SequenceState, type TableColumn } from './backup-catalog.ts';
import type { TextRow } from './backup-snapshot.ts';
import { CopyIn, copyText } from './copy-in.ts';
import { readSchemaVersion } from './migrate.ts';
import { withTransaction, type Queryable } from './pool.ts';
import { setIndexesAside } from './restore-indexes.ts';
import { tryWriterLockForTransaction } from './writer-lock.ts';

/** What the restore reads from the backup, in file order (see backup/backup-format.ts). */
export type LoadEvent =
  | { kind: 'table'; name: string; columns: TableColumn[] }
  | { kind: 'rows'; table: string; rows: TextRow[] }
  | { kind: 'tableEnd'; table: string; rows: number }
  | { kind: 'sequences'; sequences: SequenceState[] }
  | { kind: 'end'; summary: { rows: Record<string, number> } };

export interface LoadResult {
  rows: Record<string, number>;
  /** Tables of the backup this schema does not have (a table of the user's own beside the collector's). */
  skippedTables: string[];
}

/** The schema version of the database, 0 when migrations never ran on it. */
export async function databaseSchemaVersion(db: Queryable): Promise<number> {
  return (await projectSchema(db)) === null ? 0 : readSchemaVersion(db);
}

export async function loadBackup(pool: pg.Pool, events: AsyncIterable<LoadEvent>, options: { force: boolean }): Promise<LoadResult> {
  return withTransaction(pool, async (client) => {
    if ((client as { pipeline?: boolean }).pipeline === true) throw new Error('a restore needs a pool without pipeline mode: its rows go in with COPY');
    await client.query('SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0');
    if (!(await tryWriterLockForTransaction(client))) {
      throw new CollectorError('RESTORE_REFUSED', 'a collector is running on this database: stop it first, then restore', { details: { reason: 'collector-running' } });
    }
    const schema = (await projectSchema(client))!;
    const tables = new Map((await projectTables(client, schema)).map((table) => [table.name, table]));
    await makeEmpty(client, schema, [...tables.values()], options.force);
    const aside = await setIndexesAside(client, schema, [...tables.keys()]);
    let ended = false;
    const loaded: Record<string, number> = {};
    const skippedTables: string[] = [];
    let insert: ((rows: TextRow[]) => Promise<number>) | null = null;
    let inserted = 0;
    // One batch's COPY runs while the next is read from the file: at most two batches in memory.
    let copying: Promise<number> | null = null;
    const copied = async (): Promise<void> => {
      const pending = copying;
      copying = null;
      if (pending !== null) inserted += await pending;
    };
    for await (const event of events) {
      if (event.kind === 'table') {
        const target = tables.get(event.name);
        if (target === undefined) skippedTables.push(event.name);
        insert = target === undefined ? null : inserter(client, schema, target, event.columns);
        inserted = 0;
      } else if (event.kind === 'rows') {
        if (insert === null) continue;
        const next = insert(event.rows);
        // Awaited in turn below; a failure meanwhile rolls the transaction back either way.
        next.catch(() => undefined);
        await copied();
        copying = next;
      } else if (event.kind === 'tableEnd') {
        await copied();
        if (insert !== null && inserted !== event.rows) throw new Error(`${event.table}: ${inserted} rows inserted where the backup holds ${event.rows}`);
        if (insert !== null) loaded[event.table] = inserted;
      } else if (event.kind === 'sequences') {
        await setSequences(client, schema, event.sequences);
      } else {
        await aside.restore();
        await verifyCounts(client, schema, loaded);
        ended = true;
      }
    }
    // Never commit tables without their keys and indexes (the reader throws on a file cut short anyway).
    if (!ended) throw new Error('the backup ended before its last line');
    return { rows: loaded, skippedTables };
  });
}

/** Refuses a database holding rows, or with `force` empties every table of the collector. */
async function makeEmpty(client: pg.PoolClient, schema: string, tables: CatalogTable[], force: boolean): Promise<void> {
  if (tables.length === 0) return;
  const holding: string[] = [];
  for (const table of tables) {
    const result = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${qualified(schema, table.name)}) AS any`);
    if (result.rows[0]?.any) holding.push(table.name);
  }
  if (holding.length === 0) return;
  if (!force) {
    throw new CollectorError(
      'RESTORE_REFUSED',
      `the database already holds data (in ${holding.join(', ')}): restore into an empty database, or add --force to replace everything in it with the backup`,
      { details: { reason: 'not-empty' } },
    );
  }
  await client.query(`TRUNCATE ${tables.map((table) => qualified(schema, table.name)).join(', ')}`);
}

/**
 * One COPY per batch, naming the backup's columns: each value is PostgreSQL's own text form of it, which COPY
 * reads by the target column's type, and a column the schema has and the backup lacks takes its default.
 * COPY keeps identity values as they were (as OVERRIDING SYSTEM VALUE does); the sequences are set afterwards.
 */
function inserter(client: pg.PoolClient, schema: string, target: CatalogTable, columns: TableColumn[]): (rows: TextRow[]) => Promise<number> {
  const known = new Set(target.columns.map((column) => column.name));
  const missing = columns.filter((column) => !known.has(column.name)).map((column) => column.name);
  if (missing.length > 0) throw new Error(`${target.name}: the backup has columns this schema lacks (${missing.join(', ')})`);
  const sql = `COPY ${qualified(schema, target.name)} (${columns.map((column) => quoteIdentifier(column.name)).join(', ')}) FROM STDIN`;
  return async (rows) => (rows.length === 0 ? 0 : await client.query(new CopyIn(sql, copyText(rows))));
}

async function setSequences(client: pg.PoolClient, schema: string, sequences: SequenceState[]): Promise<void> {
  for (const sequence of sequences) {
    const name = qualified(schema, sequence.name);
    const exists = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [name]);
    if (exists.rows[0]?.present) await client.query('SELECT setval($1::regclass, $2::bigint, $3)', [name, sequence.lastValue, sequence.isCalled]);
  }
}

/** Counted again from the tables themselves, after every insert: nothing lost, nothing doubled. */
async function verifyCounts(client: pg.PoolClient, schema: string, loaded: Record<string, number>): Promise<void> {
  for (const [table, rows] of Object.entries(loaded)) {
    const result = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(schema, table)}`);
    if (Number(result.rows[0]!.n) !== rows) throw new Error(`${table} holds ${result.rows[0]!.n} rows after the restore where the backup has ${rows}`);
  }
}
