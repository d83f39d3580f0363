/**
 * One fault trial's world: a fake Amber account, a private database, and the oracle that says what the
 * database must hold once the collector has recovered. The data clock is real time (the collector under
 * test reads the real clock), so the oracle checks only settled days: from the start date through
 * yesterday, fixed when the world is created. Usage is final as soon as it appears (no lag, no revision),
 * so nothing the oracle checks changes while a trial runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { diffPrices, diffUsage } from '../helpers/ground-truth.ts';
import { defaultSites, startFakeAmber, type FakeAmber, type FakeSiteSpec, type RateLimitPolicy } from '../fake-amber/server.ts';

/** A budget no trial reaches, over a short window. */
const UNLIMITED = { limit: 1_000, windowSeconds: 1 };

/** Usage is final the moment it appears: nothing the oracle checks is revised while a trial runs. */
export const FAKE_OPTIONS = { rateLimit: UNLIMITED, usageLagHours: 0, usageFinalHours: 0 };

/**
 * A world whose backfill is paced at 10 calls a second, so it lasts a few seconds (about 100 ms a day of
 * history): long enough for a fault to land in the middle of it. Pair with PACED_ENV.
 */
export const pacedWorld = (days: number): WorldOptions => ({ days, rateLimit: { limit: 10, windowSeconds: 1 } });
export const PACED_ENV = { AMBER_RATE_LIMIT: '10;w=1' };

export interface WorldOptions {
  /** Days of history to collect before today. */
  days: number;
  /** The fake's budget; the default is more than any trial uses, over a 1 s window (so a 429 without headers costs 1 s). */
  rateLimit?: RateLimitPolicy | null;
  /** An empty database (no migrations) instead of a clone of the migrated template. */
  migrated?: boolean;
}

/** The comparison of the database with the fake's ground truth, over every site and both data types. */
export interface DataCheck {
  /** Intervals the ground truth has. */
  expected: number;
  /** Expected intervals the database lacks. */
  lost: number;
  /** Rows the ground truth does not have: a second copy of an interval (other resolution) or a phantom. */
  duplicated: number;
  /** Rows whose values differ from the ground truth. */
  wrong: number;
  /** A few of the discrepancies, for the failure message. */
  samples: string[];
}

export interface World {
  fake: FakeAmber;
  db: TestDatabase;
  sites: FakeSiteSpec[];
  /** HISTORICAL_START_DATE for the collector. */
  startDate: string;
  /** The last day the oracle checks (yesterday when the world was made). */
  checkThrough: string;
  /** Environment for the collector (process or parsed config), pointing at this world. */
  env(extra?: Record<string, string>): Record<string, string>;
  check(): Promise<DataCheck>;
  /**
   * Polls the oracle until the database is complete; resolves with the wall time it first was, or null
   * when `timeoutMs` passed first.
   */
  waitUntilComplete(timeoutMs: number, pollMs?: number): Promise<number | null>;
  close(): Promise<void>;
}

export async function createWorld(options: WorldOptions): Promise<World> {
  const now = new Date();
  const today = nemToday(now);
  const sites = defaultSites(now);
  const fake = await startFakeAmber({ sites, ...FAKE_OPTIONS, rateLimit: options.rateLimit ?? UNLIMITED });
  const db = await createTestDatabase({ migrated: options.migrated ?? true });
  const startDate = addDays(today, -options.days);
  const checkThrough = addDays(today, -1);

  let expectedRows: number | undefined;
  const storedRows = async (): Promise<number> => {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM price_data WHERE nem_date BETWEEN $1 AND $2)::int
            + (SELECT count(*) FROM usage_data WHERE nem_date BETWEEN $1 AND $2)::int AS n`,
      [startDate, checkThrough],
    );
    return rows[0]?.n ?? 0;
  };

  const check = async (): Promise<DataCheck> => {
    const result: DataCheck = { expected: 0, lost: 0, duplicated: 0, wrong: 0, samples: [] };
    for (const site of sites.filter((s) => s.status !== 'pending')) {
      for (const diff of [
        await diffPrices(db.pool, fake, site.id, startDate, checkThrough),
        await diffUsage(db.pool, fake, site.id, startDate, checkThrough),
      ]) {
        result.expected += diff.expected;
        result.lost += diff.missing.length;
        result.duplicated += diff.extra.length;
        result.wrong += diff.wrong.length;
        const labelled = [...diff.missing.map((k) => `missing ${k}`), ...diff.extra.map((k) => `extra ${k}`), ...diff.wrong.map((k) => `wrong ${k}`)];
        result.samples.push(...labelled.slice(0, 3).map((line) => `${site.id} ${line}`));
      }
    }
    return result;
  };

  return {
    fake,
    db,
    sites,
    startDate,
    checkThrough,
    env(extra = {}) {
      return {
        AMBER_API_KEY: fake.apiKey,
        AMBER_API_BASE_URL: fake.url,
        DATABASE_URL: db.url,
        HISTORICAL_START_DATE: startDate,
        AMBER_RATE_LIMIT: '1000;w=1',
        AMBER_REQUEST_TIMEOUT_SECONDS: '5',
        LOG_LEVEL: 'info',
        ...extra,
      };
    },
    check,
    async waitUntilComplete(timeoutMs, pollMs = 100) {
      // Polling compares a row count with the expected one (cheap); the full diff runs only when the count
      // says the database may be complete, so the oracle does not compete with the collector for the CPU.
      expectedRows ??= (await check()).expected;
      const deadline = Date.now() + timeoutMs;
      let countAtLastDiff = -1;
      let lastDiffAt = 0;
      for (;;) {
        const stored = await storedRows();
        // Values can be corrected without the count moving: diff again now and then regardless.
        if (stored >= expectedRows && (stored !== countAtLastDiff || Date.now() - lastDiffAt > 2_000)) {
          countAtLastDiff = stored;
          lastDiffAt = Date.now();
          const result = await check();
          if (result.lost === 0 && result.duplicated === 0 && result.wrong === 0) return Date.now();
        }
        if (Date.now() > deadline) return null;
        await sleep(pollMs);
      }
    },
    async close() {
      await fake.close();
      await db.drop();
    },
  };
}

/** Wall time of the last request the fake answered with a fault or an error status; null when none. */
export function lastFaultAt(fake: FakeAmber): number | null {
  let last: number | null = null;
  for (const request of fake.requests) {
    if (request.fault !== null || request.status >= 400) last = request.wallTime.getTime();
  }
  return last;
}

/** Requests for data (prices or usage), the ones a collector must not make while it is not the writer. */
export function dataRequests(fake: FakeAmber): number {
  return fake.requests.filter((r) => r.endpoint === 'prices' || r.endpoint === 'usage').length;
}
