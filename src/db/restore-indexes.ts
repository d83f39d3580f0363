/**
 * A restore's indexes and keys, set aside while its rows load and built again after, as pg_restore does: a
 * row-by-row load into tables with their indexes and foreign keys updates every index once per row and checks
 * every foreign key once per row, where building an index once from the loaded rows is a sort, and a foreign
 * key is checked by one join. Everything is read from the catalog as it stands (names, definitions, deferrable
 * flags), dropped and made again in the restore's own transaction, so a failure leaves the schema as it was.
 * Building them again is also the restore's check of every primary key, unique key and foreign key.
 */
import type pg from 'pg';
import { qualified, quoteIdentifier } from './backup-catalog.ts';

interface Constraint {
  table: string;
  name: string;
  definition: string;
}

export interface SetAside {
  /** Builds every index and adds every key again: plain indexes, then primary and unique keys, then foreign keys. */
  restore(): Promise<void>;
}

/** Drops the foreign keys, primary and unique keys and other indexes of `tables` (names in `schema`). */
export async function setIndexesAside(client: pg.PoolClient, schema: string, tables: readonly string[]): Promise<SetAside> {
  const constraints = await client.query<Constraint & { kind: string }>(
    `SELECT c.relname AS table, k.conname AS name, k.contype AS kind, pg_get_constraintdef(k.oid) AS definition
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND k.contype IN ('f', 'p', 'u', 'x')
      ORDER BY c.relname, k.conname`,
    [schema, tables],
  );
  const indexes = await client.query<{ name: string; definition: string }>(
    `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = ANY($2::text[])
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
      ORDER BY ic.relname`,
    [schema, tables],
  );
  const foreign = constraints.rows.filter((k) => k.kind === 'f');
  const keys = constraints.rows.filter((k) => k.kind !== 'f');
  // Foreign keys first: a primary key cannot go while one depends on it.
  for (const k of [...foreign, ...keys]) await client.query(`ALTER TABLE ${qualified(schema, k.table)} DROP CONSTRAINT ${quoteIdentifier(k.name)}`);
  for (const index of indexes.rows) await client.query(`DROP INDEX ${qualified(schema, index.name)}`);
  return {
    async restore() {
      for (const index of indexes.rows) await client.query(index.definition);
      for (const k of [...keys, ...foreign]) await client.query(`ALTER TABLE ${qualified(schema, k.table)} ADD CONSTRAINT ${quoteIdentifier(k.name)} ${k.definition}`);
    },
  };
}
