/**
 * The delivery queue against a loopback receiver and a real database: the hourly cap and quiet hours hold
 * back price alerts but never collector trouble, quiet hours release only the newest phase of each event,
 * a receiver's 4xx is final while its Retry-After is honoured. Deliveries live in `alert_deliveries`, so
 * a stop loses none: a new queue on the same database (a restart) delivers what was held or retrying,
 * once, and every delivery that is not made is counted.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.ts';
import { DeliveryQueue, type DeliveryOptions } from '../../src/alerts/delivery.ts';
import { announcer, minimalAlert as alert } from '../helpers/alerts.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { databaseForTest } from '../helpers/database.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

interface TestQueue {
  q: DeliveryQueue;
  dropped: string[];
  failed: string[];
  announce(a: Alert): Promise<void>;
}

/** A queue as one run of the daemon has it; `pool` shared by several is a restart. */
async function queue(receiver: WebhookReceiver, options: Partial<DeliveryOptions> & { pool?: pg.Pool; announce?: TestQueue['announce'] } = {}): Promise<TestQueue> {
  const pool = options.pool ?? (await databaseForTest()).pool;
  const dropped: string[] = [];
  const failed: string[] = [];
  const q = new DeliveryQueue({
    pool,
    targets: [{ url: receiver.url, format: 'json' }],
    maxPerHour: 20,
    quietHours: null,
    logger: captureLogger().logger,
    retryDelaysMs: [10],
    timeoutMs: 2_000,
    events: { dropped: (reason) => dropped.push(reason), failed: (format) => failed.push(format) },
    ...options,
  });
  const announce = announcer(pool);
  return { q, dropped, failed, announce: async (a) => announce(q, a) };
}

const ids = (receiver: WebhookReceiver) => receiver.received.map((r) => r.json()['id']);

async function states(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ phase: string; state: string; drop_reason: string | null }>('SELECT phase, state, drop_reason FROM alert_deliveries ORDER BY id');
  return result.rows.map((r) => `${r.phase}:${r.state}${r.drop_reason === null ? '' : `:${r.drop_reason}`}`);
}

describe('alert delivery', () => {
  it('drops price alerts over ALERT_MAX_PER_HOUR, never collector trouble, and counts the hour from the clock', async () => {
    const receiver = await startWebhookReceiver();
    const clock = { now: new Date('2025-11-21T08:00:00Z') };
    const { q, dropped, announce } = await queue(receiver, { maxPerHour: 2, now: () => clock.now });
    await announce(alert('e1', 'forecast'));
    await announce(alert('e2', 'forecast'));
    await announce(alert('e3', 'forecast'));
    await announce(alert('t1', 'opened', 'stale'));
    await q.drain(5_000);
    expect(ids(receiver).sort()).toEqual(['e1:forecast', 'e2:forecast', 't1:opened']);
    expect(dropped).toEqual(['hourly_cap']);
    clock.now = new Date('2025-11-21T09:00:01Z');
    await announce(alert('e4', 'forecast'));
    await q.drain(5_000);
    expect(ids(receiver)).toContain('e4:forecast');
    q.close();
  });

  it('holds price alerts in quiet hours, sends trouble at once, and releases the newest phase of each event at the end', async () => {
    const receiver = await startWebhookReceiver();
    // 06:59:59.950 NEM, quiet until 07:00: the release comes 50 ms later.
    const clock = { now: new Date('2025-11-21T20:59:59.950Z') };
    const { q, announce } = await queue(receiver, { quietHours: { from: 22 * 60, to: 7 * 60 }, now: () => clock.now });
    await announce(alert('e1', 'forecast'));
    await announce(alert('e1', 'started'));
    await announce(alert('e2', 'forecast'));
    await announce(alert('t1', 'opened', 'stale'));
    await q.drain(5_000);
    expect(ids(receiver)).toEqual(['t1:opened']);
    clock.now = new Date('2025-11-21T21:00:00Z');
    await receiver.waitFor(3);
    await q.drain(5_000);
    expect(ids(receiver).slice(1).sort()).toEqual(['e1:started', 'e2:forecast']);
    q.close();
  });

  it('does not retry a 4xx, and waits as long as a 429 asks before trying again', async () => {
    const refusing = await startWebhookReceiver(() => 404);
    const first = await queue(refusing);
    await first.announce(alert('e1', 'forecast'));
    await first.q.drain(5_000);
    expect(refusing.received).toHaveLength(1);
    expect(first.dropped).toEqual(['gave_up']);
    expect(first.failed).toEqual(['json']);

    const limited = await startWebhookReceiver((n) => (n === 1 ? 429 : 200));
    const second = await queue(limited);
    // The receiver's Retry-After of 0.3 s beats the 10 ms pause.
    limited.retryAfterSeconds = 0.3;
    const started = performance.now();
    await second.announce(alert('e2', 'forecast'));
    await second.q.drain(5_000);
    expect(limited.accepted()).toHaveLength(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });
});

describe('alert delivery across a restart', () => {
  it('keeps alerts held for the quiet hours through a stop, and the next start sends the newest phase of each event once', async () => {
    const receiver = await startWebhookReceiver();
    const db = await databaseForTest();
    const quietHours = { from: 22 * 60, to: 7 * 60 };
    const clock = { now: new Date('2025-11-21T13:00:00Z') }; // 23:00 NEM: quiet
    const before = await queue(receiver, { pool: db.pool, quietHours, now: () => clock.now });
    await before.announce(alert('e1', 'forecast'));
    await before.announce(alert('e1', 'started'));
    await before.announce(alert('e2', 'forecast'));
    await before.q.drain(5_000);
    before.q.close(); // SIGTERM during the quiet hours
    expect(receiver.received).toHaveLength(0);
    expect(before.dropped).toEqual([]);

    // Restarted during the quiet hours: still held.
    const during = await queue(receiver, { pool: db.pool, quietHours, now: () => clock.now });
    await during.q.resume();
    await during.q.drain(5_000);
    during.q.close();
    expect(receiver.received).toHaveLength(0);

    // Restarted after them: e1's newest phase and e2, once each.
    clock.now = new Date('2025-11-21T21:30:00Z'); // 07:30 NEM
    const after = await queue(receiver, { pool: db.pool, quietHours, now: () => clock.now });
    await after.q.resume();
    await after.q.drain(5_000);
    expect(ids(receiver).sort()).toEqual(['e1:started', 'e2:forecast']);
    expect(await states(db.pool)).toEqual(['forecast:superseded', 'started:delivered', 'forecast:delivered']);
    after.q.close();

    const again = await queue(receiver, { pool: db.pool, quietHours, now: () => clock.now });
    await again.q.resume();
    await again.q.drain(5_000);
    expect(receiver.received).toHaveLength(2);
  });

  it('carries retries on after a restart, with the attempts already made, and counts the delivery it gives up', async () => {
    const db = await databaseForTest();
    const clock = { now: new Date('2025-11-21T08:00:00Z') };
    // Fails its first two answers: the first run makes one attempt, then stops during the pause.
    const flaky = await startWebhookReceiver((n) => (n <= 2 ? 503 : 200));
    const before = await queue(flaky, { pool: db.pool, retryDelaysMs: [60_000], maxAttempts: 3, now: () => clock.now });
    await before.announce(alert('e1', 'started'));
    await flaky.waitFor(1);
    await before.q.drain(100);
    before.q.close();
    expect(await states(db.pool)).toEqual(['started:pending']);

    clock.now = new Date('2025-11-21T08:01:00Z'); // the pause is over
    const after = await queue(flaky, { pool: db.pool, retryDelaysMs: [10], maxAttempts: 3, now: () => clock.now });
    await after.q.resume();
    await after.q.drain(5_000);
    expect(flaky.received).toHaveLength(3);
    expect(flaky.accepted().map((r) => r.json()['id'])).toEqual(['e1:started']);
    expect((await db.pool.query('SELECT attempts FROM alert_deliveries')).rows).toEqual([{ attempts: 3 }]);

    // A receiver that never accepts: the attempts before the restart count, and giving up is counted.
    const down = await startWebhookReceiver(() => 503);
    const first = await queue(down, { pool: db.pool, retryDelaysMs: [60_000], maxAttempts: 2, now: () => clock.now });
    await first.announce(alert('e2', 'started'));
    await down.waitFor(1);
    first.q.close();
    clock.now = new Date('2025-11-21T08:02:00Z');
    const second = await queue(down, { pool: db.pool, retryDelaysMs: [10], maxAttempts: 2, now: () => clock.now });
    await second.q.resume();
    await second.q.drain(5_000);
    expect(down.received).toHaveLength(2);
    expect(second.dropped).toEqual(['gave_up']);
    expect(await states(db.pool)).toEqual(['started:delivered', 'started:dropped:gave_up']);
  });

  it('leaves its retries to the collector that takes over when this one stops collecting', async () => {
    const db = await databaseForTest();
    const clock = { now: new Date('2025-11-21T08:00:00Z') };
    const receiver = await startWebhookReceiver((n) => (n === 1 ? 503 : 200));
    const first = await queue(receiver, { pool: db.pool, retryDelaysMs: [200], now: () => clock.now });
    await first.announce(alert('e1', 'started'));
    await receiver.waitFor(1);
    first.q.pause(); // the writer lock went to another collector
    const second = await queue(receiver, { pool: db.pool, retryDelaysMs: [200], now: () => clock.now });
    await second.q.resume();
    await second.q.drain(5_000);
    await first.q.drain(1_000); // its pause ended early: no attempt of its own
    expect(receiver.received).toHaveLength(2);
    expect(await states(db.pool)).toEqual(['started:delivered']);
    // Collecting again later, it finds nothing left to do.
    await first.q.resume();
    await first.q.drain(1_000);
    expect(receiver.received).toHaveLength(2);
  });

  it('counts a pending delivery whose target was removed from ALERT_WEBHOOK_URL before the restart', async () => {
    const db = await databaseForTest();
    const old = await startWebhookReceiver(() => 503);
    const before = await queue(old, { pool: db.pool, retryDelaysMs: [60_000] });
    await before.announce(alert('e1', 'started'));
    await old.waitFor(1);
    before.q.close();
    const other = await startWebhookReceiver();
    const after = await queue(other, { pool: db.pool });
    await after.q.resume();
    await after.q.drain(5_000);
    expect(other.received).toHaveLength(0);
    expect(after.dropped).toEqual(['target_removed']);
    expect(await states(db.pool)).toEqual(['started:dropped:target_removed']);
  });
});
