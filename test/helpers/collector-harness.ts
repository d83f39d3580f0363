/**
 * Wires a real Collector to the fake Amber server and a fresh test database, with the data clock pinned,
 * so end-to-end tests read like the scenario they check.
 */
import type pg from 'pg';
import type { AmberClient } from '../../src/amber/client.ts';
import { connectAmber } from '../../src/amber/connect.ts';
import { Collector, type CollectionSettings, type CollectorEvents } from '../../src/collector/collector.ts';
import type { RepairPolicy } from '../../src/domain/repair-rules.ts';
import { silentLogger, type Logger } from '../../src/logger.ts';
import { startFakeAmber, type FakeAmber, type FakeAmberOptions } from '../fake-amber/server.ts';
import { createTestDatabase } from './database.ts';

export interface Harness {
  fake: FakeAmber;
  pool: pg.Pool;
  dbUrl: string;
  clock: { now: Date };
  newCollector(overrides?: CollectorOverrides): Collector;
  close(): Promise<void>;
}

export type CollectorOverrides = Partial<CollectionSettings> & {
  logger?: Logger;
  onFatal?: (err: unknown) => void;
  /** Wraps the Amber client the collector gets, to observe its calls. */
  wrapClient?: (client: AmberClient) => AmberClient;
  /** Observers of the collector (alerts, metrics). */
  events?: CollectorEvents;
  repairPolicy?: RepairPolicy;
};

export async function startHarness(options: { now: Date; fake?: FakeAmberOptions }): Promise<Harness> {
  const clock = { now: options.now };
  const fake = await startFakeAmber({ rateLimit: null, ...options.fake, now: () => clock.now });
  const db = await createTestDatabase();
  const clients: AmberClient[] = [];
  return {
    fake,
    pool: db.pool,
    dbUrl: db.url,
    clock,
    newCollector(overrides = {}) {
      const { logger = silentLogger(), onFatal = (err: unknown) => { throw err; }, wrapClient = (c: AmberClient) => c, events, repairPolicy, ...settings } = overrides;
      // A generous local budget: these tests are about correctness, the pacing tests are elsewhere.
      const { client, limiter } = connectAmber(
        { baseUrl: fake.url, apiKey: fake.apiKey, rateLimit: { limit: 100_000, windowSeconds: 1 }, requestTimeoutMs: 5_000 },
        { logger, wallClock: () => clock.now.getTime(), retry: { baseMs: 5, capMs: 20, maxAttempts: 3 } },
      );
      clients.push(client);
      return new Collector({
        pool: db.pool,
        amber: { client: wrapClient(client), limiter },
        logger,
        onFatal,
        ...(events ? { events } : {}),
        ...(repairPolicy ? { repairPolicy } : {}),
        now: () => clock.now,
        settings: {
          historicalStartDate: '2025-09-22',
          intervalMinutes: 5,
          priceRevisionDays: 2,
          usageRevisionDays: 7,
          usagePollMinutes: 60,
          siteIds: null,
          ...settings,
        },
      });
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await fake.close();
      await db.drop();
    },
  };
}
