/**
 * `sites`: the account's sites as the API last described them. Discovery writes them; everything that must not
 * spend an API call to learn them (`status`, on-demand backfill requests and their `--dry-run`, alerts, reports
 * and the read API) reads them back here.
 */
import type { Channel, Site } from '../domain/models.ts';
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

interface SiteRow {
  id: string;
  nmi: string;
  network: string;
  status: string;
  active_from: string | null;
  closed_on: string | null;
  interval_length: number;
  channels: Channel[];
  raw: Record<string, unknown>;
}

/** Every stored site, active ones first, then the newest: the one way the code reads the sites table. */
export async function readStoredSites(db: Queryable): Promise<Site[]> {
  const result = await db.query<SiteRow>(
    `SELECT id, nmi, network, status, to_char(active_from, 'YYYY-MM-DD') AS active_from,
            to_char(closed_on, 'YYYY-MM-DD') AS closed_on, interval_length, channels, raw
     FROM sites
     ORDER BY (status = 'active') DESC, active_from DESC NULLS LAST, id`,
  );
  return result.rows.map((row) => ({
    id: row.id,
    nmi: row.nmi,
    network: row.network,
    status: row.status,
    activeFrom: row.active_from,
    closedOn: row.closed_on,
    intervalLength: row.interval_length,
    channels: row.channels,
    raw: row.raw,
  }));
}
