/**
 * The load forecast plans are made over: each slot of the site's interval length forecast as the mean net
 * demand of the same time on the 7 most recent days whose usage a live controller deciding then would have
 * had. Usage reaches Amber, and so the collector, about a day after it happens, so a decision at T knows
 * only intervals that ended by T − USAGE_LAG_MS: a slot up to 24 hours ahead is forecast from 2 to 8 days
 * back, one 24 to 48 hours ahead from 3 to 9 days back. Reading `slot − 1 day` regardless let a replayed
 * plan see demand that had not happened yet.
 *
 * The forecast-driven strategy makes a plan every 30 minutes over up to 48 hours, so each slot is asked for
 * about a hundred times (with at most three different sets of days): its mean is kept once worked out, for
 * the slots still ahead, so memory stays bounded however long the run.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const LOAD_HISTORY_DAYS = 7;
/**
 * How late usage is known: a day. Amber publishes an interval's usage about a day after it (README, "usage
 * arrives about a day late"), so a controller can count on what ended 24 hours ago, not later.
 */
const USAGE_LAG_MS = DAY_MS;
/** How far before a decision the load forecast reads: the lag, 7 days, and one more for the slot the decision falls in. */
export const LOAD_HISTORY_MS = USAGE_LAG_MS + (LOAD_HISTORY_DAYS + 1) * DAY_MS;
/** Kept means before the oldest are let go: three sets of days over more than a 48-hour horizon of 5-minute slots. */
const MAX_KEPT_SLOTS = 8_192;

export class LoadForecast {
  readonly slotMs: number;
  private readonly demandByStart: ReadonlyMap<number, number>;
  /** Mean by slot start plus the first day back used; NaN when none of the 7 days has usage. */
  private readonly kept = new Map<number, number>();

  constructor(demandByStart: ReadonlyMap<number, number>, intervalMinutes: number) {
    this.demandByStart = demandByStart;
    this.slotMs = intervalMinutes * MINUTE_MS;
  }

  /**
   * The mean net demand (kWh) of the slot starting at `slotMs`, as known at `decisionMs`: over the 7 most
   * recent days on which that slot had ended USAGE_LAG_MS before the decision. NaN when none had usage.
   */
  meanAt(slotMs: number, decisionMs: number): number {
    const knownUntil = decisionMs - USAGE_LAG_MS;
    const firstBack = Math.max(1, Math.ceil((slotMs + this.slotMs - knownUntil) / DAY_MS));
    // Slot starts are whole minutes and firstBack is a few days: the sum is a unique key.
    const key = slotMs + firstBack;
    const known = this.kept.get(key);
    if (known !== undefined) return known;
    let sum = 0;
    let days = 0;
    for (let back = firstBack; back < firstBack + LOAD_HISTORY_DAYS; back++) {
      const past = this.demandByStart.get(slotMs - back * DAY_MS);
      if (past === undefined) continue;
      sum += past;
      days += 1;
    }
    const mean = days > 0 ? sum / days : NaN;
    // Plans move forward in time: the oldest kept slots are the ones no plan asks for again.
    if (this.kept.size >= MAX_KEPT_SLOTS) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(key, mean);
    return mean;
  }
}
