import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { upsertSites } from '../../src/db/sites-store.ts';
import { upsertUsageIntervals } from '../../src/db/usage.ts';
import { databaseForFile } from '../helpers/database.ts';
import { readPayload, site, usageInterval, usageIntervalFromApi } from '../helpers/intervals.ts';

const SITE = site({ id: '01E8RD8PYMAHBTJCSNFA73KH8A' });
const db = databaseForFile({ seed: (pool) => upsertSites(pool, [SITE]), truncateBeforeEach: ['usage_data'] });

describe('upsertUsageIntervals', () => {
  it('inserts new rows, mapping every field', async () => {
    const record = usageInterval({
      end: '2025-12-03T14:30:00Z',
      channelIdentifier: 'B1',
      channelType: 'feedIn',
      kwh: 0.412,
      cost: -2.1373,
      quality: 'estimated',
      perKwh: -5.18762,
      tariffInformation: { period: 'solarSponge', season: null, block: null, demandWindow: true },
    });

    expect(await upsertUsageIntervals(db.pool, SITE.id, [record])).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    const rows = await db.pool.query(
      `SELECT site_id, channel_id, channel_type, nem_time, duration, start_time, end_time, to_char(nem_date, 'YYYY-MM-DD') AS nem_date,
              kwh, cost, quality, per_kwh, spot_per_kwh, renewables, spike_status, descriptor,
              tariff_period, tariff_season, tariff_block, tariff_demand_window, raw, revision_count
       FROM usage_data`,
    );
    expect(rows.rows).toEqual([
      {
        site_id: SITE.id,
        channel_id: 'B1',
        channel_type: 'feedIn',
        nem_time: new Date('2025-12-03T14:30:00Z'),
        duration: 30,
        start_time: new Date('2025-12-03T14:00:01Z'),
        end_time: new Date('2025-12-03T14:30:00Z'),
        nem_date: '2025-12-04',
        kwh: '-0.412', // generation is stored negative; raw keeps the API's positive value
        cost: '-2.1373',
        quality: 'estimated',
        per_kwh: '-5.18762',
        spot_per_kwh: '6.12',
        renewables: '45.2',
        spike_status: 'none',
        descriptor: 'low',
        tariff_period: 'solarSponge',
        tariff_season: null,
        tariff_block: null,
        tariff_demand_window: true,
        raw: record.raw,
        revision_count: 0,
      },
    ]);
  });

  it('follows a real day of usage through its revisions: only revised records are rewritten', async () => {
    const firstSeen = readPayload('live-usage-2025-12-04-revision-v1-first-seen.json');
    const final = readPayload('live-usage-2025-12-04-revision-v3-final-all-billable.json');
    const revisedCount = final.filter((record, i) => !isDeepStrictEqual(record, firstSeen[i])).length;
    expect(revisedCount).toBe(4); // the 4 records first seen as estimated

    expect(await upsertUsageIntervals(db.pool, SITE.id, firstSeen.map(usageIntervalFromApi))).toEqual({ inserted: 48, updated: 0, unchanged: 0 });
    expect(await upsertUsageIntervals(db.pool, SITE.id, final.map(usageIntervalFromApi))).toEqual({
      inserted: 0,
      updated: revisedCount,
      unchanged: 48 - revisedCount,
    });
    expect(await upsertUsageIntervals(db.pool, SITE.id, final.map(usageIntervalFromApi))).toEqual({ inserted: 0, updated: 0, unchanged: 48 });

    const totals = await db.pool.query(
      `SELECT count(*)::int AS records, sum(kwh)::text AS kwh, sum(cost)::text AS cost,
              count(*) FILTER (WHERE quality = 'billable')::int AS billable, sum(revision_count)::int AS revisions,
              min(to_char(nem_date, 'YYYY-MM-DD')) AS first_day, max(to_char(nem_date, 'YYYY-MM-DD')) AS last_day
       FROM usage_data`,
    );
    // The exact decimal sums of the final payload's values (12.613 kWh, 213.8085 c).
    expect(totals.rows).toEqual([
      { records: 48, kwh: '12.613', cost: '213.8085', billable: 48, revisions: revisedCount, first_day: '2025-12-04', last_day: '2025-12-04' },
    ]);
  });

  it('keeps channels of the same interval apart and collapses in-batch repeats, last one winning', async () => {
    const end = '2025-12-03T14:30:00Z';
    const counts = await upsertUsageIntervals(db.pool, SITE.id, [
      usageInterval({ end, channelIdentifier: 'E1', kwh: 1 }),
      usageInterval({ end, channelIdentifier: 'E2', channelType: 'controlledLoad', kwh: 2 }),
      usageInterval({ end, channelIdentifier: 'E1', kwh: 3 }),
    ]);

    expect(counts).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
    const rows = await db.pool.query(`SELECT channel_id, kwh FROM usage_data ORDER BY channel_id`);
    expect(rows.rows).toEqual([
      { channel_id: 'E1', kwh: '3' },
      { channel_id: 'E2', kwh: '2' },
    ]);
  });
});
