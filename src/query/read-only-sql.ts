/**
 * `query sql`: one statement of the user's own SQL in a READ ONLY transaction with a statement timeout,
 * always rolled back.
 *
 * The statement goes over the extended protocol, which refuses several statements in one string, so
 * `SELECT 1; COMMIT; DELETE …` cannot step out of the read-only transaction. This guards against mistakes,
 * not against a hostile user: whoever holds DATABASE_URL can connect with psql anyway.
 */
import type pg from 'pg';
import type { ValueKind } from './export.ts';

export interface SqlResult {
  /** The command tag, e.g. SELECT, EXPLAIN, SHOW. */
  command: string;
  columns: Array<{ name: string; kind: ValueKind }>;
  /** Every value exactly as PostgreSQL renders it (session TimeZone UTC), or null. */
  rows: (string | null)[][];
}

/** Values stay PostgreSQL's own text: no Date parsing, no float rounding, no time zone of this process. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

// pg_type OIDs (stable since PostgreSQL 7): int8, int2, int4, oid, float4, float8, numeric; bool; json, jsonb.
const NUMBER_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700]);
const BOOLEAN_TYPES = new Set([16]);
const JSON_TYPES = new Set([114, 3802]);

export async function runReadOnlySql(pool: pg.Pool, text: string, options: { timeoutMs: number }): Promise<SqlResult> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.trunc(options.timeoutMs))}`);
    // queryMode is pg's switch to the extended protocol (missing from @types/pg, hence the separate object).
    const query: pg.QueryArrayConfig & { queryMode: 'extended' } = { text, rowMode: 'array', types: TEXT_TYPES, queryMode: 'extended' };
    const result = await client.query<(string | null)[]>(query);
    return {
      command: result.command,
      columns: (result.fields ?? []).map((field) => ({ name: field.name, kind: kindOf(field.dataTypeID) })),
      rows: result.rows ?? [],
    };
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    // Roll back even after success: nothing the statement did (a temp table, a setting) may outlive it.
    await client.query('ROLLBACK').catch(() => {
      // A broken connection has no transaction left; it is destroyed below.
    });
    client.release(failure);
  }
}

function kindOf(typeId: number): ValueKind {
  if (NUMBER_TYPES.has(typeId)) return 'number';
  if (BOOLEAN_TYPES.has(typeId)) return 'boolean';
  if (JSON_TYPES.has(typeId)) return 'json';
  return 'text';
}
