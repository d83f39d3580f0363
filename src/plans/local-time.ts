/**
 * Local wall-clock time for time-of-use periods. Retail time-of-use periods are set in the site's own local
 * time, daylight saving included where the state has it (NSW, ACT, VIC, SA, TAS; not QLD), unlike NEM time,
 * which is UTC+10 all year. The state comes from the NMI's first character (AEMO's allocation), or a plan
 * names its time zone itself.
 */

/** Each state's time zone, as the NMI's first character tells the state. */
const NMI_TIME_ZONES: Readonly<Record<string, string>> = {
  N: 'Australia/Sydney',
  '4': 'Australia/Sydney',
  A: 'Australia/Sydney',
  '7': 'Australia/Sydney',
  V: 'Australia/Melbourne',
  '6': 'Australia/Melbourne',
  Q: 'Australia/Brisbane',
  '3': 'Australia/Brisbane',
  S: 'Australia/Adelaide',
  '2': 'Australia/Adelaide',
  T: 'Australia/Hobart',
  '8': 'Australia/Hobart',
};

/** The time zone of the state the NMI belongs to, or null for an NMI no state is known for. */
export function timeZoneOfNmi(nmi: string): string | null {
  return NMI_TIME_ZONES[nmi.trim().charAt(0).toUpperCase()] ?? null;
}

/** Whether the runtime knows the IANA time zone `name`. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-AU', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Australian daylight saving starts and ends on the hour or half hour of UTC, so a quarter hour shares one offset. */
const QUARTER_HOUR_MS = 15 * 60_000;

/** Local wall-clock readings of instants in one time zone, the offset looked up once per quarter hour. */
export class WallClock {
  private readonly format: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();
  private lastKey = Number.NaN;
  private lastOffset = 0;

  constructor(timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  }

  /** The local wall-clock time of `ms` as a number on a UTC scale: read it with getUTC* methods. */
  local(ms: number): number {
    const key = Math.floor(ms / QUARTER_HOUR_MS);
    if (key === this.lastKey) return ms + this.lastOffset;
    let offset = this.offsets.get(key);
    if (offset === undefined) {
      const at = key * QUARTER_HOUR_MS;
      const parts = Object.fromEntries(this.format.formatToParts(at).map((part) => [part.type, part.value]));
      offset = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute)) - at;
      this.offsets.set(key, offset);
    }
    this.lastKey = key;
    this.lastOffset = offset;
    return ms + offset;
  }
}
