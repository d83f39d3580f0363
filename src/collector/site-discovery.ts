/** Site discovery: which sites the API key can see, stored (closed ones too), filtered to the ones to collect. */
import type { Queryable } from '../db/pool.ts';
import { upsertSites } from '../db/sites-store.ts';
import type { AmberClient } from '../amber/client.ts';
import type { Site } from '../domain/models.ts';
import type { Logger } from '../logger.ts';

export interface SiteDiscoveryDeps {
  pool: Queryable;
  client: AmberClient;
  logger: Logger;
  /** AMBER_SITE_IDS; null collects every site. */
  siteIds: readonly string[] | null;
}

/** Reads `/sites`, stores every site and returns the ones to collect. */
export async function discoverSites(deps: SiteDiscoveryDeps, signal: AbortSignal): Promise<Site[]> {
  const parsed = await deps.client.listSites({ priority: 'fresh', signal });
  await upsertSites(deps.pool, parsed.items);
  const wanted = deps.siteIds;
  for (const id of wanted ?? []) {
    if (!parsed.items.some((s) => s.id === id)) {
      deps.logger.warn({ site: id }, 'AMBER_SITE_IDS names a site this API key cannot see; it is ignored');
    }
  }
  return wanted ? parsed.items.filter((s) => wanted.includes(s.id)) : parsed.items;
}
