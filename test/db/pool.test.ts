import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, waitForDatabase, withTransaction } from '../../src/db/pool.ts';
import { CollectorError } from '../../src/errors.ts';
import { silentLogger, type Logger } from '../../src/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
  await db.pool.query('CREATE TABLE items (id int PRIMARY KEY)');
});
afterAll(async () => {
  await db.drop();
});

/** A real pino logger whose lines are kept for inspection. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('createPool', () => {
  it('opens UTC sessions with statement and idle-transaction timeouts and an application name', async () => {
    const result = await db.pool.query(
      `SELECT current_setting('TimeZone') AS tz, current_setting('statement_timeout') AS statement_timeout,
              current_setting('idle_in_transaction_session_timeout') AS idle_timeout, current_setting('application_name') AS app`,
    );
    expect(result.rows[0]).toEqual({ tz: 'UTC', statement_timeout: '1min', idle_timeout: '1min', app: 'amber-collector-test' });
  });

  it('logs, rather than crashes on, an idle connection that the server kills', async () => {
    const { logger, lines } = capturingLogger();
    const pool = createPool({ url: db.url, ssl: false }, logger, { max: 1, applicationName: 'doomed' });
    try {
      await pool.query('SELECT 1'); // leaves one idle client in the pool
      await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'doomed'`);
      await expect.poll(() => lines.some((line) => line.msg === 'an idle database connection failed; it will be replaced')).toBe(true);
      expect((await pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await pool.end();
    }
  });
});

describe('withTransaction', () => {
  it('commits and returns what the callback returns', async () => {
    const value = await withTransaction(db.pool, async (client) => {
      await client.query('INSERT INTO items VALUES (1)');
      return 'done';
    });
    expect(value).toBe('done');
    expect((await db.pool.query('SELECT id FROM items WHERE id = 1')).rowCount).toBe(1);
  });

  it('rolls back, rethrows the same error, and destroys the client', async () => {
    const pool = createPool({ url: db.url, ssl: false }, silentLogger(), { max: 1 });
    const backendPid = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const failure = new Error('boom');
    try {
      const before = await backendPid();

      await expect(
        withTransaction(pool, async (client) => {
          await client.query('INSERT INTO items VALUES (2)');
          throw failure;
        }),
      ).rejects.toBe(failure);

      expect((await pool.query('SELECT id FROM items WHERE id = 2')).rowCount).toBe(0);
      expect(await backendPid()).not.toBe(before); // a new connection: the failed one was not reused
    } finally {
      await pool.end();
    }
  });

  it('survives the connection being cut mid-transaction: the query fails, nothing is thrown uncaught', async () => {
    const pool = createPool({ url: db.url, ssl: false }, silentLogger(), { max: 1 });
    try {
      await expect(
        withTransaction(pool, async (client) => {
          const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          // Not events.once(): it would listen for 'error' itself and hide what this test is about.
          const ended = new Promise((resolve) => client.once('end', resolve));
          await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
          await ended; // the 'error' event has fired while the client was checked out
          await client.query('SELECT 1');
        }),
      ).rejects.toThrow();
      expect((await pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('rolls back when the database rejects a statement', async () => {
    await expect(
      withTransaction(db.pool, async (client) => {
        await client.query('INSERT INTO items VALUES (3)');
        await client.query('INSERT INTO items VALUES (3)');
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await db.pool.query('SELECT id FROM items WHERE id = 3')).rowCount).toBe(0);
  });
});

describe('waitForDatabase', () => {
  // Nothing listens on port 1, so every attempt is refused at once.
  const unreachable = 'postgres://collector:hunter2@127.0.0.1:1/collector';

  it('resolves at once when the database answers', async () => {
    const { logger, lines } = capturingLogger();
    await waitForDatabase(db.pool, logger, new AbortController().signal);
    expect(lines).toEqual([]);
  });

  it('retries with a log line per attempt naming host and database, then gives up at the deadline', async () => {
    const { logger, lines } = capturingLogger();
    const pool = createPool({ url: unreachable, ssl: false }, silentLogger());
    try {
      const error = await waitForDatabase(pool, logger, new AbortController().signal, { deadlineMs: 300, initialDelayMs: 10, maxDelayMs: 40 }).catch(
        (err: unknown) => err,
      );

      expect(error).toBeInstanceOf(CollectorError);
      expect(error).toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true, details: { host: '127.0.0.1', database: 'collector' } });
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines.map((line) => line.attempt)).toEqual(lines.map((_, i) => i + 1));
      expect(lines[0]).toMatchObject({ level: 40, host: '127.0.0.1', port: '1', database: 'collector', retryInMs: 10 });
      expect(lines[0]?.msg).toContain('127.0.0.1/collector');
      expect(JSON.stringify(lines)).not.toContain('hunter2');
      // Capped exponential backoff: 10, 20, 40, 40, ... (the last pause is cut short by the deadline).
      expect(lines.slice(0, 3).map((line) => line.retryInMs)).toEqual([10, 20, 40]);
    } finally {
      await pool.end();
    }
  });

  it('stops waiting when aborted, as a clean stop (ABORTED)', async () => {
    const pool = createPool({ url: unreachable, ssl: false }, silentLogger());
    const stop = new AbortController();
    try {
      const waiting = waitForDatabase(pool, silentLogger(), stop.signal, { initialDelayMs: 60_000 });
      setTimeout(() => stop.abort(), 50);
      await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      await pool.end();
    }
  });
});
