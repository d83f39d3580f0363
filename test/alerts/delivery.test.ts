/**
 * The delivery queue against a loopback receiver: the hourly cap and quiet hours hold back price alerts
 * but never collector trouble, quiet hours release only the newest phase of each event, a receiver's
 * 4xx is final while its Retry-After is honoured.
 */
import { describe, expect, it } from 'vitest';
import { DeliveryQueue, type DeliveryOptions } from '../../src/alerts/delivery.ts';
import { minimalAlert } from '../helpers/alerts.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const alert = minimalAlert;

function queue(receiver: WebhookReceiver, options: Partial<DeliveryOptions> = {}) {
  const dropped: string[] = [];
  const failed: string[] = [];
  const q = new DeliveryQueue({
    targets: [{ url: receiver.url, format: 'json' }],
    maxPerHour: 20,
    quietHours: null,
    logger: captureLogger().logger,
    retryDelaysMs: [10],
    timeoutMs: 2_000,
    events: { dropped: (reason) => dropped.push(reason), failed: (format) => failed.push(format) },
    ...options,
  });
  return { q, dropped, failed };
}

const ids = (receiver: WebhookReceiver) => receiver.received.map((r) => r.json()['id']);

describe('alert delivery', () => {
  it('drops price alerts over ALERT_MAX_PER_HOUR, never collector trouble, and counts the hour from the clock', async () => {
    const receiver = await startWebhookReceiver();
    const clock = { now: new Date('2025-11-21T08:00:00Z') };
    const { q, dropped } = queue(receiver, { maxPerHour: 2, now: () => clock.now });
    q.enqueue(alert('e1', 'forecast'));
    q.enqueue(alert('e2', 'forecast'));
    q.enqueue(alert('e3', 'forecast'));
    q.enqueue(alert('t1', 'opened', 'stale'));
    await q.drain(5_000);
    expect(ids(receiver).sort()).toEqual(['e1:forecast', 'e2:forecast', 't1:opened']);
    expect(dropped).toEqual(['hourly_cap']);
    clock.now = new Date('2025-11-21T09:00:01Z');
    q.enqueue(alert('e4', 'forecast'));
    await q.drain(5_000);
    expect(ids(receiver)).toContain('e4:forecast');
    q.close();
  });

  it('holds price alerts in quiet hours, sends trouble at once, and releases the newest phase of each event at the end', async () => {
    const receiver = await startWebhookReceiver();
    // 06:59:59.950 NEM, quiet until 07:00: the release comes 50 ms later.
    const clock = { now: new Date('2025-11-21T20:59:59.950Z') };
    const { q } = queue(receiver, { quietHours: { from: 22 * 60, to: 7 * 60 }, now: () => clock.now });
    q.enqueue(alert('e1', 'forecast'));
    q.enqueue(alert('e1', 'started'));
    q.enqueue(alert('e2', 'forecast'));
    q.enqueue(alert('t1', 'opened', 'stale'));
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
    const { q, dropped, failed } = queue(refusing);
    q.enqueue(alert('e1', 'forecast'));
    await q.drain(5_000);
    expect(refusing.received).toHaveLength(1);
    expect(dropped).toEqual(['gave_up']);
    expect(failed).toEqual(['json']);

    const limited = await startWebhookReceiver((n) => (n === 1 ? 429 : 200));
    const second = queue(limited);
    // The receiver's Retry-After of 0.3 s beats the 10 ms pause.
    limited.retryAfterSeconds = 0.3;
    const started = performance.now();
    second.q.enqueue(alert('e2', 'forecast'));
    await second.q.drain(5_000);
    expect(limited.accepted()).toHaveLength(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });
});
