/**
 * The one bulk-upsert shape every table uses: a whole batch in ONE statement, whatever its size.
 *
 * The batch travels as a single jsonb parameter, an array with one array of column values per row, and
 * `jsonb_array_elements` turns it back into rows. Measured against one `unnest` array parameter per
 * column (test/bench/write-path.ts), this is 1.3–1.7× faster: node-postgres spends most of an unnest batch
 * escaping every raw JSON document into an array literal, while `JSON.stringify` of the whole batch
 * is cheap. Either way there is one bind parameter per batch, not per value, so no batch ever meets
 * the protocol's 65,535-parameter limit.
 *
 * Numbers stay exact: JSON carries them in the shortest text that round-trips (what `String(n)` gives,
 * and what Amber sent), jsonb keeps that as numeric, and `->>` hands the same digits to the `numeric`
 * column. On a key that exists, the row is rewritten only when some value differs, and a row stored with
 * identical values never reaches the INSERT at all, so re-fetching unchanged data writes nothing: no new
 * tuple, no row lock, no WAL, no `updated_at` change.
 */
import pg from 'pg';
import type { Queryable } from './pool.ts';

export interface UpsertCounts {
  inserted: number;
  updated: number;
  /** Rows already stored with identical values, which were left untouched. */
  unchanged: number;
}

export interface Column<Row> {
  name: string;
  /** The column's PostgreSQL type, e.g. `numeric`; the JSON value is cast to it. */
  type: string;
  /** The value as JSON: text, a number, a boolean, null, or (for jsonb columns) any JSON value. */
  value: (row: Row) => unknown;
}

export interface UpsertTable<Row> {
  table: string;
  /** The primary key, which is also the ON CONFLICT target. */
  key: readonly Column<Row>[];
  /** Every other stored column: compared with the stored row, and overwritten when any differs. */
  values: readonly Column<Row>[];
  /** Whether the table counts its changes in `revision_count`. */
  countsRevisions: boolean;
  /** The same key string for two rows exactly when they would hit the same primary key. */
  keyOf: (row: Row) => string;
}

/**
 * Upserts `rows` into `spec.table` in one statement. Rows repeating a key are collapsed first, the last
 * one winning (Postgres refuses to update one row twice in a statement).
 */
export async function upsertRows<Row>(db: Queryable, spec: UpsertTable<Row>, rows: readonly Row[]): Promise<UpsertCounts> {
  const batch = lastPerKey(rows, spec.keyOf);
  if (batch.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const columns = [...spec.key, ...spec.values];
  const result = await db.query<{ inserted: number; updated: number }>(batchUpsertSql(spec), [
    JSON.stringify(batch.map((row) => columns.map((column) => column.value(row)))),
  ]);
  const inserted = result.rows[0]?.inserted ?? 0;
  const updated = result.rows[0]?.updated ?? 0;
  return { inserted, updated, unchanged: batch.length - inserted - updated };
}

/** A row the database refused in `upsertRowsOneByOne`, with the server's SQLSTATE and message. */
export interface RefusedRow<Row> {
  row: Row;
  code: string;
  message: string;
}

/**
 * SQLSTATE classes that blame the data, not the connection or the statement: data exceptions (22: a
 * number out of range, a bad date), integrity violations (23: a CHECK) and limits (54: an index row too
 * large). A batch failing with one of these is worth retrying row by row.
 */
export function isRowDataError(err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError && typeof err.code === 'string' && /^(22|23|54)/.test(err.code);
}

/**
 * The slow path after a batch failed with a data error (which the checks at the edge should make
 * impossible): each row in its own savepoint, so only the rows the database refuses are left out. Must run
 * inside a transaction.
 */
export async function upsertRowsOneByOne<Row>(
  db: pg.PoolClient,
  spec: UpsertTable<Row>,
  rows: readonly Row[],
): Promise<{ counts: UpsertCounts; refused: Array<RefusedRow<Row>> }> {
  let counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
  const refused: Array<RefusedRow<Row>> = [];
  for (const row of lastPerKey(rows, spec.keyOf)) {
    await db.query('SAVEPOINT upsert_row');
    try {
      const one = await upsertRows(db, spec, [row]);
      await db.query('RELEASE SAVEPOINT upsert_row');
      counts = { inserted: counts.inserted + one.inserted, updated: counts.updated + one.updated, unchanged: counts.unchanged + one.unchanged };
    } catch (err) {
      if (!isRowDataError(err)) throw err;
      await db.query('ROLLBACK TO SAVEPOINT upsert_row');
      refused.push({ row, code: err.code ?? '', message: err.message });
    }
  }
  return { counts, refused };
}

function lastPerKey<Row>(rows: readonly Row[], keyOf: (row: Row) => string): Row[] {
  const byKey = new Map<string, Row>();
  for (const row of rows) byKey.set(keyOf(row), row);
  return [...byKey.values()];
}

const statements = new WeakMap<object, string>();

/** The statement for `spec`, fed from the jsonb batch parameter; built once per table. */
function batchUpsertSql<Row>(spec: UpsertTable<Row>): string {
  let text = statements.get(spec);
  if (text === undefined) {
    const columns = [...spec.key, ...spec.values];
    const select = columns.map((c, i) => (c.type === 'jsonb' ? `e->${i}` : `(e->>${i})::${c.type}`));
    text = upsertSql(spec, `SELECT ${select.join(', ')} FROM jsonb_array_elements($1::jsonb) AS e`);
    statements.set(spec, text);
  }
  return text;
}

/**
 * `INSERT … <source> ON CONFLICT … DO UPDATE … WHERE <something differs>`, answering one row with the
 * inserted and updated counts. `source` is a SELECT (or VALUES) yielding the key and value columns in order.
 * (Exported so the benchmark can feed the very same statement from other sources.)
 *
 * Rows identical to the stored ones are filtered out before the INSERT rather than left to the conflict
 * WHERE: ON CONFLICT DO UPDATE locks the existing row before it evaluates that WHERE, and the lock is a
 * write of its own (xmax set, the page dirtied, a WAL record per row: ~330 kB for an unchanged 7-day chunk
 * of 5-minute prices, every cycle). The filter is one primary-key probe per row, which costs a fresh insert
 * nothing measurable (test/bench/write-path.ts). The conflict WHERE stays for a row that a concurrent
 * transaction stores between the probe and the insert.
 */
export function upsertSql<Row>(spec: UpsertTable<Row>, source: string): string {
  const names = [...spec.key, ...spec.values].map((c) => c.name);
  const keyNames = spec.key.map((c) => c.name);
  const valueNames = spec.values.map((c) => c.name);
  const columns = (alias: string, list: readonly string[]) => list.map((name) => `${alias}.${name}`).join(', ');
  const assignments = [
    ...valueNames.map((name) => `${name} = excluded.${name}`),
    'updated_at = now()',
    ...(spec.countsRevisions ? ['revision_count = t.revision_count + 1'] : []),
  ];
  return `
    WITH incoming (${names.join(', ')}) AS (${source}),
    written AS (
      INSERT INTO ${spec.table} AS t (${names.join(', ')})
      SELECT * FROM incoming AS i
      WHERE NOT EXISTS (
        SELECT FROM ${spec.table} AS stored
        WHERE (${columns('stored', keyNames)}) = (${columns('i', keyNames)})
          AND (${columns('stored', valueNames)}) IS NOT DISTINCT FROM (${columns('i', valueNames)})
      )
      ON CONFLICT (${keyNames.join(', ')}) DO UPDATE
        SET ${assignments.join(', ')}
        WHERE (${columns('t', valueNames)}) IS DISTINCT FROM (${columns('excluded', valueNames)})
      -- xmax is 0 only on a freshly inserted tuple: how Postgres tells an insert from an update here.
      RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated
    FROM written`;
}
