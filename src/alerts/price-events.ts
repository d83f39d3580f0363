/**
 * What to announce about price events after a snapshot: matches the runs found in it to the events
 * already open (from the database, so this holds across restarts) and decides, per event, whether it is
 * new, starts, goes on quietly or ends. Each event is announced when first forecast (or when it starts,
 * if it was never seen ahead), when it starts, and when it ends: at most three times.
 *
 * Hysteresis in time: an event that has not started and drops out of the forecast stays open, silent,
 * until its forecast end has passed, so a forecast that comes and goes is one event. A started event ends
 * when the interval running now is no longer part of its run.
 */
import type { AlertPhase } from './alert.ts';
import { BRIDGE_MS, type Run } from './price-runs.ts';

/** An open event of one site and rule, as stored. */
export interface TrackedEvent {
  id: string;
  startsAt: Date;
  endsAt: Date;
  phases: readonly AlertPhase[];
}

export type PriceDecision =
  /** A new event, announced as forecast or (already running) as started. */
  | { type: 'open'; run: Run; phase: 'forecast' | 'started' }
  /** The event's run as now forecast; `phase` when that is news (it started). */
  | { type: 'update'; event: TrackedEvent; run: Run; phase: 'started' | null }
  /** The event is over (or its forecast time passed without it): announce and close. */
  | { type: 'end'; event: TrackedEvent };

export function decidePriceEvents(events: readonly TrackedEvent[], runs: readonly Run[], now: Date): PriceDecision[] {
  const decisions: PriceDecision[] = [];
  const unmatched = new Set(runs);
  const nowMs = now.getTime();
  for (const event of [...events].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime())) {
    const run = [...unmatched].find((r) => r.from.getTime() - BRIDGE_MS < event.endsAt.getTime() && r.end.getTime() + BRIDGE_MS > event.startsAt.getTime());
    const started = event.phases.includes('started');
    if (run === undefined) {
      if (started || nowMs >= event.endsAt.getTime()) decisions.push({ type: 'end', event });
      continue;
    }
    if (started && run.from.getTime() > nowMs) {
      // The part running now is over; what lies ahead is a new event of its own.
      decisions.push({ type: 'end', event });
      continue;
    }
    unmatched.delete(run);
    const starts = !started && run.start !== null && run.start.getTime() <= nowMs;
    decisions.push({ type: 'update', event, run, phase: starts ? 'started' : null });
  }
  for (const run of unmatched) {
    if (run.start === null) continue;
    decisions.push({ type: 'open', run, phase: run.start.getTime() <= nowMs ? 'started' : 'forecast' });
  }
  return decisions;
}
