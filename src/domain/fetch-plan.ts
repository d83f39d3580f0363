/**
 * Pure planning: which NEM days each stream (one site × one data type) wants, and which requests cover them.
 * No I/O here, so every rule is unit-tested without HTTP or a database.
 */
import type { DataType, NemDate, Site } from './models.ts';
import { addDays, compareNemDates, maxDate, minDate, nemToday, splitIntoChunks, type DayRange } from './nem-time.ts';

export interface StreamRange {
  /** First NEM day collected: the later of HISTORICAL_START_DATE and the site's activeFrom. */
  from: NemDate;
  /** Newest NEM day that can have data now: today for prices, yesterday for usage, never after closedOn. */
  to: NemDate;
  /**
   * Newest day whose data can be treated as collected once fetched. Today's prices are still arriving, so
   * the watermark stops at yesterday for prices; the trailing window keeps re-fetching the days after it.
   */
  lastCompleteDay: NemDate;
}

/** One site × one data type, with the days it wants. */
export interface Stream {
  site: Site;
  dataType: DataType;
  range: StreamRange;
}

/** Every stream of `sites` that can have data now, prices before usage per site. */
export function streamsOf(sites: readonly Site[], historicalStartDate: NemDate, now: Date): Stream[] {
  return sites.flatMap((site) =>
    (['price', 'usage'] as const).flatMap((dataType) => {
      const range = streamRange(site, dataType, historicalStartDate, now);
      return range ? [{ site, dataType, range }] : [];
    }),
  );
}

/** The days a stream wants, or null when the site can have no data of this type yet (pending, or closed before the start date). */
export function streamRange(site: Site, dataType: DataType, historicalStartDate: NemDate, now: Date): StreamRange | null {
  const today = nemToday(now);
  const yesterday = addDays(today, -1);
  const from = site.activeFrom ? maxDate(historicalStartDate, site.activeFrom) : historicalStartDate;
  const newest = dataType === 'price' ? today : yesterday;
  const to = site.closedOn ? minDate(newest, site.closedOn) : newest;
  if (compareNemDates(from, to) > 0) return null;
  return { from, to, lastCompleteDay: minDate(to, yesterday) };
}

/**
 * The backfill still to do: every day after the watermark, in chunks the API accepts, oldest first. Once
 * the watermark reaches the last complete day, what remains (today's prices) is the cycles' job.
 */
export function backfillChunks(range: StreamRange, collectedThrough: NemDate | null): DayRange[] {
  const start = collectedThrough ? maxDate(range.from, addDays(collectedThrough, 1)) : range.from;
  if (compareNemDates(start, range.lastCompleteDay) > 0) return [];
  return splitIntoChunks(start, range.to);
}

/**
 * The recent days re-fetched every cycle because their data still changes: new actual prices land during
 * today, and usage appears a day late and is then revised (estimated → billable).
 */
export function trailingWindow(range: StreamRange, dataType: DataType, revisionDays: number): DayRange[] {
  // Prices: today plus `revisionDays` full days before it. Usage: the last `revisionDays` days ending yesterday.
  const span = dataType === 'price' ? revisionDays : Math.max(revisionDays - 1, 0);
  return splitIntoChunks(maxDate(range.from, addDays(range.to, -span)), range.to);
}

/** How far a successfully stored chunk lets the watermark advance. */
export function watermarkAfter(chunk: DayRange, range: StreamRange): NemDate | null {
  const through = minDate(chunk.endDate, range.lastCompleteDay);
  return compareNemDates(through, chunk.startDate) >= 0 ? through : null;
}
