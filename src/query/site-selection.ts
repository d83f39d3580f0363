/** The stored sites, and turning a `--site` / `?site=` argument into the list of sites a report covers. */
import type { Queryable } from '../db/pool.ts';
import { readStoredSites } from '../db/sites-store.ts';
import type { Site } from '../domain/models.ts';
import { CollectorError } from '../errors.ts';

/** What every command says while the sites table is empty (commands add how to start the collector where they run). */
export const NO_SITES_YET = 'no sites are stored yet: the collector reads them from Amber when it first runs';

/** A stored site as reports and the read API show it: everything but Amber's raw object. */
export type SiteInfo = Omit<Site, 'raw'>;

/** Every stored site, active ones first, then the newest. */
export async function listSites(db: Queryable): Promise<SiteInfo[]> {
  return (await readStoredSites(db)).map(({ raw: _raw, ...site }) => site);
}

/** The sites a report covers: every stored site when `siteId` is null, otherwise that one (see `requireSite`). */
export async function selectSites(db: Queryable, siteId: string | null): Promise<SiteInfo[]> {
  return siteId === null ? listSites(db) : [await requireSite(db, siteId)];
}

/** One stored site. An unknown id is a usage error that lists the ids that exist, so a typo is fixed in one go. */
export async function requireSite(db: Queryable, siteId: string): Promise<SiteInfo> {
  const sites = await listSites(db);
  const site = sites.find((s) => s.id === siteId);
  if (site !== undefined) return site;
  const known = sites.length > 0 ? `known sites: ${sites.map((s) => s.id).join(', ')}` : NO_SITES_YET;
  throw new CollectorError('USAGE', `no site "${siteId}" (${known})`, { details: { siteId } });
}
