import { describe, expect, it } from 'vitest';
import {
  advanceWatermark,
  markSuccess,
  readCollectionState,
  readCollectionStates,
  recordCollectionError,
  resetCollectionState,
} from '../../src/db/collection-state.ts';
import type { Queryable } from '../../src/db/pool.ts';
import { upsertSites } from '../../src/db/sites-store.ts';
import type { DataType, NemDate } from '../../src/domain/models.ts';
import { databaseForFile } from '../helpers/database.ts';
import { site } from '../helpers/intervals.ts';

/** A chunk from the stream's first day through `through`, as the collector stores one: the watermark moves to `through`. */
function markCollected(db: Queryable, args: { siteId: string; dataType: DataType; backfillFrom: NemDate; through: NemDate }) {
  return advanceWatermark(db, { ...args, chunkStart: args.backfillFrom });
}

const A = site({ id: '01SITEA0000000000000000000' });
const B = site({ id: '01SITEB0000000000000000000' });
const db = databaseForFile({ seed: (pool) => upsertSites(pool, [A, B]), truncateBeforeEach: ['collection_state'] });

describe('collection state', () => {
  it('has no state for a stream that was never collected', async () => {
    expect(await readCollectionState(db.pool, A.id, 'price')).toBeNull();
    expect(await readCollectionStates(db.pool)).toEqual([]);
  });

  it('records the watermark, creating the row the first time and moving it afterwards', async () => {
    await markCollected(db.pool, { siteId: A.id, dataType: 'price', backfillFrom: '2025-01-01', through: '2025-01-07' });
    await markCollected(db.pool, { siteId: A.id, dataType: 'price', backfillFrom: '2025-01-01', through: '2025-01-14' });

    expect(await readCollectionState(db.pool, A.id, 'price')).toEqual({
      siteId: A.id,
      dataType: 'price',
      backfillFrom: '2025-01-01',
      collectedThrough: '2025-01-14',
      lastSuccessAt: expect.any(Date),
      lastError: null,
      lastErrorAt: null,
      consecutiveFailures: 0,
    });
  });

  describe('advanceWatermark', () => {
    const stream = { siteId: A.id, dataType: 'price' as const, backfillFrom: '2025-01-01' };
    const watermark = async () => (await readCollectionState(db.pool, A.id, 'price'))?.collectedThrough ?? null;

    it('moves over chunks that start at the beginning or join the collected days', async () => {
      expect(await advanceWatermark(db.pool, { ...stream, chunkStart: '2025-01-01', through: '2025-01-07' })).toBe('2025-01-07');
      expect(await advanceWatermark(db.pool, { ...stream, chunkStart: '2025-01-08', through: '2025-01-14' })).toBe('2025-01-14');
      expect(await watermark()).toBe('2025-01-14');
    });

    it('does not move over a gap, nor backwards, nor for a chunk already inside the collected range', async () => {
      expect(await advanceWatermark(db.pool, { ...stream, chunkStart: '2025-01-08', through: '2025-01-14' })).toBeNull();
      expect(await watermark()).toBeNull(); // the row exists (a success was recorded), nothing is claimed

      await advanceWatermark(db.pool, { ...stream, chunkStart: '2025-01-01', through: '2025-01-07' });
      expect(await advanceWatermark(db.pool, { ...stream, chunkStart: '2025-01-09', through: '2025-01-15' })).toBeNull();
      expect(await advanceWatermark(db.pool, { ...stream, chunkStart: '2025-01-03', through: '2025-01-05' })).toBeNull();
      expect(await watermark()).toBe('2025-01-07');
    });

    it('starts over when the start date moved earlier, and keeps the watermark when it moved later', async () => {
      await advanceWatermark(db.pool, { ...stream, chunkStart: '2025-01-01', through: '2025-03-31' });

      expect(await advanceWatermark(db.pool, { ...stream, backfillFrom: '2024-12-01', chunkStart: '2024-12-01', through: '2024-12-07' })).toBe('2024-12-07');
      expect(await readCollectionState(db.pool, A.id, 'price')).toMatchObject({ backfillFrom: '2024-12-01', collectedThrough: '2024-12-07' });

      await advanceWatermark(db.pool, { ...stream, backfillFrom: '2024-12-01', chunkStart: '2024-12-08', through: '2024-12-14' });
      expect(await advanceWatermark(db.pool, { ...stream, backfillFrom: '2024-12-10', chunkStart: '2024-12-15', through: '2024-12-21' })).toBe('2024-12-21');
      expect(await readCollectionState(db.pool, A.id, 'price')).toMatchObject({ backfillFrom: '2024-12-10', collectedThrough: '2024-12-21' });
    });

    it('counts as a success: the failure streak ends', async () => {
      await recordCollectionError(db.pool, { ...stream, error: 'boom' });
      await advanceWatermark(db.pool, { ...stream, chunkStart: '2025-01-01', through: '2025-01-07' });
      expect(await readCollectionState(db.pool, A.id, 'price')).toMatchObject({ consecutiveFailures: 0, lastSuccessAt: expect.any(Date) });
    });
  });

  it('counts a failure streak, and a success ends it while keeping the last error as history', async () => {
    const failure = { siteId: A.id, dataType: 'usage' as const, backfillFrom: '2025-01-01' };
    await recordCollectionError(db.pool, { ...failure, error: 'AMBER_SERVER: 502' });
    expect(await readCollectionState(db.pool, A.id, 'usage')).toMatchObject({
      backfillFrom: '2025-01-01',
      collectedThrough: null,
      lastSuccessAt: null,
      lastError: 'AMBER_SERVER: 502',
      lastErrorAt: expect.any(Date),
      consecutiveFailures: 1,
    });

    await recordCollectionError(db.pool, { ...failure, error: 'AMBER_TIMEOUT: no answer' });
    expect(await readCollectionState(db.pool, A.id, 'usage')).toMatchObject({ lastError: 'AMBER_TIMEOUT: no answer', consecutiveFailures: 2 });

    await markCollected(db.pool, { ...failure, through: '2025-01-07' });
    expect(await readCollectionState(db.pool, A.id, 'usage')).toMatchObject({
      collectedThrough: '2025-01-07',
      lastSuccessAt: expect.any(Date),
      lastError: 'AMBER_TIMEOUT: no answer',
      consecutiveFailures: 0,
    });
  });

  it('marks a success without moving the watermark', async () => {
    await markCollected(db.pool, { siteId: A.id, dataType: 'price', backfillFrom: '2025-01-01', through: '2025-01-07' });
    await recordCollectionError(db.pool, { siteId: A.id, dataType: 'price', backfillFrom: '2025-01-01', error: 'boom' });
    await db.pool.query(`UPDATE collection_state SET last_success_at = '2000-01-01Z'`);

    await markSuccess(db.pool, A.id, 'price');

    const state = await readCollectionState(db.pool, A.id, 'price');
    expect(state).toMatchObject({ collectedThrough: '2025-01-07', consecutiveFailures: 0 });
    expect(state?.lastSuccessAt?.getUTCFullYear()).toBeGreaterThan(2000);
  });

  it('does nothing on a success for a stream with no row yet', async () => {
    await markSuccess(db.pool, A.id, 'price');
    expect(await readCollectionStates(db.pool)).toEqual([]);
  });

  it('keeps error messages to a bounded length', async () => {
    await recordCollectionError(db.pool, { siteId: A.id, dataType: 'price', backfillFrom: '2025-01-01', error: 'x'.repeat(10_000) });
    expect((await readCollectionState(db.pool, A.id, 'price'))?.lastError).toHaveLength(2000);
  });

  it('lists every stream ordered by site and data type', async () => {
    await markCollected(db.pool, { siteId: B.id, dataType: 'usage', backfillFrom: '2025-02-01', through: '2025-02-03' });
    await markCollected(db.pool, { siteId: A.id, dataType: 'usage', backfillFrom: '2025-01-01', through: '2025-01-02' });
    await markCollected(db.pool, { siteId: A.id, dataType: 'price', backfillFrom: '2025-01-01', through: '2025-01-05' });

    const states = await readCollectionStates(db.pool);
    expect(states.map((s) => [s.siteId, s.dataType, s.collectedThrough])).toEqual([
      [A.id, 'price', '2025-01-05'],
      [A.id, 'usage', '2025-01-02'],
      [B.id, 'usage', '2025-02-03'],
    ]);
  });

  it('returns dates as YYYY-MM-DD whatever the session DateStyle', async () => {
    await markCollected(db.pool, { siteId: A.id, dataType: 'price', backfillFrom: '2025-01-31', through: '2025-02-01' });
    const client = await db.pool.connect();
    try {
      await client.query(`SET DateStyle = 'SQL, DMY'`);
      expect(await readCollectionState(client, A.id, 'price')).toMatchObject({ backfillFrom: '2025-01-31', collectedThrough: '2025-02-01' });
    } finally {
      await client.query('RESET DateStyle');
      client.release();
    }
  });

  it('forgets every stream\'s progress on reset, keeping the rows', async () => {
    await markCollected(db.pool, { siteId: A.id, dataType: 'price', backfillFrom: '2025-01-01', through: '2025-01-05' });
    await markCollected(db.pool, { siteId: B.id, dataType: 'usage', backfillFrom: '2025-02-01', through: '2025-02-03' });

    await resetCollectionState(db.pool);

    const states = await readCollectionStates(db.pool);
    expect(states.map((s) => [s.siteId, s.dataType, s.backfillFrom, s.collectedThrough])).toEqual([
      [A.id, 'price', '2025-01-01', null],
      [B.id, 'usage', '2025-02-01', null],
    ]);
  });

  it('rejects an unknown data type and an unknown site', async () => {
    await expect(
      db.pool.query(`INSERT INTO collection_state (site_id, data_type, backfill_from) VALUES ($1, 'forecast', '2025-01-01')`, [A.id]),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      markCollected(db.pool, { siteId: 'no-such-site', dataType: 'price', backfillFrom: '2025-01-01', through: '2025-01-02' }),
    ).rejects.toMatchObject({ code: '23503' });
  });
});
