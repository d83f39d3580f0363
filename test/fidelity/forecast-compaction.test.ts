/**
 * Forecast compaction against a real database: hand-made vintages whose expected survivors are computed
 * here independently (first, last, and the row in force at each lead time before the interval's start).
 */
import { describe, expect, it } from 'vitest';
import { compactForecasts, COMPACTION_SLICE_DAYS, FORECAST_LEAD_MINUTES } from '../../src/db/forecast-store.ts';
import { upsertPriceIntervals } from '../../src/db/prices.ts';
import { upsertSites } from '../../src/db/sites-store.ts';
import { databaseForFile } from '../helpers/database.ts';
import { priceDay, testSite } from './fixtures.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const SITE = testSite('01JCOMPACT0000000000000001', 30, [['E1', 'general'], ['B1', 'feedIn']]);
// Intervals of NEM days 2025-03-10 .. 2025-03-12: 2025-03-10 00:30+10:00 is 2025-03-09T14:30Z.
const FIRST_END = new Date('2025-03-09T14:30:00Z');
const LAST_END = new Date('2025-03-12T14:00:00Z');

const db = databaseForFile({
  seed: (pool) => upsertSites(pool, [SITE]),
  truncateBeforeEach: ['price_forecasts', 'forecast_compaction', 'price_data'],
});

/**
 * Vintages of every 30-minute interval of both channels, fetched every 10 minutes (at minute 3) up to 7
 * minutes before its end: over 42 h before for most intervals, only the last 3 h for every 5th (so the
 * long leads find no row in force), and a single snapshot for every 7th.
 */
async function seed(): Promise<void> {
  await db.pool.query(
    `INSERT INTO price_forecasts (site_id, channel_type, nem_time, duration, fetched_at, nem_date, interval_type, per_kwh,
                                  spot_per_kwh, renewables, spike_status)
     SELECT $1, ch, e, 30, fetched_at, ((e - interval '1 second') AT TIME ZONE 'Australia/Brisbane')::date,
            CASE WHEN fetched_at >= e - interval '30 minutes' THEN 'CurrentInterval' ELSE 'ForecastInterval' END,
            20 + k * 0.01, 8, 40, 'none'
     FROM unnest(ARRAY['general', 'feedIn']) AS ch,
          generate_series($2::timestamptz, $3::timestamptz, interval '30 minutes') WITH ORDINALITY AS s (e, n),
          LATERAL (SELECT CASE WHEN n % 7 = 0 THEN 1 WHEN n % 5 = 0 THEN 18 ELSE 252 END AS vintages) v,
          generate_series(0, v.vintages - 1) AS k,
          LATERAL (SELECT e - interval '7 minutes' - (v.vintages - 1 - k) * interval '10 minutes' AS fetched_at) f`,
    [SITE.id, FIRST_END, LAST_END],
  );
}

interface Row {
  key: string;
  nemTime: Date;
  fetchedAt: Date;
}

async function rows(): Promise<Row[]> {
  const result = await db.pool.query<{ channel_type: string; nem_time: Date; duration: number; fetched_at: Date }>(
    'SELECT channel_type, nem_time, duration, fetched_at FROM price_forecasts ORDER BY 1, 2, 3, 4',
  );
  return result.rows.map((r) => ({
    key: `${r.channel_type}|${r.nem_time.toISOString()}|${r.duration}`,
    nemTime: r.nem_time,
    fetchedAt: r.fetched_at,
  }));
}

function groupByInterval(list: Row[]): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of list) groups.set(row.key, [...(groups.get(row.key) ?? []), row]);
  return groups;
}

/** The rows compaction must keep of intervals ending by `through`, and every row of the later ones. */
function expectedSurvivors(all: Row[], through: Date): Row[] {
  const byInterval = groupByInterval(all);
  const kept: Row[] = [];
  for (const vintages of byInterval.values()) {
    if (vintages[0]!.nemTime > through) {
      kept.push(...vintages);
      continue;
    }
    const start = vintages[0]!.nemTime.getTime() - 30 * MINUTE_MS;
    const keep = new Set([vintages[0]!, vintages.at(-1)!]);
    for (const lead of FORECAST_LEAD_MINUTES) {
      const inForce = vintages.filter((v) => v.fetchedAt.getTime() <= start - lead * MINUTE_MS).at(-1);
      if (inForce) keep.add(inForce);
    }
    kept.push(...vintages.filter((v) => keep.has(v)));
  }
  return kept;
}

const ids = (list: Row[]) => list.map((r) => `${r.key}|${r.fetchedAt.toISOString()}`).sort();

async function marker(): Promise<Date | null> {
  const result = await db.pool.query<{ at: Date }>('SELECT compacted_through AS at FROM forecast_compaction WHERE site_id = $1', [SITE.id]);
  return result.rows[0]?.at ?? null;
}

describe('forecast compaction', () => {
  it('keeps the first, the last and the row in force at each lead, deletes the rest, and leaves younger intervals alone', async () => {
    await seed();
    const before = await rows();
    // Intervals ending up to 2025-03-11 12:00 NEM are due; the rest are younger than the threshold.
    const through = new Date('2025-03-11T02:00:00Z');
    const expected = expectedSurvivors(before, through);

    const slice = await compactForecasts(db.pool, SITE.id, through);

    const after = await rows();
    expect(ids(after)).toEqual(ids(expected));
    expect(slice).toEqual({ from: FIRST_END, through, kept: expect.any(Number), deleted: before.length - after.length });
    const due = before.filter((r) => r.nemTime <= through);
    expect(slice!.kept).toBe(due.length - slice!.deleted);
    expect(ids(after.filter((r) => r.nemTime > through))).toEqual(ids(before.filter((r) => r.nemTime > through)));
    expect(await marker()).toEqual(through);
    // At most first + last + one per lead survive per interval; a long-forecast interval keeps them all.
    const perInterval = groupByInterval(after.filter((r) => r.nemTime <= through));
    expect(Math.max(...[...perInterval.values()].map((v) => v.length))).toBe(FORECAST_LEAD_MINUTES.length + 2);
    expect(slice!.deleted).toBeGreaterThan(0.9 * due.length);
  });

  it('is idempotent: a second run finds nothing due, and recompacting a compacted slice deletes nothing', async () => {
    await seed();
    const through = new Date('2025-03-11T02:00:00Z');
    await compactForecasts(db.pool, SITE.id, through);
    const once = await rows();

    expect(await compactForecasts(db.pool, SITE.id, through)).toBeNull();
    await db.pool.query('DELETE FROM forecast_compaction');
    const again = await compactForecasts(db.pool, SITE.id, through);
    expect(again).toMatchObject({ deleted: 0, kept: once.filter((r) => r.nemTime <= through).length });
    expect(ids(await rows())).toEqual(ids(once));
    expect(await marker()).toEqual(through);
  });

  it(`compacts at most ${COMPACTION_SLICE_DAYS} days of intervals at a time, resuming after its marker`, async () => {
    // The same vintages, moved back so the archive spans more than one slice: 3 days, then 8 days earlier.
    await seed();
    await db.pool.query(
      `INSERT INTO price_forecasts SELECT site_id, channel_type, nem_time - interval '8 days', duration, fetched_at - interval '8 days',
              nem_date - 8, interval_type, estimate, per_kwh, spot_per_kwh, renewables, spike_status, descriptor, range_min, range_max,
              advanced_low, advanced_predicted, advanced_high FROM price_forecasts`,
    );
    const before = await rows();
    const through = LAST_END;
    const earliest = new Date(FIRST_END.getTime() - 8 * DAY_MS);

    const first = await compactForecasts(db.pool, SITE.id, through);
    expect(first).toMatchObject({ from: earliest, through: new Date(earliest.getTime() + COMPACTION_SLICE_DAYS * DAY_MS) });
    expect(await marker()).toEqual(first!.through);
    // Intervals after the first slice are untouched until the next run.
    expect((await rows()).filter((r) => r.nemTime > first!.through)).toHaveLength(before.filter((r) => r.nemTime > first!.through).length);

    // The next run skips the empty days between the two batches and starts at the next stored interval.
    const second = await compactForecasts(db.pool, SITE.id, through);
    expect(second).toMatchObject({ from: FIRST_END, through });
    expect(await compactForecasts(db.pool, SITE.id, through)).toBeNull();
    expect(ids(await rows())).toEqual(ids(expectedSurvivors(before, through)));
  });

  it('does nothing for a site without forecasts or with none due yet', async () => {
    expect(await compactForecasts(db.pool, SITE.id, LAST_END)).toBeNull();
    await seed();
    expect(await compactForecasts(db.pool, SITE.id, new Date(FIRST_END.getTime() - MINUTE_MS))).toBeNull();
    expect(await marker()).toBeNull();
  });

  it('leaves price_forecast_accuracy answering "what was forecast L before" for every kept lead', async () => {
    await seed();
    await upsertPriceIntervals(db.pool, SITE.id, ['2025-03-10', '2025-03-11', '2025-03-12'].flatMap((day) => priceDay(day, 'general')));
    const through = new Date('2025-03-11T02:00:00Z');
    await compactForecasts(db.pool, SITE.id, through);

    const view = await db.pool.query<{ n: number; intervals: number; errors_ok: boolean }>(
      `SELECT count(*)::int AS n, count(DISTINCT nem_time)::int AS intervals,
              bool_and(error_per_kwh = forecast_per_kwh - actual_per_kwh) AS errors_ok
       FROM price_forecast_accuracy WHERE site_id = $1 AND channel_type = 'general' AND nem_time <= $2`,
      [SITE.id, through],
    );
    const stored = (await rows()).filter((r) => r.key.startsWith('general|') && r.nemTime <= through);
    expect(view.rows[0]).toEqual({ n: stored.length, intervals: new Set(stored.map((r) => r.key)).size, errors_ok: true });

    // The 4-hour-ahead forecast of every long-forecast interval is the one fetched just before start - 4 h.
    const fourHours = await db.pool.query<{ n: number; late: number }>(
      `WITH pick AS (
         SELECT DISTINCT ON (nem_time) nem_time, fetched_at FROM price_forecast_accuracy
         WHERE site_id = $1 AND channel_type = 'general' AND nem_time <= $2 AND lead_time >= interval '4 hours 30 minutes'
         ORDER BY nem_time, fetched_at DESC)
       SELECT count(*)::int AS n, count(*) FILTER (WHERE nem_time - interval '4 hours 30 minutes' - fetched_at >= interval '10 minutes')::int AS late
       FROM pick`,
      [SITE.id, through],
    );
    expect(fourHours.rows[0]!.n).toBeGreaterThan(0);
    expect(fourHours.rows[0]!.late).toBe(0);
  });
});
