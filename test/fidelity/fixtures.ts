/**
 * Hand-made days of prices and usage for the database-level fidelity tests: whole NEM days of intervals
 * at a given length, with chosen intervals left out, so every expected count is known. Built with the
 * shared factories of test/helpers/intervals.ts.
 */
import type { Channel, NemDate, PriceInterval, Site, UsageInterval } from '../../src/domain/models.ts';
import { intervalEndsOfDay, priceInterval, site, usageInterval } from '../helpers/intervals.ts';

const MINUTE_MS = 60_000;

export function testSite(id: string, intervalLength: number, channels: Array<[identifier: string, type: string]>, activeFrom = '2025-01-01'): Site {
  const list: Channel[] = channels.map(([identifier, type]) => ({ identifier, type, tariff: 'T1' }));
  return site({ id, nmi: '6305118822', network: 'Jemena', activeFrom, intervalLength, channels: list });
}

/** The ends of NEM day `day`'s intervals, numbered from 1; `skip` leaves numbers out. */
function endsOf(day: NemDate, duration: number, skip: Iterable<number> = []): string[] {
  const left = new Set(skip);
  return intervalEndsOfDay(day, duration).filter((_, index) => !left.has(index + 1));
}

export function priceDay(day: NemDate, channelType: string, options: { duration?: number; skip?: Iterable<number>; perKwh?: number } = {}): PriceInterval[] {
  const duration = options.duration ?? 30;
  return endsOf(day, duration, options.skip).map((end) =>
    priceInterval({ end, duration, channelType, perKwh: options.perKwh ?? 20.5, spotPerKwh: 8.25, renewables: 40, tariffInformation: null }),
  );
}

export function usageDay(
  day: NemDate,
  channel: [identifier: string, type: string],
  options: { duration?: number; skip?: Iterable<number>; kwh?: number; quality?: string } = {},
): UsageInterval[] {
  const [identifier, type] = channel;
  const duration = options.duration ?? 30;
  const kwh = options.kwh ?? 0.25;
  return endsOf(day, duration, options.skip).map((end) =>
    usageInterval({
      end,
      duration,
      channelIdentifier: identifier,
      channelType: type,
      kwh,
      cost: kwh * 20,
      quality: options.quality ?? 'billable',
      perKwh: 20,
      spotPerKwh: 8.25,
      renewables: 40,
      tariffInformation: null,
    }),
  );
}

/** NEM days `from`..`to` inclusive. */
export function daysFrom(from: NemDate, to: NemDate): NemDate[] {
  const days: NemDate[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += 24 * 60 * MINUTE_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}
