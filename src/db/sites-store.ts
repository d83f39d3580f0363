/** `sites`: the account's sites as the API last described them. */
import type { Site } from '../domain/models.ts';
import type { Queryable } from './pool.ts';
import { upsertRows, type UpsertCounts, type UpsertTable } from './upsert.ts';

export type { UpsertCounts } from './upsert.ts';

const SITE_TABLE: UpsertTable<Site> = {
  table: 'sites',
  key: [{ name: 'id', type: 'text', value: (s) => s.id }],
  values: [
    { name: 'nmi', type: 'text', value: (s) => s.nmi },
    { name: 'network', type: 'text', value: (s) => s.network },
    { name: 'status', type: 'text', value: (s) => s.status },
    { name: 'active_from', type: 'date', value: (s) => s.activeFrom },
    { name: 'closed_on', type: 'date', value: (s) => s.closedOn },
    { name: 'interval_length', type: 'integer', value: (s) => s.intervalLength },
    { name: 'channels', type: 'jsonb', value: (s) => s.channels },
    { name: 'raw', type: 'jsonb', value: (s) => s.raw },
  ],
  countsRevisions: false,
  keyOf: (s) => s.id,
};

/** Stores sites (status, channels and interval length can change); unchanged ones are left untouched. */
export function upsertSites(db: Queryable, sites: readonly Site[]): Promise<UpsertCounts> {
  return upsertRows(db, SITE_TABLE, sites);
}
