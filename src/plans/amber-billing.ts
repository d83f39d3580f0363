/**
 * What Amber billed, month by month, for the comparison's "Amber" column, from the statement's own rules:
 * energy per channel from the cost model (query/cost-model.ts, each meter channel rounded to the cent as
 * the statement rounds it) and the fixed charges of FIXED_CHARGES_FILE (domain/fixed-charges.ts). Null
 * fixed charges make the comparison "energy only". No second pricing of Amber's bill lives here.
 */
import type { Queryable } from '../db/pool.ts';
import { fixedChargeLines, type FixedCharges } from '../domain/fixed-charges.ts';
import type { NemDate } from '../domain/models.ts';
import { monthDays, type NemMonth } from '../domain/nem-time.ts';
import { wholeCents } from '../domain/pricing.ts';
import { channelTotals } from '../query/cost-model.ts';
import type { SiteInfo } from '../query/site-selection.ts';

/** The days of one NEM month a comparison covers. */
export interface MonthSpan {
  month: NemMonth;
  from: NemDate;
  to: NemDate;
}

export interface BilledMonth {
  /** Cents incl. GST per channel type; feed-in is negative when exporting earned. */
  energyCents: { general: number; controlledLoad: number; feedIn: number };
  /** Supply, membership and other fees for the month's days; null when none are configured for them. */
  fixedCents: number | null;
}

export async function amberBilled(db: Queryable, args: { site: SiteInfo; month: MonthSpan; fixedCharges: FixedCharges | null }): Promise<BilledMonth> {
  const { site, month } = args;
  const energyCents = { general: 0, controlledLoad: 0, feedIn: 0 };
  for (const total of await channelTotals(db, { siteId: site.id, from: month.from, to: month.to })) {
    const channel = total.channelType === 'feedIn' || total.channelType === 'controlledLoad' ? total.channelType : 'general';
    energyCents[channel] += wholeCents(Number(total.cents));
  }
  const lines = fixedChargeLines(args.fixedCharges?.get(site.id) ?? [], month.from, month.to, monthDays(month.month).days);
  return { energyCents, fixedCents: lines.length === 0 ? null : lines.reduce((sum, line) => sum + line.cents, 0) };
}
