import { describe, expect, it } from 'vitest';
import { advanceWatermark, readCollectionState } from '../../src/db/collection-state.ts';
import { withTransaction } from '../../src/db/pool.ts';
import { upsertPriceIntervals } from '../../src/db/prices.ts';
import { upsertSites } from '../../src/db/sites-store.ts';
import { databaseForFile } from '../helpers/database.ts';
import { priceInterval, priceIntervalFromApi, readPayload, site } from '../helpers/intervals.ts';

const SITE = site();
const db = databaseForFile({ seed: (pool) => upsertSites(pool, [SITE]), truncateBeforeEach: ['price_data', 'collection_state'] });

interface StoredPrice {
  channel_type: string;
  nem_time: string;
  per_kwh: string;
  revision_count: number;
  first_seen_at: Date;
  updated_at: Date;
  xmin: string;
}

async function stored(): Promise<StoredPrice[]> {
  const result = await db.pool.query<StoredPrice>(
    `SELECT channel_type, to_char(nem_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS nem_time, per_kwh,
            revision_count, first_seen_at, updated_at, xmin::text
     FROM price_data ORDER BY channel_type, nem_time, duration`,
  );
  return result.rows;
}

const general = (end: string, perKwh = 24.33) => priceInterval({ end, perKwh, channelType: 'general' });
const BATCH = [
  general('2025-11-20T03:00:00Z'),
  general('2025-11-20T03:30:00Z'),
  priceInterval({ end: '2025-11-20T03:00:00Z', channelType: 'feedIn', perKwh: -5.2 }),
];

describe('upsertPriceIntervals', () => {
  it('inserts new rows, mapping every field', async () => {
    const current = priceInterval({
      end: '2025-11-20T04:00:00Z',
      type: 'CurrentInterval',
      estimate: true,
      perKwh: 10.30517,
      spotPerKwh: -1.04155,
      renewables: 70.118,
      descriptor: 'extremelyLow',
      tariffInformation: { period: 'offPeak', season: 'default', block: 2, demandWindow: false },
    });

    expect(await upsertPriceIntervals(db.pool, SITE.id, [current])).toEqual({ inserted: 1, updated: 0, unchanged: 0 });

    const row = await db.pool.query(
      `SELECT site_id, channel_type, nem_time, duration, start_time, end_time, to_char(nem_date, 'YYYY-MM-DD') AS nem_date,
              per_kwh, spot_per_kwh, renewables, spike_status, descriptor, tariff_period, tariff_season, tariff_block,
              tariff_demand_window, interval_type, estimate, raw, revision_count,
              first_seen_at = updated_at AS untouched_since_insert
       FROM price_data`,
    );
    expect(row.rows).toEqual([
      {
        site_id: SITE.id,
        channel_type: 'general',
        nem_time: new Date('2025-11-20T04:00:00Z'),
        duration: 30,
        start_time: new Date('2025-11-20T03:30:01Z'),
        end_time: new Date('2025-11-20T04:00:00Z'),
        nem_date: '2025-11-20',
        per_kwh: '10.30517',
        spot_per_kwh: '-1.04155',
        renewables: '70.118',
        spike_status: 'none',
        descriptor: 'extremelyLow',
        tariff_period: 'offPeak',
        tariff_season: 'default',
        tariff_block: 2,
        tariff_demand_window: false,
        interval_type: 'CurrentInterval',
        estimate: true,
        raw: current.raw,
        revision_count: 0,
        untouched_since_insert: true,
      },
    ]);
  });

  it('writes nothing when the same rows arrive again', async () => {
    await upsertPriceIntervals(db.pool, SITE.id, BATCH);
    const before = await stored();

    expect(await upsertPriceIntervals(db.pool, SITE.id, BATCH)).toEqual({ inserted: 0, updated: 0, unchanged: 3 });
    // Same tuple versions (xmin), so not even a no-op update happened; updated_at and revisions untouched.
    expect(await stored()).toEqual(before);
  });

  it('updates only the rows whose values changed, counting the revision', async () => {
    await upsertPriceIntervals(db.pool, SITE.id, BATCH);
    const [feedIn, general0300, general0330] = await stored(); // ordered by channel type, then time

    const revised = [BATCH[0]!, general('2025-11-20T03:30:00Z', 25.01), BATCH[2]!];
    expect(await upsertPriceIntervals(db.pool, SITE.id, revised)).toEqual({ inserted: 0, updated: 1, unchanged: 2 });

    const after = await stored();
    expect(after[0]).toEqual(feedIn);
    expect(after[1]).toEqual(general0300);
    expect(after[2]).toMatchObject({ nem_time: '2025-11-20T03:30:00Z', per_kwh: '25.01', revision_count: 1, first_seen_at: general0330!.first_seen_at });
    // Compared in SQL: JS dates keep only milliseconds.
    const moved = await db.pool.query(`SELECT updated_at > first_seen_at AS moved FROM price_data WHERE revision_count = 1`);
    expect(moved.rows).toEqual([{ moved: true }]);
  });

  it('mixes inserts, updates and unchanged rows in one batch', async () => {
    await upsertPriceIntervals(db.pool, SITE.id, BATCH.slice(0, 2));
    const counts = await upsertPriceIntervals(db.pool, SITE.id, [BATCH[0]!, general('2025-11-20T03:30:00Z', 1), BATCH[2]!]);
    expect(counts).toEqual({ inserted: 1, updated: 1, unchanged: 1 });
  });

  it('collapses a key repeated within a batch, the last one winning', async () => {
    const batch = [
      general('2025-11-20T03:00:00Z', 1),
      general('2025-11-20T03:30:00Z', 2),
      // The same interval again, its end spelled in NEM time rather than UTC.
      { ...general('2025-11-20T03:00:00Z', 3), nemTime: '2025-11-20T13:00:00+10:00' },
    ];

    expect(await upsertPriceIntervals(db.pool, SITE.id, batch)).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
    expect((await stored()).map((r) => [r.nem_time, r.per_kwh])).toEqual([
      ['2025-11-20T03:00:00Z', '3'],
      ['2025-11-20T03:30:00Z', '2'],
    ]);
  });

  it('keeps 5-minute and 30-minute intervals ending at the same moment apart', async () => {
    const end = '2025-11-20T03:30:00Z';
    const counts = await upsertPriceIntervals(db.pool, SITE.id, [priceInterval({ end, duration: 5 }), priceInterval({ end, duration: 30 })]);
    expect(counts.inserted).toBe(2);
  });

  it('stores prices exactly as sent (31.185000000000002 stays so)', async () => {
    const exact = general('2025-11-20T03:00:00Z', 31.185000000000002);
    await upsertPriceIntervals(db.pool, SITE.id, [exact]);

    const row = await db.pool.query(`SELECT per_kwh::text AS column, raw->>'perKwh' AS raw FROM price_data`);
    expect(row.rows).toEqual([{ column: '31.185000000000002', raw: '31.185000000000002' }]);
    // And an identical re-fetch of that value is recognised as unchanged.
    expect(await upsertPriceIntervals(db.pool, SITE.id, [exact])).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
  });

  it('stores real API payloads, raw JSON included', async () => {
    const intervals = [
      ...readPayload('live-current-prices-2026-08-latest.json'),
      ...readPayload('issue272-current-interval-5min-estimate-true-advancedPrice.json'),
    ].map(priceIntervalFromApi);

    expect(await upsertPriceIntervals(db.pool, SITE.id, intervals)).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
    const rows = await db.pool.query(
      `SELECT duration, to_char(nem_date, 'YYYY-MM-DD') AS nem_date, per_kwh, interval_type, estimate, tariff_period,
              raw->'advancedPrice'->>'predicted' AS predicted, raw
       FROM price_data ORDER BY nem_time`,
    );
    expect(rows.rows).toEqual([
      { duration: 5, nem_date: '2026-01-28', per_kwh: '11.11343', interval_type: 'CurrentInterval', estimate: true, tariff_period: 'shoulder', predicted: '10.0136', raw: intervals[1]!.raw },
      { duration: 30, nem_date: '2026-08-23', per_kwh: '22.31593', interval_type: 'CurrentInterval', estimate: true, tariff_period: 'offPeak', predicted: '22.00484', raw: intervals[0]!.raw },
    ]);
  });

  it('sends nothing for an empty batch', async () => {
    expect(await upsertPriceIntervals(db.pool, SITE.id, [])).toEqual({ inserted: 0, updated: 0, unchanged: 0 });
  });

  it('leaves neither rows nor progress behind when the transaction rolls back', async () => {
    const failure = new Error('crash between the upsert and the commit');
    await expect(
      withTransaction(db.pool, async (tx) => {
        await upsertPriceIntervals(tx, SITE.id, BATCH);
        await advanceWatermark(tx, { siteId: SITE.id, dataType: 'price', backfillFrom: '2025-11-01', chunkStart: '2025-11-01', through: '2025-11-20' });
        throw failure;
      }),
    ).rejects.toBe(failure);

    expect(await stored()).toEqual([]);
    expect(await readCollectionState(db.pool, SITE.id, 'price')).toBeNull();
  });

  it('refuses rows of a site that was never stored', async () => {
    await expect(upsertPriceIntervals(db.pool, 'no-such-site', BATCH)).rejects.toMatchObject({ code: '23503' });
  });
});
