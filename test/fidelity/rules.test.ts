import { describe, expect, it } from 'vitest';
import type { Channel, Site } from '../../src/domain/models.ts';
import { planBackfillCalls } from '../../src/collector/on-demand-backfill.ts';
import { compactRanges, completeThrough, percentComplete } from '../../src/domain/coverage-rules.ts';
import { forecastRequest } from '../../src/collector/forecast-polling.ts';
import { streamRange } from '../../src/domain/fetch-plan.ts';
import { nextCheck, outcomeOf, roundRobin } from '../../src/collector/repair.ts';
import { DEFAULT_REPAIR_POLICY, repairChunks, repairWindow } from '../../src/domain/repair-rules.ts';
import { siteModel } from '../helpers/intervals.ts';

const HOUR = 60 * 60 * 1000;
// 13:00 NEM time on 2025-11-21.
const NOW = new Date('2025-11-21T03:00:00Z');

/** Two general meters on different tariffs and a feed-in: two price channel types, three usage channels. */
const METERS: Channel[] = [
  { identifier: 'E1', type: 'general', tariff: 'EA116' },
  { identifier: 'E2', type: 'general', tariff: 'EA030' },
  { identifier: 'B1', type: 'feedIn', tariff: 'EA116' },
];

/** A 5-minute site with `METERS`, active since 2025-01-01. */
function site(overrides: Partial<Site> = {}): Site {
  return siteModel({ activeFrom: '2025-01-01', intervalLength: 5, channels: METERS, ...overrides });
}

describe('coverage rules', () => {
  it('expects prices complete through yesterday and usage through the day before, in NEM time', () => {
    expect(completeThrough('price', NOW)).toBe('2025-11-20');
    expect(completeThrough('usage', NOW)).toBe('2025-11-19');
    // 23:30 UTC on the 20th is already 09:30 on the 21st in NEM time.
    expect(completeThrough('price', new Date('2025-11-20T23:30:00Z'))).toBe('2025-11-20');
  });

  it('writes days as compact ranges, whatever their order', () => {
    expect(compactRanges(['2025-04-11', '2025-03-03', '2025-03-02', '2025-03-05', '2025-03-04', '2025-03-03'])).toEqual([
      '2025-03-02..2025-03-05',
      '2025-04-11',
    ]);
    expect(compactRanges(['2025-02-28', '2025-03-01'])).toEqual(['2025-02-28..2025-03-01']);
    expect(compactRanges([])).toEqual([]);
  });

  it('never rounds a missing interval up to 100 %', () => {
    expect(percentComplete(28_799, 28_800)).toBe(99.9);
    expect(percentComplete(28_800, 28_800)).toBe(100);
    expect(percentComplete(0, 0)).toBe(100);
    expect(percentComplete(50, 48)).toBe(100);
  });
});

describe('gap repair planning', () => {
  it('covers incomplete days newest first in requests of at most 7 days that start and end on a listed day', () => {
    const days = ['2025-10-01', '2025-10-03', '2025-10-09', '2025-10-10', '2025-10-16', '2025-09-01'];
    expect(repairChunks(days)).toEqual([
      { startDate: '2025-10-10', endDate: '2025-10-16' },
      { startDate: '2025-10-03', endDate: '2025-10-09' },
      { startDate: '2025-10-01', endDate: '2025-10-01' },
      { startDate: '2025-09-01', endDate: '2025-09-01' },
    ]);
  });

  it('shares the per-cycle calls between streams in turn', () => {
    expect(roundRobin([['a1', 'a2', 'a3'], ['b1'], ['c1', 'c2']], 4)).toEqual(['a1', 'b1', 'c1', 'a2']);
    expect(roundRobin([['a1'], []], 5)).toEqual(['a1']);
  });

  it('backs off 1 h, 6 h, 1 day, then weekly while re-fetches bring nothing new, and forgets a completed day', () => {
    let check = nextCheck(null, 'fruitless', NOW, DEFAULT_REPAIR_POLICY);
    const waits: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      waits.push((check!.nextCheckAt.getTime() - NOW.getTime()) / HOUR);
      check = nextCheck(check, 'fruitless', NOW, DEFAULT_REPAIR_POLICY);
    }
    expect(waits).toEqual([1, 6, 24, 168, 168, 168]);
    expect(nextCheck(check, 'progress', NOW, DEFAULT_REPAIR_POLICY)).toEqual({ fruitlessChecks: 0, lastCheckedAt: NOW, nextCheckAt: NOW });
    expect(nextCheck(check, 'complete', NOW, DEFAULT_REPAIR_POLICY)).toBeNull();
  });

  it('judges a re-fetch by what it added', () => {
    expect(outcomeOf({ date: '2025-10-01', expected: 96, stored: 96, previouslyStored: 90 })).toBe('complete');
    expect(outcomeOf({ date: '2025-10-01', expected: 96, stored: 93, previouslyStored: 90 })).toBe('progress');
    expect(outcomeOf({ date: '2025-10-01', expected: 96, stored: 90, previouslyStored: 90 })).toBe('fruitless');
  });

  it('repairs only collected, due days older than the trailing window', () => {
    const price = streamRange(site(), 'price', '2025-10-01', NOW)!;
    // Trailing window for prices with 2 revision days: 2025-11-19..21, so repair stops at the 18th.
    expect(repairWindow(price, 'price', { from: '2025-10-01', through: '2025-11-20' }, 2, NOW)).toEqual({ startDate: '2025-10-01', endDate: '2025-11-18' });
    // ...and at the watermark while the backfill is still under way.
    expect(repairWindow(price, 'price', { from: '2025-10-01', through: '2025-10-10' }, 2, NOW)).toEqual({ startDate: '2025-10-01', endDate: '2025-10-10' });
    expect(repairWindow(price, 'price', { from: '2025-10-01', through: null }, 2, NOW)).toBeNull();
    const usage = streamRange(site(), 'usage', '2025-10-01', NOW)!;
    // Usage trailing window with 7 revision days: 2025-11-14..20.
    expect(repairWindow(usage, 'usage', { from: '2025-10-01', through: '2025-11-20' }, 7, NOW)).toEqual({ startDate: '2025-10-01', endDate: '2025-11-13' });
  });
});

describe('on-demand backfill planning', () => {
  it('clips the range to the days the site can have data and splits it into 7-day calls, prices first', () => {
    const plan = planBackfillCalls(site({ activeFrom: '2025-11-05' }), { from: '2025-11-01', to: '2025-11-25', dataTypes: ['usage', 'price'] }, NOW);
    expect(plan.calls).toEqual([
      { dataType: 'price', startDate: '2025-11-05', endDate: '2025-11-11' },
      { dataType: 'price', startDate: '2025-11-12', endDate: '2025-11-18' },
      { dataType: 'price', startDate: '2025-11-19', endDate: '2025-11-21' },
      { dataType: 'usage', startDate: '2025-11-05', endDate: '2025-11-11' },
      { dataType: 'usage', startDate: '2025-11-12', endDate: '2025-11-18' },
      { dataType: 'usage', startDate: '2025-11-19', endDate: '2025-11-20' },
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it('says why a data type has nothing to collect', () => {
    expect(planBackfillCalls(site(), { from: '2025-11-21', to: '2025-11-21', dataTypes: ['price', 'usage'] }, NOW)).toEqual({
      calls: [{ dataType: 'price', startDate: '2025-11-21', endDate: '2025-11-21' }],
      skipped: [{ dataType: 'usage', reason: 'usage exists up to yesterday (2025-11-20, NEM time)' }],
    });
    expect(planBackfillCalls(site({ closedOn: '2025-06-30' }), { from: '2025-07-01', to: '2025-07-02', dataTypes: ['price'] }, NOW).skipped).toEqual([
      { dataType: 'price', reason: 'the site closed on 2025-06-30' },
    ]);
  });
});

describe('forecast requests', () => {
  it('asks for 48 h of intervals at the site resolution, within the API cap of 2048', () => {
    expect(forecastRequest({ intervalLength: 5 })).toEqual({ previous: 0, next: 576, resolution: 5 });
    expect(forecastRequest({ intervalLength: 30 })).toEqual({ previous: 0, next: 96, resolution: 30 });
    expect(forecastRequest({ intervalLength: 15 })).toEqual({ previous: 0, next: 96 });
  });
});
