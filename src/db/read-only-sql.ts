/**
 * `query sql`: one statement of the user's own SQL in a READ ONLY transaction with a statement timeout,
 * always rolled back, its rows streamed in batches through a cursor (pg-cursor: a portal read a batch at a
 * time), so memory stays flat whatever the result's size.
 *
 * The statement goes over the extended protocol, which refuses several statements in one string, so
 * `SELECT 1; COMMIT; DELETE …` cannot step out of the read-only transaction. This guards against mistakes,
 * not against a hostile user: whoever holds DATABASE_URL can connect with psql anyway.
 */
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { asDatabaseUnavailable, checkOutClient } from './pool.ts';

/** How a column's text becomes JSON: as a string, as the number it spells, as a boolean, or as embedded JSON. */
export type ValueKind = 'text' | 'number' | 'boolean' | 'json';

export interface SqlColumn {
  name: string;
  kind: ValueKind;
}

/** Every value exactly as PostgreSQL renders it (session TimeZone UTC), or null. */
export type SqlRow = (string | null)[];

export interface SqlSink {
  /** Called once, before any rows, with the statement's columns (none for a statement without rows). */
  columns(columns: readonly SqlColumn[]): Promise<void>;
  /** Called for each batch of rows, in order; the next batch is fetched only once this resolves. */
  rows(rows: readonly SqlRow[]): Promise<void>;
}

export interface SqlOutcome {
  /** The command tag, e.g. SELECT, EXPLAIN, SHOW. */
  command: string;
  rowCount: number;
}

/** Rows per cursor read: large enough to keep round trips few, small enough to keep memory flat. */
const BATCH_ROWS = 1000;

/** Values stay PostgreSQL's own text: no Date parsing, no float rounding, no time zone of this process. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

// pg_type OIDs (stable since PostgreSQL 7): int8, int2, int4, oid, float4, float8, numeric; bool; json, jsonb.
const NUMBER_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700]);
const BOOLEAN_TYPES = new Set([16]);
const JSON_TYPES = new Set([114, 3802]);

/**
 * Runs `text` and hands its rows to `sink` batch by batch. Needs a pool without pipeline mode (pg refuses
 * cursors in it). A connection lost on the way is `DB_UNAVAILABLE`.
 */
export async function streamReadOnlySql(pool: pg.Pool, text: string, options: { timeoutMs: number }, sink: SqlSink): Promise<SqlOutcome> {
  const { client, release } = await checkOutClient(pool);
  let failure: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.trunc(options.timeoutMs))}`);
    const cursor = client.query(new Cursor<SqlRow>(text, undefined, { rowMode: 'array', types: TEXT_TYPES }));
    let rowCount = 0;
    let described = false;
    for (;;) {
      const { rows, result } = await read(cursor);
      if (!described) {
        described = true;
        await sink.columns((result.fields ?? []).map((field) => ({ name: field.name, kind: kindOf(field.dataTypeID) })));
      }
      if (rows.length > 0) await sink.rows(rows);
      rowCount += rows.length;
      if (rows.length < BATCH_ROWS) return { command: result.command, rowCount };
    }
  } catch (err) {
    failure = err as Error;
    throw asDatabaseUnavailable(err);
  } finally {
    // Roll back even after success: nothing the statement did (a temp table, a setting) may outlive it.
    await client.query('ROLLBACK').catch(() => {
      // A broken connection has no transaction left; it is destroyed below.
    });
    release(failure);
  }
}

/** One batch, with the result it belongs to (its fields and, once complete, its command tag). */
function read(cursor: Cursor<SqlRow>): Promise<{ rows: SqlRow[]; result: pg.QueryResult }> {
  return new Promise((resolve, reject) => {
    cursor.read(BATCH_ROWS, (err, rows, result) => (err ? reject(err) : resolve({ rows, result })));
  });
}

function kindOf(typeId: number): ValueKind {
  if (NUMBER_TYPES.has(typeId)) return 'number';
  if (BOOLEAN_TYPES.has(typeId)) return 'boolean';
  if (JSON_TYPES.has(typeId)) return 'json';
  return 'text';
}
