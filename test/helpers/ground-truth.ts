/**
 * Compares what the collector stored with what the fake Amber server says is true, interval by interval:
 * the oracle every end-to-end and fault test ends with.
 */
import type pg from 'pg';
import type { FakeAmber } from '../fake-amber/server.ts';

export interface Discrepancies {
  expected: number;
  stored: number;
  missing: string[];
  extra: string[];
  wrong: string[];
}

interface WireRow {
  channelType: string;
  channelIdentifier?: string;
  endTime: string;
  duration: number;
  perKwh: number;
  spotPerKwh: number;
  kwh?: number;
  cost?: number;
  quality?: string;
}

const iso = (t: string | Date): string => new Date(t).toISOString();

function compare(expectedRows: Map<string, string>, storedRows: Map<string, string>, storedCount: number): Discrepancies {
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [key, value] of expectedRows) {
    const stored = storedRows.get(key);
    if (stored === undefined) missing.push(key);
    else if (stored !== value) wrong.push(`${key}: stored ${stored}, expected ${value}`);
  }
  const extra = [...storedRows.keys()].filter((key) => !expectedRows.has(key));
  return { expected: expectedRows.size, stored: storedCount, missing, extra, wrong };
}

/** Price rows: every ActualInterval the fake serves for these days, and nothing else. */
export async function diffPrices(db: pg.Pool, fake: FakeAmber, siteId: string, from: string, to: string): Promise<Discrepancies> {
  const expected = new Map<string, string>();
  for (const row of fake.expectedPrices(siteId, from, to) as unknown as WireRow[]) {
    expected.set(`${row.channelType}|${iso(row.endTime)}|${row.duration}`, `${row.perKwh}|${row.spotPerKwh}`);
  }
  const { rows } = await db.query<{ channel_type: string; nem_time: Date; duration: number; per_kwh: string; spot_per_kwh: string }>(
    `SELECT channel_type, nem_time, duration, per_kwh::text, spot_per_kwh::text FROM price_data
      WHERE site_id = $1 AND nem_date BETWEEN $2 AND $3`,
    [siteId, from, to],
  );
  const stored = new Map(rows.map((r) => [`${r.channel_type}|${iso(r.nem_time)}|${r.duration}`, `${r.per_kwh}|${r.spot_per_kwh}`]));
  return compare(expected, stored, rows.length);
}

/** Usage rows: the fake's latest revision of every usage record for these days. */
export async function diffUsage(db: pg.Pool, fake: FakeAmber, siteId: string, from: string, to: string): Promise<Discrepancies> {
  const expected = new Map<string, string>();
  for (const row of fake.expectedUsage(siteId, from, to) as unknown as WireRow[]) {
    // Generation is stored negative (the spec's convention); the live API sends feed-in kWh positive.
    const kwh = row.channelType === 'feedIn' ? -Math.abs(row.kwh!) : row.kwh;
    expected.set(`${row.channelIdentifier}|${iso(row.endTime)}|${row.duration}`, `${kwh}|${row.cost}|${row.quality}`);
  }
  const { rows } = await db.query<{ channel_id: string; nem_time: Date; duration: number; kwh: string; cost: string; quality: string }>(
    `SELECT channel_id, nem_time, duration, kwh::text, cost::text, quality FROM usage_data
      WHERE site_id = $1 AND nem_date BETWEEN $2 AND $3`,
    [siteId, from, to],
  );
  const stored = new Map(rows.map((r) => [`${r.channel_id}|${iso(r.nem_time)}|${r.duration}`, `${r.kwh}|${r.cost}|${r.quality}`]));
  return compare(expected, stored, rows.length);
}
