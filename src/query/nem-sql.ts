/**
 * SQL fragments for NEM time (fixed UTC+10, no daylight saving). Each converts through `AT TIME ZONE 'UTC'`,
 * which does not depend on the session's TimeZone, so a report reads the same whether the connection says
 * UTC, Australia/Sydney or America/New_York.
 *
 * An interval belongs to the bucket of its START (`nem_time − duration`): the interval ending at
 * 00:00+10:00 is the last one of the previous day, exactly as the API's `date` (stored as `nem_date`) says.
 */

/** The NEM wall-clock time (a `timestamp` without time zone) of a `timestamptz` expression. */
export function nemWallClock(instant: string): string {
  return `((${instant}) AT TIME ZONE 'UTC' + interval '10 hours')`;
}

/** The interval's start in NEM wall-clock time; `alias` qualifies the columns (`p.` for `p.nem_time`). */
export function nemIntervalStart(alias = ''): string {
  return `(${nemWallClock(`${alias}nem_time`)} - make_interval(mins => ${alias}duration))`;
}

/** A NEM wall-clock `timestamp` as ISO 8601 text with the +10:00 offset, the way the API writes `nemTime`. */
export function nemIsoText(wallClock: string): string {
  return `to_char(${wallClock}, 'YYYY-MM-DD"T"HH24:MI:SS"+10:00"')`;
}

/** A `date` as YYYY-MM-DD text (a `::text` cast would follow the server's DateStyle). */
export function dateText(date: string): string {
  return `to_char(${date}, 'YYYY-MM-DD')`;
}

/** Orders channel types the way the API lists them: general, controlled load, feed-in, then anything new. */
export function channelOrder(channelType: string): string {
  return `coalesce(array_position(ARRAY['general', 'controlledLoad', 'feedIn']::text[], ${channelType}), 99), ${channelType}`;
}

/** Usage that is consumption (import): every channel but feed-in, so controlled load counts as import. */
export function isImport(channelType: string): string {
  return `${channelType} <> 'feedIn'`;
}
