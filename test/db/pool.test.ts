import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asDatabaseUnavailable, createPool, isConnectionFailure, waitForDatabase, withTransaction } from '../../src/db/pool.ts';
import { CollectorError, exitCodeFor } from '../../src/errors.ts';
import { silentLogger, type Logger } from '../../src/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startRefusingPostgres } from '../helpers/refusing-postgres.ts';

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
  return { logger: pino({ level: 'debug', messageKey: 'message' }, stream), lines };
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
      await expect.poll(() => lines.some((line) => line['message'] === 'an idle database connection failed; it will be replaced')).toBe(true);
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

  it('survives the connection being cut mid-transaction: the query fails as DB_UNAVAILABLE, nothing is thrown uncaught', async () => {
    const pool = createPool({ url: db.url, ssl: false }, silentLogger(), { max: 1 });
    try {
      const error = await withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // Not events.once(): it would listen for 'error' itself and hide what this test is about.
        const ended = new Promise((resolve) => client.once('end', resolve));
        await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        await ended; // the 'error' event has fired while the client was checked out
        await client.query('SELECT 1');
      }).catch((err: unknown) => err);

      expect(error).toBeInstanceOf(CollectorError);
      expect(error).toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true });
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(await pool.query('SELECT 1 AS ok').then((r) => r.rows)).toEqual([{ ok: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('reports a backend terminated during a statement as DB_UNAVAILABLE, keeping the server error (57P01) as cause', async () => {
    const pool = createPool({ url: db.url, ssl: false }, silentLogger(), { max: 1, applicationName: 'terminated-mid-statement' });
    try {
      const error = await withTransaction(pool, async (client) => {
        await client.query('INSERT INTO items VALUES (4)');
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const sleeping = client.query('SELECT pg_sleep(30)');
        // The termination may reject `sleeping` before it is awaited below: handle it now so it never counts as unhandled.
        sleeping.catch(() => undefined);
        await expect.poll(async () => (await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'`, [rows[0]?.pid])).rowCount).toBe(1);
        await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        await sleeping;
      }).catch((err: unknown) => err);

      expect(error).toBeInstanceOf(CollectorError);
      expect(error).toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true, details: { causeCode: '57P01' } });
      expect((error as Error).message).toContain('terminating connection due to administrator command');
      expect((error as Error).cause).toBeInstanceOf(pg.DatabaseError);
      expect((await db.pool.query('SELECT id FROM items WHERE id = 4')).rowCount).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('reports a database that refuses connections as DB_UNAVAILABLE before running the callback', async () => {
    const pool = createPool({ url: 'postgres://collector@127.0.0.1:1/collector', ssl: false }, silentLogger());
    let ran = false;
    try {
      const error = await withTransaction(pool, async () => {
        ran = true;
      }).catch((err: unknown) => err);

      expect(error).toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true });
      expect((error as Error).message).toContain('ECONNREFUSED');
      expect(ran).toBe(false);
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

describe('isConnectionFailure / asDatabaseUnavailable', () => {
  /** The error the server itself sends for `sql`. */
  async function serverError(sql: string): Promise<unknown> {
    return db.pool.query(sql).catch((err: unknown) => err);
  }
  function sqlState(code: string, message: string): pg.DatabaseError {
    return Object.assign(new pg.DatabaseError(message, 0, 'error'), { code });
  }
  function socketError(code: string): Error {
    return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
  }

  it('leaves statements the server rejects as they are: syntax, constraint, missing table, permission, cancel', async () => {
    const rejected = [
      await serverError('SELEC 1'),
      await serverError('SELECT * FROM no_such_table'),
      await serverError('SELECT 1/0'),
      sqlState('57014', 'canceling statement due to statement timeout'),
      sqlState('23505', 'duplicate key value violates unique constraint'),
      sqlState('42501', 'permission denied for table items'),
      sqlState('28P01', 'password authentication failed for user "amber"'),
      sqlState('3D000', 'database "amber" does not exist'),
      new Error('boom'),
      new CollectorError('AMBER_NETWORK', 'fetch failed'),
    ];
    for (const err of rejected) {
      expect(isConnectionFailure(err), String(err)).toBe(false);
      expect(asDatabaseUnavailable(err)).toBe(err);
    }
  });

  it('names every way a connection is lost or refused, keeping the original as cause', () => {
    const lost = [
      sqlState('57P01', 'terminating connection due to administrator command'),
      sqlState('57P02', 'terminating connection because of crash of another server process'),
      sqlState('57P03', 'the database system is starting up'),
      sqlState('08006', 'connection failure'),
      sqlState('53300', 'sorry, too many clients already'),
      socketError('ECONNREFUSED'),
      socketError('ECONNRESET'),
      socketError('ETIMEDOUT'),
      new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')]),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
    ];
    for (const err of lost) {
      expect(isConnectionFailure(err), String(err)).toBe(true);
      const translated = asDatabaseUnavailable(err);
      expect(translated).toBeInstanceOf(CollectorError);
      expect(translated).toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true, cause: err });
    }
    expect(asDatabaseUnavailable(lost[0])).toMatchObject({ details: { causeCode: '57P01' }, message: 'database connection failed: terminating connection due to administrator command' });
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
      expect(lines[0]?.message).toBe('database not reachable yet; retrying');
      expect(JSON.stringify(lines)).not.toContain('hunter2');
      // Capped exponential backoff: 10, 20, 40, 40, ... (the last pause is cut short by the deadline).
      expect(lines.slice(0, 3).map((line) => line.retryInMs)).toEqual([10, 20, 40]);
    } finally {
      await pool.end();
    }
  });

  it('stops at once with DB_AUTH (exit 1) when the database refuses the password, saying what to change', async () => {
    const refusing = await startRefusingPostgres('28P01');
    const pool = createPool({ url: refusing.url, ssl: false }, silentLogger());
    try {
      const error = await waitForDatabase(pool, silentLogger(), new AbortController().signal, { initialDelayMs: 60_000 }).catch((err: unknown) => err);
      expect(error).toMatchObject({ code: 'DB_AUTH', details: { user: 'collector', causeCode: '28P01' } });
      expect((error as Error).message).toMatch(/refused the password of user "collector".*correct the user name and password in DATABASE_URL/);
      expect((error as Error).message).not.toContain('hunter2');
      expect(exitCodeFor(error)).toBe(1);
    } finally {
      await pool.end();
      await refusing.close();
    }
  });

  it('stops with DB_AUTH when the role does not exist (28000)', async () => {
    const url = new URL(db.url);
    url.username = 'no_such_role_here';
    const pool = createPool({ url: url.toString(), ssl: false }, silentLogger());
    try {
      const error = await waitForDatabase(pool, silentLogger(), new AbortController().signal, { initialDelayMs: 60_000 }).catch((err: unknown) => err);
      // A server that asks for passwords (the embedded one, a container) does not say whether the role exists:
      // it refuses the password (28P01). One that trusts local connections says the role is missing (28000).
      expect(error).toMatchObject({ code: 'DB_AUTH', details: { user: 'no_such_role_here', causeCode: expect.stringMatching(/^28(000|P01)$/) } });
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
