/**
 * The single-writer lock against a stranger: a session of another role or program that took the lock's key
 * (a Grafana connection running `SELECT pg_advisory_lock(…)`, say) blocks collection, so the waiting
 * collector must say who holds it, and tell a collector from a stranger.
 */
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { WriterLock } from '../../src/db/writer-lock.ts';
import { silentLogger } from '../../src/logger.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { databaseForTest } from '../helpers/database.ts';

const KEY = (0x616d626572n).toString();

describe('WriterLock', () => {
  it('names a stranger holding its key (pid, user, application) in an error line, and takes the lock once it is let go', async () => {
    const db = await databaseForTest();
    const stranger = new pg.Client({ connectionString: db.url, application_name: 'Grafana' });
    await stranger.connect();
    onTestFinished(() => stranger.end());
    await stranger.query('SELECT pg_advisory_lock($1)', [KEY]);
    const strangerPid = (await stranger.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

    const log = captureLogger();
    const lock = new WriterLock(db.pool, log.logger, { retryMs: 50 });
    onTestFinished(() => lock.release());
    const stop = new AbortController();
    onTestFinished(() => stop.abort());
    const acquired = lock.acquire(stop.signal);
    const line = await log.waitFor(
      `the single-writer lock is held by a session that is not a collector (pid ${strangerPid}, user postgres, application "Grafana"); collection waits until it ends. ` +
        `If no collector runs elsewhere, end it with SELECT pg_terminate_backend(${strangerPid}), and take pg_advisory_lock away from roles that do not need it (see the README's Security section)`,
    );
    expect(line).toMatchObject({ level: 50, holder: { pid: strangerPid, user: 'postgres', applicationName: 'Grafana', collector: false } });

    await stranger.query('SELECT pg_advisory_unlock($1)', [KEY]);
    await acquired;
    expect(log.lines.filter((l) => l['level'] === 50)).toHaveLength(1);
    expect(await lock.holder()).toMatchObject({ collector: true });
  });

  it('reports another collector as a collector, with a warning rather than an error', async () => {
    const db = await databaseForTest();
    const other = createPool({ url: db.url, ssl: false }, silentLogger(), { max: 1, applicationName: 'amber-collector' });
    onTestFinished(() => other.end());
    const first = new WriterLock(other, silentLogger());
    expect(await first.tryAcquire()).toBe(true);
    onTestFinished(() => first.release());

    const log = captureLogger();
    const second = new WriterLock(db.pool, log.logger, { retryMs: 50 });
    const stop = new AbortController();
    const waiting = second.acquire(stop.signal).catch((err: unknown) => err);
    const line = await log.waitFor('another collector is active on this database; waiting for it to stop');
    expect(line).toMatchObject({ level: 40, holder: { applicationName: 'amber-collector', collector: true } });
    stop.abort();
    expect(await waiting).toMatchObject({ code: 'ABORTED' });
  });
});
