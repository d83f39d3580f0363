/**
 * A real Collector wired to the fake Amber server over loopback HTTP and to a bench database, with the
 * data clock pinned, for the sections that measure the collector end to end without a daemon process.
 */
import type pg from 'pg';
import { connectAmber } from '../../src/amber/connect.ts';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import type { RateLimitPolicy } from '../../src/domain/rate-budget.ts';
import { Collector, type CollectorEvents } from '../../src/collector/collector.ts';
import { readCollectionStates } from '../../src/db/collection-state.ts';
import { silentLogger } from '../../src/logger.ts';
import type { FakeAmber, FakeSiteSpec } from '../fake-amber/server.ts';

/** The data clock of every in-process section: a weekday afternoon (NEM), so yesterday's usage is complete. */
export const BENCH_NOW = new Date('2025-11-20T03:10:00Z');

export interface BenchCollector {
  collector: Collector;
  /** Discovers the sites and runs the backfill to its end; throws if any stream failed. */
  backfill(): Promise<void>;
  close(): Promise<void>;
}

export function benchCollector(options: {
  /** Where the fake Amber API listens, in this process or another. */
  fake: Pick<FakeAmber, 'url' | 'apiKey'>;
  pool: pg.Pool;
  /** The budget the collector paces itself to. */
  rateLimit: RateLimitPolicy;
  historicalStartDate: string;
  events?: CollectorEvents;
}): BenchCollector {
  const { fake, pool } = options;
  const logger = silentLogger();
  const amber = connectAmber(
    { baseUrl: fake.url, apiKey: fake.apiKey, rateLimit: options.rateLimit, requestTimeoutMs: 30_000 },
    { logger, wallClock: () => BENCH_NOW.getTime() },
  );
  const failures: string[] = [];
  let fatal: unknown = null;
  const collector = new Collector({
    pool,
    amber,
    logger,
    onFatal: (err) => {
      fatal = err;
    },
    now: () => BENCH_NOW,
    events: {
      ...options.events,
      streamFailed: (stream) => failures.push(`${stream.siteId}/${stream.dataType}: ${stream.code}`),
    },
    settings: {
      historicalStartDate: options.historicalStartDate,
      intervalMinutes: 5,
      priceRevisionDays: 2,
      usageRevisionDays: 7,
      usagePollMinutes: 60,
      siteIds: null,
    },
  });
  return {
    collector,
    async backfill() {
      const signal = new AbortController().signal;
      await collector.discoverSites(signal);
      await collector.backfill(signal);
      if (fatal !== null) throw fatal;
      // A figure from a backfill that stopped half-way would flatter every ratio: refuse to report it.
      if (failures.length > 0) throw new Error(`the bench backfill failed: ${failures.join('; ')}`);
      const yesterday = addDays(nemToday(BENCH_NOW), -1);
      const states = await readCollectionStates(pool);
      const behind = states.filter((s) => s.collectedThrough !== yesterday);
      if (states.length !== collector.collectedSites.length * 2 || behind.length > 0) {
        throw new Error(`the bench backfill stopped early: ${JSON.stringify(states.map((s) => [s.siteId, s.dataType, s.collectedThrough]))}`);
      }
    },
    close: () => amber.client.close(),
  };
}

/** An active site with data for the last `years` years (and then some), general channel only unless told. */
export function benchSite(options: {
  id: string;
  nmi: string;
  intervalLength: 5 | 30;
  channels: 'general' | 'all';
  activeFrom: string;
}): FakeSiteSpec {
  const general = { identifier: 'E1', type: 'general' as const, tariff: 'EA116' };
  return {
    id: options.id,
    nmi: options.nmi,
    network: 'Ausgrid',
    status: 'active',
    activeFrom: options.activeFrom,
    closedOn: null,
    intervalLength: options.intervalLength,
    channels:
      options.channels === 'general'
        ? [general]
        : [general, { identifier: 'E2', type: 'controlledLoad', tariff: 'EA030' }, { identifier: 'B1', type: 'feedIn', tariff: 'EA116' }],
  };
}
