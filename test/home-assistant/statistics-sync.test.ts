/**
 * Long-term statistics in a Home Assistant stand-in (stand-in.ts reproduces its rules), from data the real
 * collector stored from the fake Amber server: the first sync holds every hour as the database has it, a second
 * sends nothing, a usage revision re-sends from the changed hour with no negative hour, a Home Assistant restart
 * mid-sync ends in the same place, daylight-saving days have the right number of hours, and tokens are checked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { CollectorError } from '../../src/errors.ts';
import { syncStatistics } from '../../src/home-assistant/sync.ts';
import { checkHomeAssistant } from '../../src/home-assistant/syncer.ts';
import { HomeAssistantSocket } from '../../src/home-assistant/websocket.ts';
import { silentLogger } from '../../src/logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { startStandIn, type StandIn } from './stand-in.ts';

const HOUR_MS = 3_600_000;
const ADMIN = 'admin-token';
const TOKENS = { [ADMIN]: { admin: true }, 'user-token': { admin: false } };
/**
 * The recorder's write lands this long after its answer: still after the sync's first read-back (so the sync
 * must wait for it, as with Home Assistant), without the stand-in's 150 ms default paid on every 48-hour part.
 */
const WRITE_DELAY_MS = 20;

let h: Harness | null = null;
let standIn: StandIn | null = null;
afterEach(async () => {
  await standIn?.close();
  await h?.close();
  h = null;
  standIn = null;
});

/** The database's own hourly figures per statistic id, as Home Assistant should hold them. */
async function databaseHours(pool: pg.Pool): Promise<Map<string, Map<number, number>>> {
  const result = await pool.query<{ site_id: string; channel_id: string; channel_type: string; hour: Date; kwh: number; cents: number }>(
    `SELECT site_id, channel_id, channel_type, date_trunc('hour', start_time, 'UTC') AS hour, sum(kwh)::float8 AS kwh, sum(cost)::float8 AS cents
     FROM usage_data GROUP BY 1, 2, 3, 4`,
  );
  const hours = new Map<string, Map<number, number>>();
  const put = (id: string, hour: number, value: number) => hours.set(id, (hours.get(id) ?? new Map<number, number>()).set(hour, value));
  for (const row of result.rows) {
    const base = `amber_collector:${row.site_id.toLowerCase()}_${row.channel_id.toLowerCase()}`;
    const feedIn = row.channel_type === 'feedIn';
    put(`${base}_energy`, row.hour.getTime(), feedIn ? Math.abs(row.kwh) : row.kwh);
    put(`${base}_${feedIn ? 'compensation' : 'cost'}`, row.hour.getTime(), (feedIn ? -row.cents : row.cents) / 100);
  }
  return hours;
}

/** Every sum statistic in the stand-in: its hourly differences match the database's hours to 1e-6, none missing. */
async function expectInSync(pool: pg.Pool, held: StandIn): Promise<void> {
  const expected = await databaseHours(pool);
  expect(expected.size).toBeGreaterThan(0);
  for (const [id, hours] of expected) {
    const rows = [...(held.rows.get(id)?.values() ?? [])].sort((a, b) => a.startMs - b.startMs);
    expect(rows.map((r) => r.startMs), id).toEqual([...hours.keys()].sort((a, b) => a - b));
    let previous = 0;
    for (const row of rows) {
      expect(Math.abs(row.sum! - previous - hours.get(row.startMs)!), `${id} ${new Date(row.startMs).toISOString()}`).toBeLessThan(1e-6);
      expect(Math.abs(row.state! - hours.get(row.startMs)!)).toBeLessThan(1e-6);
      previous = row.sum!;
    }
  }
}

async function collected(now: Date, from: string): Promise<Harness> {
  const harness = await startHarness({ now });
  const collector = harness.newCollector({ historicalStartDate: from });
  await collector.discoverSites(AbortSignal.timeout(10_000));
  await collector.backfill(AbortSignal.timeout(60_000));
  return harness;
}

async function sync(pool: pg.Pool, held: StandIn, options: Parameters<typeof syncStatistics>[1] = {}) {
  const socket = await HomeAssistantSocket.connect(held.url, ADMIN);
  try {
    return await syncStatistics({ pool, socket, logger: silentLogger() }, { chunkHours: 48, verifyTimeoutMs: 5_000, ...options });
  } finally {
    socket.close();
  }
}

describe('Home Assistant long-term statistics', () => {
  it('holds every hour as the database has it after the first sync, and a second sync sends nothing', async () => {
    h = await collected(new Date('2025-11-21T07:05:00Z'), '2025-11-16');
    standIn = await startStandIn({ tokens: TOKENS, writeDelayMs: WRITE_DELAY_MS });
    const first = await sync(h.pool, standIn);
    expect(first).toMatchObject({ mismatches: 0, hoursPending: 0 });
    expect(first.hoursSent).toBeGreaterThan(100);
    await expectInSync(h.pool, standIn);
    // Prices: hourly mean, min and max in AUD/kWh, feed-in as earned.
    const general = [...standIn.rows.get('amber_collector:01hq7zv3k8d4n5xwb2c9r6t1ae_general_price')!.values()];
    expect(general.length).toBeGreaterThan(24);
    for (const row of general) expect(row.min! <= row.mean! + 1e-12 && row.mean! <= row.max! + 1e-12).toBe(true);
    expect(standIn.metadata.get('amber_collector:01hq7zv3k8d4n5xwb2c9r6t1ae_e1_energy')).toEqual({
      has_sum: true,
      mean_type: 0,
      name: 'Amber 4103827719 E1 energy drawn',
      source: 'amber_collector',
      statistic_id: 'amber_collector:01hq7zv3k8d4n5xwb2c9r6t1ae_e1_energy',
      unit_of_measurement: 'kWh',
      unit_class: 'energy',
    });
    expect(standIn.metadata.get('amber_collector:01hq7zv3k8d4n5xwb2c9r6t1ae_b1_compensation')).toMatchObject({ unit_of_measurement: 'AUD', unit_class: null, has_sum: true });

    const imports = standIn.imports.length;
    const second = await sync(h.pool, standIn);
    expect(second).toMatchObject({ hoursSent: 0, mismatches: 0 });
    expect(standIn.imports.length).toBe(imports);
  });

  it('re-sends from the first revised hour, and no hourly difference is ever negative', async () => {
    h = await collected(new Date('2025-11-21T07:05:00Z'), '2025-11-18');
    standIn = await startStandIn({ tokens: TOKENS, writeDelayMs: WRITE_DELAY_MS });
    await sync(h.pool, standIn);
    const before = await databaseHours(h.pool);
    // A day later Amber has revised the estimated reads; the collector's cycles fetch the revisions.
    h.clock.now = new Date('2025-11-22T09:05:00Z');
    const collector = h.newCollector({ historicalStartDate: '2025-11-18', usagePollMinutes: 5 });
    await collector.discoverSites(AbortSignal.timeout(10_000));
    await collector.backfill(AbortSignal.timeout(60_000));
    await collector.runCycle(AbortSignal.timeout(60_000));
    await collector.settle();
    const after = await databaseHours(h.pool);
    const id = 'amber_collector:01hq7zv3k8d4n5xwb2c9r6t1ae_e1_energy';
    const changed = [...after.get(id)!].filter(([hour, kwh]) => before.get(id)!.has(hour) && Math.abs(before.get(id)!.get(hour)! - kwh) > 1e-9).map(([hour]) => hour);
    expect(changed.length).toBeGreaterThan(0);
    const imports = standIn.imports.length;
    await sync(h.pool, standIn);
    const resent = standIn.imports.slice(imports).filter((m) => (m['metadata'] as { statistic_id: string }).statistic_id === id);
    expect(Date.parse(String((resent[0]!['stats'] as Array<{ start: string }>)[0]!.start))).toBe(Math.min(...changed));
    await expectInSync(h.pool, standIn);
    // Energy never runs backwards (money may: a negative price bills a negative cost).
    for (const [statisticId, rows] of standIn.rows) {
      if (statisticId.endsWith('_energy')) for (const row of rows.values()) expect(row.state).toBeGreaterThanOrEqual(0);
    }
  });

  it('ends in the same place when Home Assistant restarts during the first sync', async () => {
    h = await collected(new Date('2025-11-21T07:05:00Z'), '2025-11-17');
    standIn = await startStandIn({ tokens: TOKENS, writeDelayMs: 300 });
    standIn.onImport = async (count) => {
      if (count === 5) await standIn!.restart();
    };
    await expect(sync(h.pool, standIn)).rejects.toMatchObject({ code: 'HOME_ASSISTANT_UNAVAILABLE' });
    standIn.onImport = null;
    await new Promise((resolve) => setTimeout(resolve, 500)); // Home Assistant is back after its restart.
    const resumed = await sync(h.pool, standIn);
    expect(resumed.mismatches).toBe(0);
    await expectInSync(h.pool, standIn);
  });

  it('gives a daylight-saving day in Sydney and Adelaide exactly its hours (23 in October, 25 in April)', async () => {
    for (const [now, from, day, hours] of [
      [new Date('2026-10-05T23:00:00Z'), '2026-10-03', '2026-10-04', 23],
      [new Date('2026-04-06T23:00:00Z'), '2026-04-04', '2026-04-05', 25],
    ] as const) {
      h = await collected(now, from);
      standIn = await startStandIn({ tokens: TOKENS, writeDelayMs: WRITE_DELAY_MS });
      await sync(h.pool, standIn);
      const rows = [...standIn.rows.get('amber_collector:01jb2wxyz3m4n5p6q7r8s9t0va_e1_energy')!.keys()];
      for (const zone of ['Australia/Sydney', 'Australia/Adelaide']) {
        const [start, end] = [localMidnight(day, zone), localMidnight(nextDay(day), zone)];
        expect((end - start) / HOUR_MS, zone).toBe(hours);
        // Adelaide's hours start at :30 UTC-wise; every UTC hour that starts inside the local day is one row.
        expect(rows.filter((ms) => ms >= start - (zone === 'Australia/Adelaide' ? HOUR_MS / 2 : 0) && ms < end - (zone === 'Australia/Adelaide' ? HOUR_MS / 2 : 0)), zone).toHaveLength(hours);
      }
      await standIn.close();
      await h.close();
      standIn = null;
      h = null;
    }
  }, 120_000);

  it("refuses a wrong token at once, and a non-administrator's token on the first import", async () => {
    standIn = await startStandIn({ tokens: TOKENS, writeDelayMs: WRITE_DELAY_MS });
    await expect(checkHomeAssistant({ url: standIn.url, token: 'nope' }, silentLogger())).rejects.toMatchObject({ code: 'HOME_ASSISTANT_AUTH' });
    await expect(HomeAssistantSocket.connect(standIn.url, 'nope')).rejects.toMatchObject({ code: 'HOME_ASSISTANT_AUTH' });
    const socket = await HomeAssistantSocket.connect(standIn.url, 'user-token');
    const refused = await socket.call({ type: 'recorder/import_statistics', metadata: {}, stats: [] }).catch((err: unknown) => err);
    socket.close();
    expect(refused).toBeInstanceOf(CollectorError);
    expect(refused).toMatchObject({ code: 'HOME_ASSISTANT_AUTH', message: expect.stringContaining('administrator') });
    // Unreachable is not fatal: it is only logged.
    await expect(checkHomeAssistant({ url: 'http://127.0.0.1:9', token: ADMIN }, silentLogger(), 2_000)).resolves.toBeUndefined();
  });
});

/** The UTC instant of 00:00 on a local date in a time zone (Australian offsets are +9:30 to +11). */
function localMidnight(date: string, zone: string): number {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  for (const offsetMinutes of [660, 630, 600, 570]) {
    const candidate = Date.parse(`${date}T00:00:00Z`) - offsetMinutes * 60_000;
    if (format.format(candidate).replace(',', '') === `${date} 00:00`) return candidate;
  }
  throw new Error(`no local midnight for ${date} in ${zone}`);
}

function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
