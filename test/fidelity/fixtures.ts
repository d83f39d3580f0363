/**
 * Hand-made days of prices and usage for the database-level fidelity tests: whole NEM days of intervals
 * at a given length, with chosen intervals left out, so every expected count is known.
 */
import type { Channel, NemDate, PriceInterval, Site, UsageInterval } from '../../src/domain/models.ts';
import { nemDayStart } from '../../src/domain/nem-time.ts';

const MINUTE_MS = 60_000;
const NEM_OFFSET_MS = 10 * 60 * MINUTE_MS;

export function testSite(id: string, intervalLength: number, channels: Array<[identifier: string, type: string]>, activeFrom = '2025-01-01'): Site {
  const list: Channel[] = channels.map(([identifier, type]) => ({ identifier, type, tariff: 'T1' }));
  return {
    id,
    nmi: '6305118822',
    network: 'Jemena',
    status: 'active',
    activeFrom,
    closedOn: null,
    intervalLength,
    channels: list,
    raw: { id, channels: list, intervalLength },
  };
}

interface Slot {
  date: NemDate;
  duration: number;
  startTime: string;
  endTime: string;
  nemTime: string;
}

/** The intervals of NEM day `day` at `duration` minutes, numbered from 1; `skip` leaves numbers out. */
function slots(day: NemDate, duration: number, skip: ReadonlySet<number>): Slot[] {
  const start = nemDayStart(day).getTime();
  const result: Slot[] = [];
  for (let n = 1; n <= (24 * 60) / duration; n += 1) {
    if (skip.has(n)) continue;
    const end = start + n * duration * MINUTE_MS;
    result.push({
      date: day,
      duration,
      startTime: new Date(end - duration * MINUTE_MS + 1000).toISOString().replace('.000Z', 'Z'),
      endTime: new Date(end).toISOString().replace('.000Z', 'Z'),
      nemTime: `${new Date(end + NEM_OFFSET_MS).toISOString().slice(0, 19)}+10:00`,
    });
  }
  return result;
}

export function priceDay(day: NemDate, channelType: string, options: { duration?: number; skip?: Iterable<number>; perKwh?: number } = {}): PriceInterval[] {
  return slots(day, options.duration ?? 30, new Set(options.skip ?? [])).map((slot) => ({
    ...slot,
    type: 'ActualInterval',
    perKwh: options.perKwh ?? 20.5,
    spotPerKwh: 8.25,
    renewables: 40,
    channelType,
    spikeStatus: 'none',
    descriptor: 'low',
    tariffInformation: null,
    estimate: null,
    range: null,
    advancedPrice: null,
    raw: { type: 'ActualInterval', date: slot.date, nemTime: slot.nemTime, channelType, perKwh: options.perKwh ?? 20.5 },
  }));
}

export function usageDay(
  day: NemDate,
  channel: [identifier: string, type: string],
  options: { duration?: number; skip?: Iterable<number>; kwh?: number; quality?: string } = {},
): UsageInterval[] {
  const [identifier, type] = channel;
  const kwh = options.kwh ?? 0.25;
  const quality = options.quality ?? 'billable';
  return slots(day, options.duration ?? 30, new Set(options.skip ?? [])).map((slot) => ({
    ...slot,
    type: 'Usage',
    channelIdentifier: identifier,
    channelType: type,
    kwh,
    cost: kwh * 20,
    quality,
    perKwh: 20,
    spotPerKwh: 8.25,
    renewables: 40,
    spikeStatus: 'none',
    descriptor: 'low',
    tariffInformation: null,
    raw: { type: 'Usage', date: slot.date, nemTime: slot.nemTime, channelIdentifier: identifier, kwh, quality },
  }));
}

/** NEM days `from`..`to` inclusive. */
export function daysFrom(from: NemDate, to: NemDate): NemDate[] {
  const days: NemDate[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += 24 * 60 * MINUTE_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}
