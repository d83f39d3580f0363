/**
 * ALERT_QUIET_HOURS: a daily window in NEM time (UTC+10 all year, so it never shifts with daylight saving)
 * during which price alerts wait. Minutes are counted from NEM midnight; a window whose end is before its
 * start runs past midnight (22:00-07:00).
 */
export interface QuietHours {
  from: number;
  to: number;
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;
const NEM_OFFSET_MINUTES = 10 * 60;

function nemMinuteOfDay(now: Date): number {
  return (Math.floor(now.getTime() / MINUTE_MS) + NEM_OFFSET_MINUTES) % DAY_MINUTES;
}

export function isQuiet(quiet: QuietHours | null, now: Date): boolean {
  if (quiet === null) return false;
  const minute = nemMinuteOfDay(now);
  return quiet.from < quiet.to ? minute >= quiet.from && minute < quiet.to : minute >= quiet.from || minute < quiet.to;
}

/** The instant the quiet window that holds `now` ends (the start of the minute `to`). */
export function quietEnds(quiet: QuietHours, now: Date): Date {
  const minute = nemMinuteOfDay(now);
  const minutesLeft = (quiet.to - minute + DAY_MINUTES) % DAY_MINUTES || DAY_MINUTES;
  const startOfMinute = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  return new Date(startOfMinute + minutesLeft * MINUTE_MS);
}
