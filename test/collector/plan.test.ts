import { describe, expect, it } from 'vitest';
import type { Site } from '../../src/domain/models.ts';
import { backfillChunks, streamRange, trailingWindow, watermarkAfter } from '../../src/domain/fetch-plan.ts';
import { siteModel } from '../helpers/intervals.ts';

/** A 30-minute site with one general meter and no activeFrom: only the dates a test gives bound its streams. */
function site(overrides: Partial<Site> = {}): Site {
  return siteModel({ activeFrom: null, intervalLength: 30, channels: [{ identifier: 'E1', type: 'general', tariff: 'EA116' }], ...overrides });
}

// 2025-11-20T13:30:00Z is 23:30 on 2025-11-20 in NEM time; 14:30Z is 00:30 on 2025-11-21.
const lateEvening = new Date('2025-11-20T13:30:00Z');
const justAfterNemMidnight = new Date('2025-11-20T14:30:00Z');

describe('streamRange', () => {
  it('runs prices to today and usage to yesterday, in NEM time', () => {
    expect(streamRange(site(), 'price', '2025-11-01', lateEvening)).toEqual({ from: '2025-11-01', to: '2025-11-20', lastCompleteDay: '2025-11-19' });
    expect(streamRange(site(), 'usage', '2025-11-01', lateEvening)).toEqual({ from: '2025-11-01', to: '2025-11-19', lastCompleteDay: '2025-11-19' });
    // Half an hour later in UTC it is already the next NEM day.
    expect(streamRange(site(), 'price', '2025-11-01', justAfterNemMidnight)?.to).toBe('2025-11-21');
  });

  it('starts at activeFrom when the site is younger than the start date', () => {
    expect(streamRange(site({ activeFrom: '2025-11-10' }), 'price', '2025-11-01', lateEvening)?.from).toBe('2025-11-10');
  });

  it('stops at closedOn for closed sites', () => {
    const closed = site({ status: 'closed', closedOn: '2025-11-05' });
    expect(streamRange(closed, 'usage', '2025-11-01', lateEvening)).toEqual({ from: '2025-11-01', to: '2025-11-05', lastCompleteDay: '2025-11-05' });
  });

  it('has nothing to collect for a pending site or one closed before the start date', () => {
    expect(streamRange(site({ status: 'pending', activeFrom: '2025-12-01' }), 'price', '2025-11-01', lateEvening)).toBeNull();
    expect(streamRange(site({ closedOn: '2025-10-01' }), 'price', '2025-11-01', lateEvening)).toBeNull();
    // Usage for today does not exist yet, so a start date of today has no usage range.
    expect(streamRange(site(), 'usage', '2025-11-20', lateEvening)).toBeNull();
  });
});

describe('backfillChunks', () => {
  const range = { from: '2025-11-01', to: '2025-11-20', lastCompleteDay: '2025-11-19' };

  it('covers every day from the start in 7-day inclusive chunks', () => {
    expect(backfillChunks(range, null)).toEqual([
      { startDate: '2025-11-01', endDate: '2025-11-07' },
      { startDate: '2025-11-08', endDate: '2025-11-14' },
      { startDate: '2025-11-15', endDate: '2025-11-20' },
    ]);
  });

  it('resumes the day after the watermark', () => {
    expect(backfillChunks(range, '2025-11-14')).toEqual([{ startDate: '2025-11-15', endDate: '2025-11-20' }]);
    // Only today is left: the cycles' trailing window fetches it, the backfill is done.
    expect(backfillChunks(range, '2025-11-19')).toEqual([]);
  });
});

describe('trailingWindow', () => {
  const price = { from: '2025-11-01', to: '2025-11-20', lastCompleteDay: '2025-11-19' };
  const usage = { from: '2025-11-01', to: '2025-11-19', lastCompleteDay: '2025-11-19' };

  it('re-fetches today plus N days of prices', () => {
    expect(trailingWindow(price, 'price', 2)).toEqual([{ startDate: '2025-11-18', endDate: '2025-11-20' }]);
    expect(trailingWindow(price, 'price', 0)).toEqual([{ startDate: '2025-11-20', endDate: '2025-11-20' }]);
  });

  it('re-fetches the last N days of usage, ending yesterday', () => {
    expect(trailingWindow(usage, 'usage', 7)).toEqual([{ startDate: '2025-11-13', endDate: '2025-11-19' }]);
  });

  it('never reaches before the stream start', () => {
    expect(trailingWindow({ ...usage, from: '2025-11-18' }, 'usage', 7)).toEqual([{ startDate: '2025-11-18', endDate: '2025-11-19' }]);
  });
});

describe('watermarkAfter', () => {
  const range = { from: '2025-11-01', to: '2025-11-20', lastCompleteDay: '2025-11-19' };

  it('stops at the last complete day, since today is still arriving', () => {
    expect(watermarkAfter({ startDate: '2025-11-15', endDate: '2025-11-20' }, range)).toBe('2025-11-19');
    expect(watermarkAfter({ startDate: '2025-11-01', endDate: '2025-11-07' }, range)).toBe('2025-11-07');
  });

  it('does not move for a chunk of today only', () => {
    expect(watermarkAfter({ startDate: '2025-11-20', endDate: '2025-11-20' }, range)).toBeNull();
  });
});
