/**
 * The sites as last stored from `/sites`, for work that must not spend an API call to learn them:
 * `status`, on-demand backfill requests and their `--dry-run`, alerts, reports and the read API.
 */
import type { Channel, Site } from '../domain/models.ts';
import type { Queryable } from './pool.ts';

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
