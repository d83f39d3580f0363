/**
 * How metered energy is priced: the one set of rules behind the monthly statement, `query costs`, the
 * dashboard's cost figures and the battery what-if's money, and the rules a plan pricer reuses with prices
 * of its own. Pure arithmetic, no I/O.
 *
 * Amber meters and bills each register on its own: import (general, controlled load) and export (feed-in),
 * each at its own price for the interval. An interval with both import and export (sub-interval swings, or
 * phases metered apart) is billed for both; netting them first would price the overlap at no price at all.
 * Prices are c/kWh including GST, so every figure here includes GST. Money is "what it cost you", in cents:
 * a feed-in price is negative when exporting earns (API-NOTES §5), so an export's cost is negative then.
 */

/** Whether a meter register counts energy bought (import) or sold (export). */
export type Flow = 'import' | 'export';

/** The channel types a cost can be asked for, in the order Amber lists them. */
export const PRICED_CHANNEL_TYPES = ['general', 'controlledLoad', 'feedIn'] as const;
export type PricedChannelType = (typeof PRICED_CHANNEL_TYPES)[number];

/** Feed-in is export; every other channel type (general, controlled load, and any new one) is import. */
export function flowOf(channelType: string): Flow {
  return channelType === 'feedIn' ? 'export' : 'import';
}

/** What one register's energy cost in one interval: kWh (a magnitude) × that channel's own price. */
function registerCents(kwh: number, perKwh: number): number {
  return kwh * perKwh;
}

/** One interval's registers and prices: import kWh at the import price, export kWh at the feed-in price. */
export interface IntervalEnergy {
  importKwh: number;
  exportKwh: number;
  importPrice: number;
  feedInPrice: number;
}

/** An interval's bill: import and export priced apart, never netted. */
export function intervalCents(energy: IntervalEnergy): number {
  return registerCents(energy.importKwh, energy.importPrice) + registerCents(energy.exportKwh, energy.feedInPrice);
}

/**
 * The registers of an interval whose net grid flow became `netKwh` (a battery charged or discharged), when
 * `bothKwh` of it was metered on both registers at once. Without sub-interval data nothing says when in the
 * interval the battery would have run, so the overlap stays as metered and only the net flow moves: with
 * the battery's flow at 0 this gives back the metered registers exactly, and it never credits a battery
 * with removing an overlap it might not have reached.
 */
export function registersAfterNetChange(bothKwh: number, netKwh: number): { importKwh: number; exportKwh: number } {
  return { importKwh: Math.max(netKwh, 0) + bothKwh, exportKwh: Math.max(-netKwh, 0) + bothKwh };
}

/** Cents to whole cents, halves away from zero, as money on a bill is rounded. */
export function wholeCents(cents: number): number {
  return Math.sign(cents) * Math.round(Math.abs(cents));
}
