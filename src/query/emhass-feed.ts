/**
 * The forecast as EMHASS runtime parameters: `load_cost_forecast` (what importing costs) and
 * `prod_price_forecast` (what exporting earns), $/kWh, one value per optimisation step, for
 * `/api/feeds/emhass`.
 *
 * Alignment. EMHASS reads a list by position: element 0 is the step its own clock says is first, so the
 * list must start exactly there (the off-by-one of emhass#633 and #1133). `align=next` (the default)
 * starts at the step boundary at or after now, which is what EMHASS uses with `method_ts_round: last`;
 * `align=current` starts at the boundary at or before now, the step now is in (`method_ts_round: first`).
 * Boundaries are whole multiples of the step in absolute time; every allowed step divides an hour, and
 * NEM time (+10:00) and Sydney time (+10:00/+11:00) are whole hours from UTC, so a boundary is one on every
 * clock. Steps are consecutive instants, never wall-clock times: a horizon across a daylight-saving change
 * still has exactly horizon × 60 / step values, with no repeated or missing hour (emhass#309 and the DST
 * reports were lists built from wall-clock days of 23 or 25 hours).
 *
 * Averaging. A step longer than Amber's interval (a 30-minute step on a 5-minute site, or one hour on a
 * 30-minute site) gets the time-weighted mean of the intervals it covers: each price weighted by the minutes
 * it overlaps the step. Energy weighting would need the household's load for the step, which is exactly
 * what EMHASS is optimising; with the time-weighted mean a flat load is priced exactly. A step shorter than
 * the interval repeats the interval's price.
 *
 * Source. `perKwh` is Amber's price; `predicted` is `advancedPrice.predicted`, falling back to `perKwh` for
 * an interval Amber sent without it (the running interval, or a feed-in channel without an advanced price).
 *
 * Extension. Amber forecasts to the end of the next NEM day, so a 48-hour horizon asked late in the
 * evening reaches past it. A step the archived forecast (as in force at now) does not cover in full is
 * extended: the time-weighted mean of the settled prices at the same NEM time of day over the last 7
 * complete NEM days (the market keeps NEM time, so a price pattern repeats by NEM clock, not Sydney's), or
 * the step before's value when those days hold nothing. `extended` marks each such step and
 * `extended_steps` counts them; extended steps are always the tail of the list.
 */
import type { Queryable } from '../db/pool.ts';
import { customerDollars } from '../domain/customer-price.ts';
import { addDays, nemDayStart, nemIsoInstant, nemToday } from '../domain/nem-time.ts';
import { forecastInForce, type ArchivedPrice } from './forecast-archive.ts';

export const FEED_SOURCES = ['perKwh', 'predicted'] as const;
export const FEED_ALIGNMENTS = ['next', 'current'] as const;
/** Steps EMHASS users run (`optimization_time_step`): each divides an hour, so boundaries fall on every clock's hours. */
export const STEP_MINUTES = [5, 10, 15, 20, 30, 60] as const;
/** A week: past Amber's reach every step is extended, and a longer plan is not what a home optimiser runs. */
export const MAX_HORIZON_HOURS = 168;
/** Settled days the extension averages over. */
const PROFILE_DAYS = 7;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const NEM_OFFSET_MS = 10 * 60 * MINUTE_MS;

export interface EmhassFeedRequest {
  siteId: string;
  hasFeedIn: boolean;
  now: Date;
  horizonHours: number;
  stepMinutes: number;
  source: (typeof FEED_SOURCES)[number];
  align: (typeof FEED_ALIGNMENTS)[number];
}

export interface EmhassFeed {
  /** What to POST to EMHASS (`naive-mpc-optim`, `dayahead-optim`), as is. */
  runtimeparams: { load_cost_forecast: number[]; prod_price_forecast: number[]; prediction_horizon: number };
  source: string;
  align: string;
  step_minutes: number;
  horizon_hours: number;
  /** Start of each step, ISO 8601 at +10:00: element i of both lists prices the step starting at step_starts[i]. */
  step_starts: string[];
  /** Per step: true when it is extended from settled history rather than Amber's forecast. */
  extended: boolean[];
  extended_steps: number;
  /** The newest fetch the forecast steps come from, or null when nothing archived was in force. */
  forecast_fetched_at: string | null;
}

/** A price over a span of time, by channel: enough for a time-weighted mean. */
interface Span {
  startMs: number;
  endMs: number;
  cents: number;
}

export async function emhassFeed(db: Queryable, request: EmhassFeedRequest): Promise<EmhassFeed> {
  const stepMs = request.stepMinutes * MINUTE_MS;
  const nowMs = request.now.getTime();
  const firstMs = (request.align === 'next' ? Math.ceil(nowMs / stepMs) : Math.floor(nowMs / stepMs)) * stepMs;
  const steps = (request.horizonHours * 60) / request.stepMinutes;
  const archived = await forecastInForce(db, { siteId: request.siteId, at: request.now, until: new Date(firstMs + steps * stepMs) });
  const valueOf = (price: ArchivedPrice) => (request.source === 'predicted' ? (price.advancedPrice?.predicted ?? price.perKwh) : price.perKwh);
  const forecast = (channel: string) =>
    archived.filter((price) => price.channelType === channel).map((price) => ({ startMs: price.startMs, endMs: price.endMs, cents: valueOf(price) }));
  const channels = request.hasFeedIn ? ['general', 'feedIn'] : ['general'];
  const forecasts = new Map(channels.map((channel) => [channel, forecast(channel)]));
  const history = await settledHistory(db, request.siteId, request.now, channels);

  const load: number[] = [];
  const prod: number[] = [];
  const extended: boolean[] = [];
  const stepStarts: string[] = [];
  const previous = new Map<string, number>();
  let forecastEnded = false;
  for (let i = 0; i < steps; i++) {
    const from = firstMs + i * stepMs;
    const to = from + stepMs;
    const fromForecast = new Map(channels.map((channel) => [channel, spanMean(forecasts.get(channel)!, from, to, true)]));
    // Once one step is extended, so are all after it: a plan never mixes history back into the forecast.
    forecastEnded ||= [...fromForecast.values()].some((mean) => mean === null);
    const cents = new Map<string, number>();
    for (const channel of channels) {
      const value = forecastEnded ? profileMean(history.get(channel)!, from, request.now, stepMs) : fromForecast.get(channel)!;
      cents.set(channel, value ?? previous.get(channel) ?? 0);
      previous.set(channel, cents.get(channel)!);
    }
    load.push(customerDollars('general', cents.get('general')!));
    prod.push(request.hasFeedIn ? customerDollars('feedIn', cents.get('feedIn')!) : 0);
    extended.push(forecastEnded);
    stepStarts.push(nemIsoInstant(from));
  }
  const fetched = archived.map((price) => price.fetchedMs);
  return {
    runtimeparams: { load_cost_forecast: load, prod_price_forecast: prod, prediction_horizon: steps },
    source: request.source,
    align: request.align,
    step_minutes: request.stepMinutes,
    horizon_hours: request.horizonHours,
    step_starts: stepStarts,
    extended,
    extended_steps: extended.filter(Boolean).length,
    forecast_fetched_at: fetched.length > 0 ? nemIsoInstant(Math.max(...fetched)) : null,
  };
}

/**
 * The time-weighted mean of `spans` (sorted, not overlapping) over [from, to), or null. With `whole`, null
 * unless they cover it without a gap from the first span on: the first step of `align=current` began before
 * the running interval, whose earlier part is settled, not forecast.
 */
function spanMean(spans: readonly Span[], from: number, to: number, whole: boolean): number | null {
  let sum = 0;
  let ms = 0;
  let coveredFrom: number | null = null;
  for (const span of spans) {
    if (span.endMs <= from || span.startMs >= to) continue;
    const start = Math.max(span.startMs, from);
    const overlap = Math.min(span.endMs, to) - start;
    coveredFrom ??= start;
    sum += span.cents * overlap;
    ms += overlap;
  }
  if (ms === 0) return null;
  if (whole && (coveredFrom! > Math.max(from, spans[0]!.startMs) || ms !== to - coveredFrom!)) return null;
  return sum / ms;
}

/** The settled prices of the same NEM time of day as [from, from + step) over the PROFILE_DAYS NEM days before `now`'s. */
function profileMean(settled: readonly Span[], from: number, now: Date, stepMs: number): number | null {
  const timeOfDay = (((from + NEM_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
  const today = nemToday(now);
  let sum = 0;
  let ms = 0;
  for (let k = 1; k <= PROFILE_DAYS; k++) {
    const start = nemDayStart(addDays(today, -k)).getTime() + timeOfDay;
    for (let i = firstEndingAfter(settled, start); i < settled.length && settled[i]!.startMs < start + stepMs; i++) {
      const span = settled[i]!;
      const overlap = Math.min(span.endMs, start + stepMs) - Math.max(span.startMs, start);
      sum += span.cents * overlap;
      ms += overlap;
    }
  }
  return ms === 0 ? null : sum / ms;
}

/** Index of the first span ending after `instant` (spans sorted by start, not overlapping). */
function firstEndingAfter(spans: readonly Span[], instant: number): number {
  let [low, high] = [0, spans.length];
  while (low < high) {
    const middle = (low + high) >> 1;
    if (spans[middle]!.endMs > instant) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Settled prices of the site's own interval length over the PROFILE_DAYS NEM days before `now`'s, by channel, oldest first. */
async function settledHistory(db: Queryable, siteId: string, now: Date, channels: readonly string[]): Promise<Map<string, Span[]>> {
  const today = nemToday(now);
  const result = await db.query<{ channel_type: string; end_ms: number; duration: number; per_kwh: number }>(
    `SELECT p.channel_type, date_part('epoch', p.nem_time) * 1000 AS end_ms, p.duration, p.per_kwh::float8 AS per_kwh
     FROM price_data p JOIN sites s ON s.id = p.site_id AND p.duration = s.interval_length
     WHERE p.site_id = $1 AND p.channel_type = ANY ($2::text[]) AND p.interval_type = 'ActualInterval'
       AND p.nem_time > $3 AND p.nem_time <= $4
     ORDER BY p.channel_type, p.nem_time`,
    [siteId, [...channels], nemDayStart(addDays(today, -PROFILE_DAYS)), nemDayStart(today)],
  );
  const byChannel = new Map<string, Span[]>(channels.map((channel) => [channel, []]));
  for (const row of result.rows) {
    byChannel.get(row.channel_type)!.push({ startMs: row.end_ms - row.duration * MINUTE_MS, endMs: row.end_ms, cents: row.per_kwh });
  }
  return byChannel;
}
