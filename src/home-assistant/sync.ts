/**
 * One sync of the long-term statistics: for every site, plan what Home Assistant should hold (plan.ts), send each
 * statistic from its first changed hour in chunks small enough for the recorder, and read every chunk back
 * (`recorder/statistics_during_period`), because Home Assistant answers the import before its recorder writes.
 * Only hours read back as sent are recorded as held: an interrupted sync, a Home Assistant restart or a
 * mismatch leaves the rest pending, and the next sync starts from there.
 */
import type pg from 'pg';
import { forgetSentHours, readSentHours, recordSentHours, type StatisticHour } from '../db/home-assistant-ledger.ts';
import { readStoredSites } from '../db/sites-store.ts';
import type { Logger } from '../logger.ts';
import { priceHours, usageHours } from '../query/home-assistant-hours.ts';
import { firstChange, planSite, sameHour, type PlannedStatistic } from './plan.ts';
import type { HomeAssistantSocket } from './websocket.ts';

const HOUR_MS = 3_600_000;

export interface SyncOptions {
  /** Only these sites; null: every stored site. */
  siteIds?: readonly string[] | null;
  /** Send everything from this instant again (`--from`); null: only what changed. */
  fromMs?: number | null;
  /** Send the whole archive again (`--full`). */
  full?: boolean;
  /** Hours per import message; default 500. */
  chunkHours?: number;
  /** How long a chunk may take to become visible; default 20 s. */
  verifyTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface SyncSummary {
  statistics: number;
  hoursSent: number;
  /** Hours that should be sent and are not held yet (after a mismatch or an interruption). */
  hoursPending: number;
  mismatches: number;
  /** Every statistic id planned, with its name: what `home-assistant check` lists. */
  planned: Array<{ statisticId: string; name: string; hours: number }>;
}

export async function syncStatistics(
  deps: { pool: pg.Pool; socket: HomeAssistantSocket; logger: Logger },
  options: SyncOptions = {},
): Promise<SyncSummary> {
  const summary: SyncSummary = { statistics: 0, hoursSent: 0, hoursPending: 0, mismatches: 0, planned: [] };
  for (const statistic of await planStatistics(deps.pool, options.siteIds ?? null)) {
    options.signal?.throwIfAborted();
    summary.statistics++;
    const { metadata, rows } = statistic;
    summary.planned.push({ statisticId: metadata.statistic_id, name: metadata.name, hours: rows.length });
    if (options.full || options.fromMs != null) await forgetSentHours(deps.pool, [metadata.statistic_id], options.full ? null : options.fromMs!);
    let next = firstChange(rows, await readSentHours(deps.pool, metadata.statistic_id));
    const chunk = options.chunkHours ?? 500;
    while (next < rows.length) {
      options.signal?.throwIfAborted();
      const part = rows.slice(next, next + chunk);
      await deps.socket.call({ type: 'recorder/import_statistics', metadata, stats: part.map(toStat(statistic)) });
      const held = await readBack(deps.socket, statistic, part, options.verifyTimeoutMs ?? 20_000);
      if (held < part.length) {
        summary.mismatches++;
        summary.hoursPending += rows.length - next - held;
        deps.logger.warn(
          { statisticId: metadata.statistic_id, hour: new Date(part[held]!.hourMs).toISOString(), sent: part.length, matched: held },
          'Home Assistant does not hold what was sent; the next sync sends it again',
        );
        await recordSentHours(deps.pool, metadata.statistic_id, part.slice(0, held));
        summary.hoursSent += part.length;
        break;
      }
      await recordSentHours(deps.pool, metadata.statistic_id, part);
      summary.hoursSent += part.length;
      next += part.length;
    }
  }
  return summary;
}

/** Every statistic of the chosen sites, with its hourly rows from the whole archive (sums start at the first hour). */
export async function planStatistics(pool: pg.Pool, siteIds: readonly string[] | null): Promise<PlannedStatistic[]> {
  const sites = (await readStoredSites(pool)).filter((site) => siteIds === null || siteIds.includes(site.id));
  const planned: PlannedStatistic[] = [];
  for (const site of sites) planned.push(...planSite(site, await usageHours(pool, site.id, null), await priceHours(pool, site.id, null)));
  return planned;
}

function toStat(statistic: PlannedStatistic): (row: StatisticHour) => Record<string, unknown> {
  // Hours in UTC with an explicit offset: Home Assistant refuses naive timestamps and any not at minute 0.
  const start = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, '+00:00');
  return statistic.metadata.has_sum
    ? (row) => ({ start: start(row.hourMs), state: row.state, sum: row.sum })
    : (row) => ({ start: start(row.hourMs), mean: row.mean, min: row.min, max: row.max });
}

/** How many of `part`'s hours, from its first, Home Assistant returns as sent; waits for the recorder to write them. */
async function readBack(socket: HomeAssistantSocket, statistic: PlannedStatistic, part: readonly StatisticHour[], timeoutMs: number): Promise<number> {
  const id = statistic.metadata.statistic_id;
  const types = statistic.metadata.has_sum ? ['state', 'sum'] : ['mean', 'min', 'max'];
  const deadline = Date.now() + timeoutMs;
  for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
    const result = await socket.call<Record<string, Array<Record<string, number | null>>>>({
      type: 'recorder/statistics_during_period',
      start_time: new Date(part[0]!.hourMs).toISOString(),
      end_time: new Date(part.at(-1)!.hourMs + HOUR_MS).toISOString(),
      statistic_ids: [id],
      period: 'hour',
      types,
    });
    const byHour = new Map((result[id] ?? []).map((row) => [Number(row['start']), row]));
    let held = 0;
    while (held < part.length) {
      const row = byHour.get(part[held]!.hourMs);
      const read = row && { hourMs: part[held]!.hourMs, state: row['state'] ?? null, sum: row['sum'] ?? null, mean: row['mean'] ?? null, min: row['min'] ?? null, max: row['max'] ?? null };
      if (!read || !sameHour(read, part[held]!)) break;
      held++;
    }
    if (held === part.length || Date.now() + pause > deadline) return held;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
