import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { upsertSites } from '../../src/db/sites-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { readPayload, site, siteFromApi } from '../helpers/intervals.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
// Each test starts without sites: what one stored must not be in another's table.
beforeEach(async () => {
  await db.pool.query('TRUNCATE sites CASCADE');
});

async function storedSites() {
  const result = await db.pool.query(
    `SELECT id, nmi, network, status, to_char(active_from, 'YYYY-MM-DD') AS active_from, to_char(closed_on, 'YYYY-MM-DD') AS closed_on,
            interval_length, channels, raw, updated_at > first_seen_at AS changed_since_first_seen
     FROM sites ORDER BY id`,
  );
  return result.rows;
}

describe('upsertSites', () => {
  it('stores a real /sites payload, then leaves it alone when it comes back unchanged', async () => {
    const sites = readPayload('sdk1x-sites-closed-site-3-channels.json').map(siteFromApi);

    expect(await upsertSites(db.pool, sites)).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    expect(await upsertSites(db.pool, sites)).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    expect(await storedSites()).toEqual([
      {
        id: '01F5A5CRKMZ5BCX9P1S4V990AM',
        nmi: '3052282872',
        network: 'Jemena',
        status: 'closed',
        active_from: '2022-01-01',
        closed_on: '2022-05-01',
        interval_length: 30,
        channels: [
          { identifier: 'E1', type: 'general', tariff: 'A100' },
          { identifier: 'E2', type: 'controlledLoad', tariff: 'A180' },
          { identifier: 'B1', type: 'feedIn', tariff: 'A100' },
        ],
        raw: sites[0]!.raw,
        changed_since_first_seen: false,
      },
    ]);
  });

  it('updates a site whose status, interval length or channels changed', async () => {
    const pending = site({ id: '01SITECHANGES000000000000A', status: 'pending', intervalLength: 30, activeFrom: '2026-01-01' });
    await upsertSites(db.pool, [pending]);

    const active = site({ id: pending.id, status: 'active', intervalLength: 5, activeFrom: '2026-01-01' });
    expect(await upsertSites(db.pool, [active])).toEqual({ inserted: 0, updated: 1, unchanged: 0 });

    const [stored] = (await storedSites()).filter((row) => row.id === pending.id);
    expect(stored).toMatchObject({ status: 'active', interval_length: 5, closed_on: null, changed_since_first_seen: true });
  });

  it('collapses a site listed twice in one response, the last one winning', async () => {
    const id = '01SITETWICE000000000000000';
    const counts = await upsertSites(db.pool, [site({ id, network: 'Ausgrid' }), site({ id, network: 'Energex' })]);

    expect(counts).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    expect((await storedSites()).find((row) => row.id === id)).toMatchObject({ network: 'Energex' });
  });
});
