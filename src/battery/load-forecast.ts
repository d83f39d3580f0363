/**
 * The load forecast plans are made over: each slot of the site's interval length forecast as the mean net
 * demand of the same time on the previous 7 days. The forecast-driven strategy makes a plan every 30
 * minutes over up to 48 hours, so each slot is asked for about a hundred times: its mean is kept once worked
 * out, for the slots still ahead, so memory stays bounded however long the run.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const LOAD_HISTORY_DAYS = 7;
/** Kept means before the oldest are let go: more than a 48-hour horizon of 5-minute slots. */
const MAX_KEPT_SLOTS = 2_048;

export class LoadForecast {
  readonly slotMs: number;
  private readonly demandByStart: ReadonlyMap<number, number>;
  /** Mean by slot start; NaN when none of the 7 days has usage. */
  private readonly kept = new Map<number, number>();

  constructor(demandByStart: ReadonlyMap<number, number>, intervalMinutes: number) {
    this.demandByStart = demandByStart;
    this.slotMs = intervalMinutes * MINUTE_MS;
  }

  /** The mean net demand (kWh) of the slot starting at `slotMs` over the previous 7 days; NaN when none had usage. */
  meanAt(slotMs: number): number {
    const known = this.kept.get(slotMs);
    if (known !== undefined) return known;
    let sum = 0;
    let days = 0;
    for (let back = 1; back <= LOAD_HISTORY_DAYS; back++) {
      const past = this.demandByStart.get(slotMs - back * DAY_MS);
      if (past === undefined) continue;
      sum += past;
      days += 1;
    }
    const mean = days > 0 ? sum / days : NaN;
    // Plans move forward in time: the oldest kept slots are the ones no plan asks for again.
    if (this.kept.size >= MAX_KEPT_SLOTS) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(slotMs, mean);
    return mean;
  }
}
