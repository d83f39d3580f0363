/**
 * The forecast archive replayed for the forecast-driven strategy with bounded memory, whatever the archive's
 * density and the what-if's length. Decisions move forward in time, so the archive is read one window of
 * decision times at a time: for decisions in [W0, W1), the forecast in force at T (each interval's latest
 * snapshot fetched by T, for intervals ending within 48 hours after T) is either the snapshot in force just
 * before W0 or one fetched in [W0, T]. Only that window's rows are ever in memory.
 *
 * Loading the whole range at once held every snapshot of every interval: at the densities the README gives
 * (6 per interval and channel compacted, 85 uncompacted), a year, and even the last 7 days, did not fit the
 * daemon's 128 MB heap.
 *
 * The snapshots in force just before W1 are those of the window before, but for intervals ending in the
 * last half day of the 48 hours ahead: those alone are read again (in force before W1), with the rows fetched
 * in [W1, W2). Reading the whole 48 hours' snapshots in force at every window took most of a year-long
 * what-if's time in the database.
 *
 * A window's length follows the archive's density: half a day where it is uncompacted (~25,000 rows fetched
 * per half day at the README's density), up to 8 days where it is compacted (~1,800 rows per half day), so a
 * year is ~60 reads instead of ~730, each a round trip and an index scan. A read that finds more rows than
 * memory allows (the compacted archive giving way to the uncompacted last week) is dropped and done again
 * over half a day.
 */
import type { ForecastStep } from '../battery/forecast-driven.ts';
import type { Queryable } from '../db/pool.ts';
import { FORECAST_REACH_MS, ForecastReplay, type Snapshot } from './forecast-archive.ts';

/** Decision times per read, at least: a day's fetches of an uncompacted archive are ~50,000 rows, half of that here. */
const WINDOW_MS = 12 * 3_600_000;
/** And at most: a compacted archive's 8 days are ~30,000 rows. */
const MAX_WINDOWS_PER_READ = 16;
/** Rows a read may bring in; past this it is done again over one WINDOW_MS. */
const MAX_ROWS_PER_READ = 60_000;
/** Fewer rows than this in a read: the next one spans twice as long. */
const GROW_BELOW_ROWS = MAX_ROWS_PER_READ / 4;

type ArchivedSnapshot = Snapshot & { perKwh: number };

interface Window {
  fromMs: number;
  toMs: number;
  snapshots: ArchivedSnapshot[];
  replay: ForecastReplay;
}

export class ArchivedForecasts {
  private readonly db: Queryable;
  private readonly siteId: string;
  private readonly hasFeedIn: boolean;
  private window: Window | null = null;
  /** The next read's length in WINDOW_MS, doubled while reads come back small. */
  private windows = 1;

  constructor(db: Queryable, args: { siteId: string; hasFeedIn: boolean }) {
    this.db = db;
    this.siteId = args.siteId;
    this.hasFeedIn = args.hasFeedIn;
  }

  /** The plan steps of the forecast in force at `atMs` (see priceSteps); instants must not go back past a window. */
  async stepsAt(atMs: number): Promise<ForecastStep[]> {
    if (this.window === null || atMs < this.window.fromMs || atMs >= this.window.toMs) {
      const fromMs = Math.floor(atMs / WINDOW_MS) * WINDOW_MS;
      const carried = this.window !== null && this.window.toMs === fromMs ? inForceBefore(this.window.snapshots, fromMs) : null;
      // Dropped first, so two windows are never held at once.
      this.window = null;
      let toMs = fromMs + this.windows * WINDOW_MS;
      let snapshots = await this.read(fromMs, toMs, carried === null ? null : [...carried]);
      if (snapshots === null) {
        this.windows = 1;
        toMs = fromMs + WINDOW_MS;
        snapshots = (await this.read(fromMs, toMs, carried, Infinity))!;
      } else if (snapshots.length - (carried?.length ?? 0) < GROW_BELOW_ROWS) {
        this.windows = Math.min(MAX_WINDOWS_PER_READ, this.windows * 2);
      }
      this.window = { fromMs, toMs, snapshots, replay: new ForecastReplay(snapshots, this.hasFeedIn) };
    }
    return this.window.replay.stepsAt(atMs);
  }

  /**
   * The snapshots a window [fromMs, toMs) replays: those in force just before fromMs (`carried` from the
   * window before for intervals ending by fromMs + 48 h, when it ended at fromMs) and those fetched in it;
   * null when there are more than `maxRows` of them.
   */
  private async read(fromMs: number, toMs: number, carried: ArchivedSnapshot[] | null, maxRows = MAX_ROWS_PER_READ): Promise<ArchivedSnapshot[] | null> {
    const columns = `channel_type, extract(epoch FROM nem_time)::float8 * 1000, duration, extract(epoch FROM fetched_at)::float8 * 1000, per_kwh::float8`;
    const keys = `site_id = $1 AND channel_type IN ('general', 'feedIn')`;
    const result = await this.db.query<[string, number, number, number, number]>({
      // The primary key (site_id, channel_type, nem_time, duration, fetched_at) serves both halves.
      text: `SELECT ${columns} FROM (
               SELECT DISTINCT ON (channel_type, nem_time, duration) channel_type, nem_time, duration, fetched_at, per_kwh
               FROM price_forecasts
               WHERE ${keys} AND nem_time > $3 AND nem_time <= $5 AND fetched_at < $2
               ORDER BY channel_type, nem_time, duration, fetched_at DESC
             ) in_force_before_window
             UNION ALL
             SELECT ${columns} FROM price_forecasts WHERE ${keys} AND nem_time > $2 AND nem_time <= $5 AND fetched_at >= $2 AND fetched_at < $4
             LIMIT $6`,
      values: [
        this.siteId,
        new Date(fromMs),
        new Date(carried === null ? fromMs : fromMs + FORECAST_REACH_MS),
        new Date(toMs),
        new Date(toMs + FORECAST_REACH_MS),
        Number.isFinite(maxRows) ? maxRows + 1 : null,
      ],
      rowMode: 'array',
    });
    if (result.rows.length > maxRows) return null;
    const snapshots = carried ?? [];
    for (const [channelType, endMs, duration, fetchedMs, perKwh] of result.rows) {
      snapshots.push({ channelType, startMs: endMs - duration * 60_000, endMs, duration, fetchedMs, perKwh });
    }
    return snapshots;
  }
}

/** Each interval's latest snapshot fetched before `atMs`, for intervals ending after it. */
function inForceBefore(snapshots: readonly ArchivedSnapshot[], atMs: number): ArchivedSnapshot[] {
  const latest = new Map<string, ArchivedSnapshot>();
  for (const snapshot of snapshots) {
    if (snapshot.endMs <= atMs || snapshot.fetchedMs >= atMs) continue;
    const key = `${snapshot.channelType}|${snapshot.endMs}|${snapshot.duration}`;
    const known = latest.get(key);
    if (known === undefined || snapshot.fetchedMs > known.fetchedMs) latest.set(key, snapshot);
  }
  return [...latest.values()];
}
