/**
 * The one read model of collection status, behind `amber-collector status`, `/api/status` and the
 * dashboard, from the database alone: per stream (site × data type) the days stored, completeness against
 * the coverage ledger, incomplete days by kind, freshness, the last error, elements the API sent that were
 * refused, and the API calls still to make, with an ETA under the rate budget. Completeness is intervals
 * stored out of intervals expected over the days that should be complete by now, so every view shows the
 * same percent.
 */
import type { MonitorConfig } from '../config/config.ts';
import type { DataType, NemDate, Site } from '../domain/models.ts';
import { compareNemDates, minDate } from '../domain/nem-time.ts';
import { fullBudgetDurationMs } from '../domain/rate-budget.ts';
import { readOpenBackfillRequests, type BackfillRequestStatus } from '../db/backfill-request-store.ts';
import { readCollectionStates, type CollectionState } from '../db/collection-state.ts';
import { readCoverageTotals, readIncompleteDays, type IncompleteDay } from '../db/coverage-ledger.ts';
import type { Queryable } from '../db/pool.ts';
import { readIntegrationStatuses, type IntegrationStatusRow } from '../db/integration-status.ts';
import { readRejectedCounts, type RejectedDataType } from '../db/rejected-intervals.ts';
import { readStoredSites } from '../db/sites-store.ts';
import { compactRanges, completeThrough, percentComplete } from '../domain/coverage-rules.ts';
import { backfillChunks, streamRange, type StreamRange } from '../domain/fetch-plan.ts';
import { DEFAULT_REPAIR_POLICY, repairChunks, repairWindow } from '../domain/repair-rules.ts';

const MINUTE_MS = 60_000;

export interface StatusSettings {
  rateLimit: { limit: number; windowSeconds: number };
  intervalMinutes: number;
  usagePollMinutes: number;
  priceRevisionDays: number;
  usageRevisionDays: number;
  /** AMBER_SITE_IDS: only these sites are collected; null for all. */
  siteIds: readonly string[] | null;
  /** Gap repair calls per cycle, for the ETA; default DEFAULT_REPAIR_POLICY's. */
  repairCallsPerCycle?: number;
}

/** The status settings out of the configuration (`status` reads only the monitor part of it). */
export function statusSettingsOf(config: Pick<MonitorConfig, 'amber' | 'collection'>): StatusSettings {
  const { rateLimit, siteIds } = config.amber;
  const { intervalMinutes, usagePollMinutes, priceRevisionDays, usageRevisionDays } = config.collection;
  return { rateLimit, siteIds, intervalMinutes, usagePollMinutes, priceRevisionDays, usageRevisionDays };
}

/** Days still missing intervals, as compact ranges (`2025-03-02..2025-03-05`), by kind. */
export interface GapRanges {
  /** Never fetched yet: the backfill has not reached them. */
  notCollected: string[];
  /** Fetched with intervals missing; cycles or gap repair fetch them again. */
  incomplete: string[];
  /** Fetched again with nothing new: Amber seems not to have the data; re-checked with a growing back-off. */
  unavailable: string[];
}

export interface StreamStatus {
  siteId: string;
  siteStatus: string;
  intervalLength: number;
  dataType: DataType;
  /** Days that should be complete by now: the stream's first day through yesterday (prices) or the day before (usage). Null before the collector first touched the stream. */
  wanted: { from: NemDate; through: NemDate } | null;
  /** First and last day with any stored interval. */
  stored: { from: NemDate; through: NemDate } | null;
  /** The backfill watermark: every day from `wanted.from` through it has been fetched. */
  collectedThrough: NemDate | null;
  /** Over the wanted days; never-fetched days count as expected at the site's interval length. */
  intervals: { expected: number; stored: number };
  /** Rounded down, so 100 means nothing is missing; null before the collector first touched the stream. */
  percentComplete: number | null;
  gaps: GapRanges;
  gapDays: { notCollected: number; incomplete: number; unavailable: number };
  /** The soonest re-check of an unavailable day. */
  nextCheckAt: string | null;
  lastSuccessAt: string | null;
  /** Elements of this stream's responses refused and kept in rejected_intervals (`query rejected` lists them). */
  rejected: RejectedSummary;
  /** The last error recorded; `current` when no success came after it. */
  lastError: { at: string | null; message: string; current: boolean } | null;
  /** Failed fetches since the last success. */
  consecutiveFailures: number;
  stale: boolean;
  staleAfterMinutes: number;
  remainingCalls: { backfill: number; repair: number };
}

export interface RejectedSummary {
  /** Distinct refused elements kept (the same element refused on every cycle is one). */
  elements: number;
  lastSeenAt: string | null;
}

export interface RequestStatus {
  id: number;
  siteId: string;
  from: NemDate;
  to: NemDate;
  dataTypes: DataType[];
  status: BackfillRequestStatus;
  callsDone: number;
  callsTotal: number;
  requestedAt: string;
}

export interface StatusReport {
  generatedAt: string;
  rateLimit: { limit: number; windowSeconds: number };
  streams: StreamStatus[];
  /** On-demand backfill requests not finished yet. */
  requests: RequestStatus[];
  /** Refused elements of `/prices/current` (the forecast archive), per site with any. */
  rejectedForecasts: Array<{ siteId: string } & RejectedSummary>;
  remainingCalls: { backfill: number; repair: number; requested: number; total: number };
  /** What the daemon last recorded of its connections to other systems (MQTT), by name. */
  integrations: IntegrationStatusRow[];
  /** When the remaining calls should be done, if the whole rate budget went to them; null when none remain. */
  etaSeconds: number | null;
  eta: string | null;
}

/**
 * How long a stream may go without a successful fetch before it is stale. Prices: three cycles
 * (3 × COLLECTION_INTERVAL_MINUTES), so one slow or failed cycle is not an alarm. Usage is polled every
 * USAGE_POLL_MINUTES, on a cycle tick: two polls plus the same three cycles of slack.
 */
function staleAfterMinutes(dataType: DataType, settings: Pick<StatusSettings, 'intervalMinutes' | 'usagePollMinutes'>): number {
  const slack = 3 * settings.intervalMinutes;
  return dataType === 'price' ? slack : 2 * settings.usagePollMinutes + slack;
}

export async function buildStatusReport(
  db: Queryable,
  settings: StatusSettings,
  now: Date,
  options: { siteId?: string | null } = {},
): Promise<StatusReport> {
  const [sites, states, openRequests, rejected, integrations] = await Promise.all([
    readStoredSites(db),
    readCollectionStates(db),
    readOpenBackfillRequests(db),
    readRejectedCounts(db),
    readIntegrationStatuses(db),
  ]);
  const rejectedOf = (siteId: string, dataType: RejectedDataType): RejectedSummary => {
    const found = rejected.find((r) => r.siteId === siteId && r.dataType === dataType);
    return { elements: found?.elements ?? 0, lastSeenAt: found?.lastSeenAt.toISOString() ?? null };
  };
  const wanted = (site: Site): boolean =>
    (options.siteId == null || site.id === options.siteId) && (settings.siteIds === null || settings.siteIds.includes(site.id));
  const streams: StreamStatus[] = [];
  for (const site of sites.filter(wanted)) {
    for (const dataType of ['price', 'usage'] as const) {
      const state = states.find((s) => s.siteId === site.id && s.dataType === dataType);
      // A stream nobody collected is reported only for an active site: those are always collected, while a
      // closed or pending one may have nothing to collect at all.
      if (state === undefined && site.status !== 'active') continue;
      streams.push({ ...(await streamStatus(db, site, dataType, state, settings, now)), rejected: rejectedOf(site.id, dataType) });
    }
  }
  const requests = openRequests
    .filter((r) => options.siteId == null || r.siteId === options.siteId)
    .map((r) => ({
      id: r.id,
      siteId: r.siteId,
      from: r.from,
      to: r.to,
      dataTypes: r.dataTypes,
      status: r.status,
      callsDone: r.callsDone,
      callsTotal: r.calls.length,
      requestedAt: r.requestedAt.toISOString(),
    }));
  const backfill = sum(streams.map((s) => s.remainingCalls.backfill));
  const repair = sum(streams.map((s) => s.remainingCalls.repair));
  const requested = sum(requests.map((r) => r.callsTotal - r.callsDone));
  const total = backfill + repair + requested;
  const etaMs = total === 0 ? null : estimateMs({ total, repair }, settings);
  return {
    generatedAt: now.toISOString(),
    rateLimit: { ...settings.rateLimit },
    streams,
    requests,
    rejectedForecasts: sites
      .filter(wanted)
      .map((site) => ({ siteId: site.id, ...rejectedOf(site.id, 'forecast') }))
      .filter((r) => r.elements > 0),
    remainingCalls: { backfill, repair, requested, total },
    integrations,
    etaSeconds: etaMs === null ? null : Math.round(etaMs / 1000),
    eta: etaMs === null ? null : new Date(now.getTime() + etaMs).toISOString(),
  };
}

async function streamStatus(
  db: Queryable,
  site: Site,
  dataType: DataType,
  state: CollectionState | undefined,
  settings: StatusSettings,
  now: Date,
): Promise<Omit<StreamStatus, 'rejected'>> {
  const range = state === undefined ? null : streamRange(site, dataType, state.backfillFrom, now);
  const through = range === null ? null : minDate(range.to, completeThrough(dataType, now));
  const wantedDays = range !== null && through !== null ? { from: range.from, through } : null;
  const staleAfter = staleAfterMinutes(dataType, settings);
  const lastSuccess = state?.lastSuccessAt ?? null;
  const base = {
    siteId: site.id,
    siteStatus: site.status,
    intervalLength: site.intervalLength,
    dataType,
    collectedThrough: state?.collectedThrough ?? null,
    lastSuccessAt: lastSuccess?.toISOString() ?? null,
    lastError: state?.lastError
      ? {
          at: state.lastErrorAt?.toISOString() ?? null,
          message: state.lastError,
          current: lastSuccess === null || (state.lastErrorAt !== null && state.lastErrorAt > lastSuccess),
        }
      : null,
    consecutiveFailures: state?.consecutiveFailures ?? 0,
    stale: lastSuccess === null || now.getTime() - lastSuccess.getTime() > staleAfter * MINUTE_MS,
    staleAfterMinutes: staleAfter,
  };
  const totals = await readCoverageTotals(db, {
    siteId: site.id,
    dataType,
    from: wantedDays?.from ?? '1970-01-01',
    through: wantedDays?.through ?? '1970-01-01',
  });
  const stored = totals.firstStored !== null && totals.lastStored !== null ? { from: totals.firstStored, through: totals.lastStored } : null;
  if (range === null || wantedDays === null || state === undefined) {
    return {
      ...base,
      wanted: null,
      stored,
      intervals: { expected: 0, stored: 0 },
      percentComplete: null,
      gaps: { notCollected: [], incomplete: [], unavailable: [] },
      gapDays: { notCollected: 0, incomplete: 0, unavailable: 0 },
      nextCheckAt: null,
      remainingCalls: { backfill: 0, repair: 0 },
    };
  }
  const days = compareNemDates(wantedDays.from, wantedDays.through) <= 0
    ? await readIncompleteDays(db, { siteId: site.id, dataType, from: wantedDays.from, through: wantedDays.through })
    : [];
  const notCollected = days.filter((d) => !d.fetched);
  const unavailable = days.filter((d) => d.fetched && (d.check?.fruitlessChecks ?? 0) > 0);
  const incomplete = days.filter((d) => d.fetched && (d.check?.fruitlessChecks ?? 0) === 0);
  const expected = notCollected.reduce((sum, day) => sum + day.expected, totals.expected);
  const nextChecks = unavailable.map((d) => d.check?.nextCheckAt.getTime() ?? Infinity);
  return {
    ...base,
    wanted: wantedDays,
    stored,
    intervals: { expected, stored: totals.stored },
    percentComplete: percentComplete(totals.stored, expected),
    gaps: { notCollected: dates(notCollected), incomplete: dates(incomplete), unavailable: dates(unavailable) },
    gapDays: { notCollected: notCollected.length, incomplete: incomplete.length, unavailable: unavailable.length },
    nextCheckAt: nextChecks.length === 0 ? null : new Date(Math.min(...nextChecks)).toISOString(),
    remainingCalls: {
      backfill: backfillChunks(range, state.collectedThrough).length,
      repair: await repairCallsDue(db, site, dataType, range, state, settings, now),
    },
  };
}

/** The calls gap repair would make for this stream's days that are due for a (re-)check now. */
async function repairCallsDue(
  db: Queryable,
  site: Site,
  dataType: DataType,
  range: StreamRange,
  state: CollectionState,
  settings: StatusSettings,
  now: Date,
): Promise<number> {
  const revisionDays = dataType === 'price' ? settings.priceRevisionDays : settings.usageRevisionDays;
  const window = repairWindow(range, dataType, { from: state.backfillFrom, through: state.collectedThrough }, revisionDays, now);
  if (window === null) return 0;
  const due = await readIncompleteDays(db, { siteId: site.id, dataType, from: window.startDate, through: window.endDate, dueAt: now });
  return repairChunks(due.map((d) => d.date)).length;
}

/**
 * All remaining calls at the full rate budget, but no sooner than gap repair's few calls per cycle allow.
 * Cycles spend part of the budget too, so this is the earliest the work can be done.
 */
function estimateMs(calls: { total: number; repair: number }, settings: StatusSettings): number {
  const budget = fullBudgetDurationMs(settings.rateLimit, calls.total);
  const perCycle = settings.repairCallsPerCycle ?? DEFAULT_REPAIR_POLICY.callsPerCycle;
  const repairCycles = perCycle > 0 ? Math.ceil(calls.repair / perCycle) : 0;
  // The first round runs after the next cycle, so n rounds take n − 1 more cycles.
  return Math.max(budget, Math.max(repairCycles - 1, 0) * settings.intervalMinutes * MINUTE_MS);
}

function dates(days: readonly IncompleteDay[]): string[] {
  return compactRanges(days.map((d) => d.date));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
