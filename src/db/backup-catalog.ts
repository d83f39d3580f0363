/**
 * What a backup holds, read from PostgreSQL's own catalog rather than from a list in the code: every table of
 * the schema the migrations created (the one holding `schema_migrations`), so a table a later migration adds
 * is backed up without anyone remembering to add it here; their columns with their exact types; the order in
 * which foreign keys let them be loaded; and the sequences behind identity columns.
 */
import type { Queryable } from './pool.ts';

export interface TableColumn {
  name: string;
  /** The column's type as SQL spells it (`numeric`, `timestamp with time zone`, `text[]`), for casts. */
  type: string;
}

export interface CatalogTable {
  name: string;
  columns: TableColumn[];
}

export interface SequenceState {
  name: string;
  /** As text: a bigint does not fit a JavaScript number. */
  lastValue: string;
  isCalled: boolean;
}

/** The table migrations record themselves in: its rows are the backup's schema version, not data. */
export const MIGRATIONS_TABLE = 'schema_migrations';

/** The schema the project's tables live in: where `schema_migrations` is, or null when migrations never ran. */
export async function projectSchema(db: Queryable): Promise<string | null> {
  const result = await db.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [MIGRATIONS_TABLE],
  );
  return result.rows[0]?.schema ?? null;
}

/**
 * The project's tables (all but `schema_migrations`), parents before the tables whose foreign keys point at
 * them, each with its columns in their stored order. Partitions are read through their parent.
 */
export async function projectTables(db: Queryable, schema: string): Promise<CatalogTable[]> {
  const tables = await db.query<{ name: string; columns: Array<{ name: string; type: string }> }>(
    `SELECT c.relname AS name,
            json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum) AS columns
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> $2
      GROUP BY c.relname
      ORDER BY c.relname`,
    [schema, MIGRATIONS_TABLE],
  );
  const references = await db.query<{ child: string; parent: string }>(
    `SELECT DISTINCT child.relname AS child, parent.relname AS parent
       FROM pg_constraint k
       JOIN pg_class child ON child.oid = k.conrelid
       JOIN pg_class parent ON parent.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = child.relnamespace
      WHERE k.contype = 'f' AND n.nspname = $1 AND child.oid <> parent.oid`,
    [schema],
  );
  return loadOrder(tables.rows, references.rows);
}

/** Parents first (a depth-first topological sort); names break ties, so the order is the same every time. */
function loadOrder(tables: CatalogTable[], references: Array<{ child: string; parent: string }>): CatalogTable[] {
  const byName = new Map(tables.map((table) => [table.name, table]));
  const ordered: CatalogTable[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done' || !byName.has(name)) return;
    if (state.get(name) === 'visiting') throw new Error(`foreign keys form a cycle: ${[...path, name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const reference of references.filter((r) => r.child === name).sort((a, b) => a.parent.localeCompare(b.parent))) {
      visit(reference.parent, [...path, name]);
    }
    state.set(name, 'done');
    ordered.push(byName.get(name)!);
  };
  for (const table of tables) visit(table.name, []);
  return ordered;
}

/** Every sequence of the schema (identity columns' included) and where it stands. */
export async function sequenceStates(db: Queryable, schema: string): Promise<SequenceState[]> {
  const names = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY c.relname`,
    [schema],
  );
  const states: SequenceState[] = [];
  for (const { name } of names.rows) {
    const state = await db.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${qualified(schema, name)}`);
    const row = state.rows[0]!;
    states.push({ name, lastValue: row.last_value, isCalled: row.is_called });
  }
  return states;
}

/** `"schema"."name"`, quoted so any name the catalog holds is safe to put into a statement. */
export function qualified(schema: string, name: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
