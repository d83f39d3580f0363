/**
 * A database connection cut in the middle of the work is reported as DB_UNAVAILABLE (retryable) where it
 * leaves the collector: the stream failure's log line, event code and recorded error, and a command's exit
 * status. A statement the server rejects is not.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collector/collector.ts';
import type { Site } from '../../src/domain/models.ts';
import { reportFailure } from '../../src/commands/frame/failure.ts';
import { captureLogger, type CapturedLogger } from '../helpers/capture-logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { createTestDatabase } from '../helpers/database.ts';

const CHUNK = { startDate: '2025-11-12', endDate: '2025-11-13' };

describe('a stream whose chunk loses its database connection', () => {
  let h: Harness;
  let log: CapturedLogger;
  let collector: Collector;
  let site: Site;

  beforeEach(async () => {
    h = await startHarness({ now: new Date('2025-11-21T03:00:00Z') });
    log = captureLogger();
    collector = h.newCollector({ historicalStartDate: '2025-11-10', logger: log.logger });
    [site] = (await collector.discoverSites(AbortSignal.timeout(10_000))) as [Site];
  });
  afterEach(async () => {
    await h.close();
  });

  async function lastError(): Promise<string | null | undefined> {
    const result = await h.pool.query<{ last_error: string | null }>(`SELECT last_error FROM collection_state WHERE site_id = $1 AND data_type = 'price'`, [site.id]);
    return result.rows[0]?.last_error;
  }

  it('fails with DB_UNAVAILABLE in the log line and the recorded error, and stores nothing', async () => {
    const error = await collector
      .collectDays(site, 'price', CHUNK, AbortSignal.timeout(10_000), {
        inTransaction: async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          // From another connection, as a Postgres restart or a failover would.
          await h.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
          await tx.query('SELECT 1');
        },
      })
      .catch((err: unknown) => err);

    expect(error).toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true });
    const line = await log.waitFor('stream failed; it will be retried next cycle');
    expect(line).toMatchObject({ level: 40, site: site.id, dataType: 'price', code: 'DB_UNAVAILABLE' });
    expect(await lastError()).toMatch(/^DB_UNAVAILABLE: database connection failed: /);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM price_data')).rows[0]).toEqual({ n: 0 });
  });

  it('keeps a statement the server rejects as UNEXPECTED, with its SQLSTATE', async () => {
    const error = await collector
      .collectDays(site, 'price', CHUNK, AbortSignal.timeout(10_000), {
        inTransaction: async (tx) => {
          await tx.query('SELECT * FROM no_such_table');
        },
      })
      .catch((err: unknown) => err);

    expect(error).toBeInstanceOf(pg.DatabaseError);
    expect(error).toMatchObject({ code: '42P01' });
    expect(await log.waitFor('stream failed; it will be retried next cycle')).toMatchObject({ code: 'UNEXPECTED' });
    expect(await lastError()).toMatch(/^UNEXPECTED: relation "no_such_table" does not exist/);
  });
});

describe('a command whose database connection is cut', () => {
  it('exits 75 (try again later), not 1 (a problem in the statement)', async () => {
    const db = await createTestDatabase({ migrated: false });
    const client = new pg.Client({ connectionString: db.url });
    const said: string[] = [];
    const context = {
      command: 'query',
      usage: '',
      err: { write: async (text: string) => void said.push(text) },
      databaseError: (e: pg.DatabaseError) => `ERROR: ${e.message}`,
    };
    try {
      await client.connect();
      client.on('error', () => {}); // the cut also reaches the client as an 'error' event
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const sleeping = client.query('SELECT pg_sleep(30)').catch((err: unknown) => err);
      await expect.poll(async () => (await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'`, [pid])).rowCount).toBe(1);
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      const cut = await sleeping;
      expect(cut).toMatchObject({ code: '57P01' });

      expect(await reportFailure(cut, context)).toBe(75);
      expect(said.join('')).toMatch(/^amber-collector query: cannot reach the database: terminating connection due to administrator command/);

      // A rejected statement still gets the command's own words and exit 1.
      const rejected = await db.pool.query('SELEC 1').catch((err: unknown) => err);
      said.length = 0;
      expect(await reportFailure(rejected, context)).toBe(1);
      expect(said.join('')).toMatch(/^amber-collector query: ERROR: syntax error/);
    } finally {
      await client.end().catch(() => {});
      await db.drop();
    }
  });
});
