/**
 * Price event detection on hand-made snapshots: runs, hysteresis in value and in time, the lookahead, and
 * the at-most-three announcements of one event, with the open events kept as the database would keep them.
 */
import { describe, expect, it } from 'vitest';
import type { AlertPhase } from '../../src/alerts/alert.ts';
import { decidePriceEvents, type TrackedEvent } from '../../src/alerts/price-events.ts';
import { findRuns, priceRules, type PriceRule, type SnapshotInterval } from '../../src/alerts/price-runs.ts';

const MINUTE_MS = 60_000;
/** 17:00 NEM. */
const T0 = Date.parse('2025-11-21T07:00:00Z');
const NO_RULES = { priceAbove: null, priceBelow: null, feedInAbove: null, spikeStatuses: [] as Array<'potential' | 'spike'> };

/** 5-minute intervals from `now`'s interval on: the first is current, the rest forecast; `prices[k]` is the k-th. */
function snapshot(nowMs: number, prices: readonly number[], channelType = 'general', spikeStatus = 'none'): SnapshotInterval[] {
  const firstEnd = Math.floor(nowMs / (5 * MINUTE_MS)) * 5 * MINUTE_MS + 5 * MINUTE_MS;
  return prices.map((perKwh, k) => ({
    type: k === 0 ? 'CurrentInterval' : 'ForecastInterval',
    channelType,
    endTime: new Date(firstEnd + k * 5 * MINUTE_MS).toISOString(),
    duration: 5,
    perKwh,
    spikeStatus,
  }));
}

/** Open events and everything announced, as the alerter and the database keep them. */
function tracker(rule: PriceRule, lookaheadMinutes = 60) {
  let events: TrackedEvent[] = [];
  let nextId = 1;
  const announced: Array<{ event: string; phase: AlertPhase }> = [];
  return {
    announced,
    open: () => events,
    /** One snapshot at `nowMs`: general prices of the current interval and the 5-minute ones after it. */
    step(nowMs: number, prices: readonly number[]) {
      const now = new Date(nowMs);
      const runs = findRuns(rule, snapshot(nowMs, prices), now, lookaheadMinutes * MINUTE_MS);
      for (const d of decidePriceEvents(events, runs, now)) {
        if (d.type === 'open') {
          const event = { id: String(nextId++), startsAt: d.run.start ?? d.run.from, endsAt: d.run.end, phases: [d.phase] };
          events.push(event);
          announced.push({ event: event.id, phase: d.phase });
        } else if (d.type === 'update') {
          const started = d.event.phases.includes('started');
          const updated = { ...d.event, startsAt: started ? d.event.startsAt : (d.run.start ?? d.run.from), endsAt: d.run.end, phases: d.phase ? [...d.event.phases, d.phase] : d.event.phases };
          events = events.map((e) => (e.id === d.event.id ? updated : e));
          if (d.phase) announced.push({ event: d.event.id, phase: d.phase });
        } else {
          events = events.filter((e) => e.id !== d.event.id);
          announced.push({ event: d.event.id, phase: 'ended' });
        }
      }
    },
  };
}

const above100 = priceRules({ ...NO_RULES, priceAbove: 100 })[0]!;
const at = (minutes: number) => T0 + minutes * MINUTE_MS;
/** `n` intervals at `price`. */
const flat = (n: number, price: number) => Array.from({ length: n }, () => price);

describe('price events', () => {
  it('announces a run when forecast, when it starts and when it ends, and nothing in between', () => {
    const t = tracker(above100);
    // 17:00: 18:00–18:30 forecast at 150.
    t.step(at(0), [...flat(12, 50), ...flat(6, 150), ...flat(6, 50)]);
    t.step(at(10), [...flat(10, 50), ...flat(6, 160), ...flat(6, 50)]);
    t.step(at(60), [...flat(6, 155), ...flat(6, 50)]);
    t.step(at(70), [...flat(4, 170), ...flat(6, 50)]);
    t.step(at(90), flat(6, 50));
    t.step(at(95), flat(6, 50));
    expect(t.announced).toEqual([
      { event: '1', phase: 'forecast' },
      { event: '1', phase: 'started' },
      { event: '1', phase: 'ended' },
    ]);
  });

  it('does not flap when the forecast wobbles around the threshold before the start', () => {
    const t = tracker(above100);
    const wobble = [101, 99, 103, 98, 102, 97];
    wobble.forEach((peak, k) => t.step(at(k), [...flat(12, 50), ...flat(3, peak), ...flat(6, 50)]));
    expect(t.announced).toEqual([{ event: '1', phase: 'forecast' }]);
    expect(t.open()).toHaveLength(1);
  });

  it('keeps a started event going through prices within the band and across a short dip, and ends it below the band', () => {
    const t = tracker(above100);
    t.step(at(0), [120, 120, 95, 120, 80, 120, 120]); // 95 is within the band (90); the single 80 is bridged
    t.step(at(5), [95, 120, 80, 120, 120]);
    t.step(at(10), [120, 80, 120, 120]);
    expect(t.announced).toEqual([{ event: '1', phase: 'started' }]);
    t.step(at(15), [85, 86, 87, 88]);
    expect(t.announced.at(-1)).toEqual({ event: '1', phase: 'ended' });
    // A run starting inside the band never starts an event.
    t.step(at(20), [95, 95, 95]);
    expect(t.announced).toHaveLength(2);
  });

  it('closes a forecast that vanished, once its time has passed, with an ended announcement', () => {
    const t = tracker(above100);
    t.step(at(0), [...flat(11, 50), ...flat(2, 150)]);
    t.step(at(5), flat(14, 50)); // gone from the forecast: stays open, silent
    expect(t.announced).toHaveLength(1);
    t.step(at(70), flat(6, 50));
    expect(t.announced).toEqual([
      { event: '1', phase: 'forecast' },
      { event: '1', phase: 'ended' },
    ]);
  });

  it('announces a run only once it starts within the lookahead, but follows it to its end', () => {
    const t = tracker(above100, 30);
    t.step(at(0), [...flat(12, 50), ...flat(24, 150)]);
    expect(t.announced).toEqual([]);
    t.step(at(35), [...flat(5, 50), ...flat(24, 150)]);
    expect(t.announced).toEqual([{ event: '1', phase: 'forecast' }]);
    expect(t.open()[0]!.endsAt.toISOString()).toBe('2025-11-21T10:00:00.000Z');
  });

  it('reads feed-in as money earned, negative prices below zero, and Amber spike flags', () => {
    const [below0, feedIn, spike] = priceRules({ priceAbove: null, priceBelow: 0, feedInAbove: 20, spikeStatuses: ['potential', 'spike'] });
    expect(findRuns(below0!, snapshot(at(0), [3, -2, -4, 5]), new Date(at(0)), 3_600_000).map((r) => r.peak)).toEqual([-4]);
    // Amber's feed-in perKwh is negative when the customer is paid: −25 earns 25 c/kWh.
    expect(findRuns(feedIn!, snapshot(at(0), [-5, -25, -30, 10], 'feedIn'), new Date(at(0)), 3_600_000).map((r) => r.peak)).toEqual([30]);
    expect(findRuns(feedIn!, snapshot(at(0), [-25, -30], 'general'), new Date(at(0)), 3_600_000)).toEqual([]);
    const flagged = [...snapshot(at(0), [40, 40]), ...snapshot(at(10), [300, 320], 'general', 'spike')];
    expect(findRuns(spike!, flagged, new Date(at(0)), 3_600_000).map((r) => [r.start?.toISOString(), r.peak])).toEqual([['2025-11-21T07:10:00.000Z', 320]]);
  });
});
