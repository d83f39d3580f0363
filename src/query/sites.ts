/** The stored sites, and turning a `--site` / `?site=` argument into the list of sites a report covers. */
import type { Channel, NemDate } from '../domain/models.ts';
import type { Queryable } from '../db/pool.ts';
import { CollectorError } from '../errors.ts';
import { dateText } from './nem-sql.ts';

export interface SiteInfo {
  id: string;
  nmi: string;
  network: string;
  status: string;
  intervalLength: number;
  activeFrom: NemDate | null;
  closedOn: NemDate | null;
  channels: Channel[];
}

export async function listSites(db: Queryable): Promise<SiteInfo[]> {
  const result = await db.query<{
    id: string;
    nmi: string;
    network: string;
    status: string;
    interval_length: number;
    active_from: string | null;
    closed_on: string | null;
    channels: Channel[];
  }>(
    `SELECT id, nmi, network, status, interval_length, ${dateText('active_from')} AS active_from,
            ${dateText('closed_on')} AS closed_on, channels
     FROM sites
     ORDER BY (status = 'active') DESC, active_from DESC NULLS LAST, id`,
  );
  return result.rows.map((row) => ({
    id: row.id,
    nmi: row.nmi,
    network: row.network,
    status: row.status,
    intervalLength: row.interval_length,
    activeFrom: row.active_from,
    closedOn: row.closed_on,
    channels: row.channels,
  }));
}

/**
 * The sites a report covers: every stored site when `siteId` is null, otherwise that one. An unknown id
 * is a usage error that lists the ids that exist, so a typo is fixed in one go.
 */
export async function selectSites(db: Queryable, siteId: string | null): Promise<SiteInfo[]> {
  const sites = await listSites(db);
  if (siteId === null) return sites;
  const site = sites.find((s) => s.id === siteId);
  if (site !== undefined) return [site];
  const known = sites.length > 0 ? `known sites: ${sites.map((s) => s.id).join(', ')}` : 'no sites are stored yet';
  throw new CollectorError('USAGE', `no site "${siteId}" (${known})`, { details: { siteId } });
}
