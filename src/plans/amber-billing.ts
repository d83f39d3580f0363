/**
 * What Amber billed, month by month, for the comparison's "Amber" column: energy per channel type and the
 * fixed charges when they are known (null: the comparison says "energy only"). The comparison reads it
 * through this one interface so the statement's cost model and fixed charges plug in here, never a second
 * pricing of Amber's own bill; until they do, energy is Amber's own cost of each metered interval, the
 * figure `query costs` shows, and no fixed charges are known.
 */
import type { Queryable } from '../db/pool.ts';
import type { NemDate } from '../domain/models.ts';
import { dailyUsage } from '../query/reports.ts';
import type { SiteInfo } from '../query/site-selection.ts';

export interface BilledMonth {
  /** YYYY-MM, a NEM month. */
  month: string;
  /** Cents incl. GST per channel type; feed-in is negative when exporting earned. */
  energyCents: { general: number; controlledLoad: number; feedIn: number };
  /** Supply, membership and other fees for the month's days in the range; null when none are configured. */
  fixedCents: number | null;
}

export type AmberBilling = (db: Queryable, args: { site: SiteInfo; from: NemDate; to: NemDate }) => Promise<Map<string, BilledMonth>>;

/** Amber's own per-interval costs, summed by NEM month and channel type (`query costs`'s figures); energy only. */
export const meteredCostBilling: AmberBilling = async (db, { site, from, to }) => {
  const months = new Map<string, BilledMonth>();
  for (const day of await dailyUsage(db, { siteIds: [site.id], from, to })) {
    const month = day.date.slice(0, 7);
    let billed = months.get(month);
    if (billed === undefined) {
      billed = { month, energyCents: { general: 0, controlledLoad: 0, feedIn: 0 }, fixedCents: null };
      months.set(month, billed);
    }
    const channel = day.channelType === 'feedIn' || day.channelType === 'controlledLoad' ? day.channelType : 'general';
    billed.energyCents[channel] += day.costDollars * 100;
  }
  return months;
};
