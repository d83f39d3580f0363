/**
 * Amber's c/kWh as the money a customer sees, in $/kWh: the unit Home Assistant's Energy dashboard and the
 * optimisers (EMHASS, HAEO) read. On feed-in the sign is flipped, so positive means exporting earns money,
 * the opposite of Amber's raw feed-in sign (negative means you are paid).
 */

/** c/kWh to $/kWh, exact to a ten-millionth of a cent (Amber sends five decimals of a cent) without float noise. */
export function dollarsPerKwh(cents: number): number {
  return Math.round(cents * 1e7) / 1e9;
}

/** The price a customer sees: on feed-in, positive means exporting earns money. */
export function customerDollars(channelType: string, cents: number): number {
  const dollars = dollarsPerKwh(cents);
  return channelType === 'feedIn' ? -dollars || 0 : dollars;
}
