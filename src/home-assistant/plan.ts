/**
 * What Home Assistant should hold for one site (pure): every statistic's metadata and its hourly rows, with each
 * sum cumulative from the statistic's first hour; and, against what it holds already, from which hour to send.
 */
import type { StatisticHour } from '../db/home-assistant-ledger.ts';
import type { ChannelHour, PriceHour } from '../query/home-assistant-hours.ts';
import { energyStatistic, isImport, moneyStatistic, priceStatistic, type StatisticMetadata } from './statistics.ts';

export interface PlannedStatistic {
  metadata: StatisticMetadata;
  rows: StatisticHour[];
}

/** Float noise from summing in another order is not a change. */
const SAME = 1e-9;

export function planSite(site: { id: string; nmi: string }, usage: readonly ChannelHour[], prices: readonly PriceHour[]): PlannedStatistic[] {
  const planned: PlannedStatistic[] = [];
  for (const channelId of [...new Set(usage.map((u) => u.channelId))].sort()) {
    const hours = usage.filter((u) => u.channelId === channelId);
    const channel = { identifier: channelId, type: hours[0]!.channelType };
    const importing = isImport(channel.type);
    // Feed-in kWh count what was exported and its money what was paid, both positive (Amber bills income as negative cost).
    planned.push({ metadata: energyStatistic(site, channel), rows: cumulative(hours.map((h) => ({ hourMs: h.hourMs, value: importing ? h.kwh : Math.abs(h.kwh) }))) });
    planned.push({ metadata: moneyStatistic(site, channel), rows: cumulative(hours.map((h) => ({ hourMs: h.hourMs, value: (importing ? h.cents : -h.cents) / 100 }))) });
  }
  for (const channelType of [...new Set(prices.map((p) => p.channelType))].sort()) {
    // In AUD/kWh, and on feed-in what exporting earns (so its min and max swap).
    const sign = isImport(channelType) ? 1 : -1;
    const rows = prices
      .filter((p) => p.channelType === channelType)
      .map((p) => {
        const [min, max] = [(sign * p.min) / 100, (sign * p.max) / 100].sort((a, b) => a - b);
        return { hourMs: p.hourMs, state: null, sum: null, mean: (sign * p.mean) / 100 || 0, min: min! || 0, max: max! || 0 };
      });
    planned.push({ metadata: priceStatistic(site, channelType), rows });
  }
  return planned;
}

function cumulative(hours: ReadonlyArray<{ hourMs: number; value: number }>): StatisticHour[] {
  let sum = 0;
  return hours.map(({ hourMs, value }) => {
    sum += value;
    return { hourMs, state: value, sum, mean: null, min: null, max: null };
  });
}

/**
 * The index of the first planned row Home Assistant does not hold as planned: a new hour, a changed value, or a
 * sent hour that is no longer planned (everything from there must be sent again, since later sums shift).
 * `rows.length` when everything is in place.
 */
export function firstChange(rows: readonly StatisticHour[], sent: readonly StatisticHour[]): number {
  const held = new Map(sent.map((h) => [h.hourMs, h]));
  const planned = new Set(rows.map((r) => r.hourMs));
  const vanished = sent.find((h) => !planned.has(h.hourMs))?.hourMs ?? Infinity;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const previous = held.get(row.hourMs);
    if (row.hourMs >= vanished || previous === undefined || !sameHour(row, previous)) return i;
  }
  return rows.length;
}

export function sameHour(a: StatisticHour, b: StatisticHour): boolean {
  return (['state', 'sum', 'mean', 'min', 'max'] as const).every((key) => {
    const [x, y] = [a[key], b[key]];
    return x === null || y === null ? x === y : Math.abs(x - y) <= SAME * Math.max(1, Math.abs(x));
  });
}
