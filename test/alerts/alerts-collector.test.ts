/**
 * Alerts driven by the real collector against the fake Amber server with a forced price spike, delivered
 * to a loopback webhook receiver: one announcement per event and phase across cycles and a restart, a
 * receiver that fails first gets the alert once, a hanging receiver never holds up a cycle, and collector
 * trouble (stale prices) is announced and resolved.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Alerter } from '../../src/alerts/alerter.ts';
import type { AlertConfig } from '../../src/config/config.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const MINUTE_MS = 60_000;
/** 17:05 NEM time on 2025-11-21; the forced spike runs 18:00–18:30 NEM on the 5-minute site's network. */
const T0 = new Date('2025-11-21T07:05:00Z');
const SPIKE_START = new Date('2025-11-21T08:00:00Z');
const FIVE_MINUTE_SITE = { id: '01HQ7ZV3K8D4N5XWB2C9R6T1AE', nmi: '4103827719' };

const at = (minutesAfterT0: number) => new Date(T0.getTime() + minutesAfterT0 * MINUTE_MS);

let h: Harness;

beforeEach(async () => {
  h = await startHarness({ now: T0 });
  h.fake.forceSpike({ start: SPIKE_START, minutes: 30, magnitude: 400, network: 'Ausgrid' });
});
afterEach(async () => h.close());

function alertConfig(receiver: WebhookReceiver, overrides: Partial<AlertConfig> = {}): AlertConfig {
  return {
    targets: [{ url: receiver.url, format: 'json' }],
    priceAbove: 100,
    priceBelow: null,
    feedInAbove: null,
    spikeStatuses: [],
    lookaheadMinutes: 60,
    staleMinutes: 30,
    failedCycles: 3,
    quietHours: null,
    maxPerHour: 20,
    ...overrides,
  };
}

/** A collector with an alerter observing it, as the daemon wires them. */
function start(
  receiver: WebhookReceiver,
  options: {
    config?: Partial<AlertConfig>;
    timeoutMs?: number;
    retryDelaysMs?: number[];
    logger?: ReturnType<typeof captureLogger>;
    collector?: Parameters<Harness['newCollector']>[0];
  } = {},
) {
  const logger = options.logger ?? captureLogger();
  const dropped: string[] = [];
  const alerter = new Alerter({
    pool: h.pool,
    config: alertConfig(receiver, options.config),
    publicUrl: 'https://amber.example.net',
    logger: logger.logger,
    now: () => h.clock.now,
    delivery: { retryDelaysMs: options.retryDelaysMs ?? [20], timeoutMs: options.timeoutMs ?? 2_000 },
    events: { dropped: (reason) => dropped.push(reason) },
    troubleCheckMs: 20,
  });
  const collector = h.newCollector({ historicalStartDate: '2025-11-20', events: alerter.collectorEvents, ...options.collector });
  return { alerter, collector, logger, dropped };
}

async function cycleAt(minutes: number, parts: ReturnType<typeof start>): Promise<void> {
  h.clock.now = at(minutes);
  await parts.collector.runCycle(AbortSignal.timeout(30_000));
  await parts.collector.settle();
  await parts.alerter.idle();
  await parts.alerter.drain(5_000);
}

describe('price alerts from the collector', () => {
  it('announces a forced spike once when forecast, once when it starts and once when it ends, across a restart', async () => {
    const receiver = await startWebhookReceiver();
    let parts = start(receiver);
    await cycleAt(0, parts);
    await cycleAt(5, parts);
    await cycleAt(25, parts);
    expect(receiver.received.map((r) => r.json()['phase'])).toEqual(['forecast']);

    // A restart: a new process reads what was already announced from the database.
    await parts.alerter.close(1_000);
    parts = start(receiver);
    await cycleAt(40, parts);
    expect(receiver.received).toHaveLength(1);

    await cycleAt(56, parts); // 18:01 NEM: the spike is running
    await cycleAt(70, parts);
    await cycleAt(95, parts); // 18:40 NEM: over
    await cycleAt(100, parts);
    await parts.alerter.close(1_000);

    const bodies = receiver.received.map((r) => r.json());
    expect(bodies.map((b) => b['phase'])).toEqual(['forecast', 'started', 'ended']);
    expect(new Set(bodies.map((b) => b['event'])).size).toBe(1);
    for (const body of bodies) {
      expect(body).toMatchObject({
        type: 'amber-collector.alert',
        version: 1,
        kind: 'price_above',
        site: FIVE_MINUTE_SITE,
        channel: 'general',
        dashboardUrl: `https://amber.example.net/?site=${FIVE_MINUTE_SITE.id}`,
      });
    }
    const [forecast, started, ended] = bodies as Array<Record<string, any>>;
    expect(forecast!['window']['start']).toBe('2025-11-21T18:00:00+10:00');
    expect(forecast!['price']['forecast']).toBeGreaterThan(100);
    expect(forecast!['intervals'][0]).toMatchObject({ start: '2025-11-21T18:00:00+10:00', type: 'ForecastInterval' });
    expect(started!['intervals'][0]).toMatchObject({ start: '2025-11-21T18:00:00+10:00', type: 'CurrentInterval' });
    // The end compares the forecast with the actual prices the collector stored for the spike's intervals.
    expect(ended!['window']).toEqual({ start: '2025-11-21T18:00:00+10:00', end: '2025-11-21T18:30:00+10:00' });
    expect(ended!['intervals']).toHaveLength(6);
    expect(ended!['intervals'].every((i: { type: string }) => i.type === 'ActualInterval')).toBe(true);
    expect(ended!['price']['actual']).toBeGreaterThan(100);
    expect(ended!['price']['actualMean']).toBeGreaterThan(100);
    expect(ended!['text']).toMatch(/Forecast peak: .* Actual peak: /);
  });

  it('keeps a "started" held for the quiet hours through a restart and delivers it when they end, before the "over"', async () => {
    const receiver = await startWebhookReceiver();
    // Quiet from 17:00 to 18:10 NEM: the spike is forecast and starts (18:00) inside them.
    const quiet = { priceAbove: 100, quietHours: { from: 17 * 60, to: 18 * 60 + 10 } };
    let parts = start(receiver, { config: quiet });
    await cycleAt(0, parts);
    await cycleAt(56, parts); // 18:01 NEM: started, held
    expect(receiver.received).toHaveLength(0);
    await parts.alerter.close(1_000); // SIGTERM in the quiet hours
    expect(parts.dropped).toEqual([]);

    h.clock.now = at(70); // 18:15 NEM: a new process, after the quiet hours
    parts = start(receiver, { config: quiet });
    parts.alerter.start();
    await parts.alerter.idle();
    await parts.alerter.drain(5_000);
    await cycleAt(75, parts);
    await cycleAt(95, parts); // 18:40 NEM: over
    await parts.alerter.close(1_000);
    expect(receiver.received.map((r) => r.json()['phase'])).toEqual(['started', 'ended']);
    expect(new Set(receiver.received.map((r) => r.json()['event'])).size).toBe(1);
    expect(parts.dropped).toEqual([]);
  });

  it('carries a delivery retrying at a restart on in the next process, once', async () => {
    const receiver = await startWebhookReceiver((n) => (n === 1 ? 503 : 200));
    let parts = start(receiver, { retryDelaysMs: [60_000] });
    await cycleAt(0, parts); // the forecast: refused once, its retry a minute away
    await parts.alerter.close(100);
    expect(receiver.received).toHaveLength(1);

    h.clock.now = at(5);
    parts = start(receiver);
    parts.alerter.start();
    await parts.alerter.idle();
    await parts.alerter.drain(5_000);
    await cycleAt(10, parts);
    await parts.alerter.close(1_000);
    expect(receiver.accepted().map((r) => r.json()['id'])).toEqual([receiver.received[0]!.json()['id']]);
    expect(receiver.received).toHaveLength(2);
  });

  it('says when an event actually ended, not when the forecast said it would', async () => {
    const receiver = await startWebhookReceiver();
    h.fake.forceSpike({ start: SPIKE_START, minutes: 60, magnitude: 400, network: 'Ausgrid' }); // forecast 18:00–19:00
    const parts = start(receiver);
    await cycleAt(0, parts);
    await cycleAt(56, parts); // 18:01 NEM: started, forecast to run until 19:00
    h.fake.forceSpike({ start: SPIKE_START, minutes: 20, magnitude: 400, network: 'Ausgrid' }); // it stops at 18:20
    await cycleAt(81, parts); // 18:26 NEM
    await parts.alerter.close(1_000);
    const bodies = receiver.received.map((r) => r.json()) as Array<Record<string, any>>;
    expect(bodies.map((b) => b['phase'])).toEqual(['forecast', 'started', 'ended']);
    expect(bodies[1]!['window']).toEqual({ start: '2025-11-21T18:00:00+10:00', end: '2025-11-21T19:00:00+10:00' });
    const ended = bodies[2]!;
    expect(ended['window']).toEqual({ start: '2025-11-21T18:00:00+10:00', end: '2025-11-21T18:20:00+10:00' });
    expect(ended['title']).toContain('18:00–18:20');
    expect(ended['intervals']).toHaveLength(4);
    expect(ended['price']['actualMean']).toBeGreaterThan(100);
  });

  it('announces Amber\'s own spike flag for the forced spike', async () => {
    const receiver = await startWebhookReceiver();
    const parts = start(receiver, { config: { priceAbove: null, spikeStatuses: ['spike'] } });
    await cycleAt(0, parts);
    await cycleAt(5, parts);
    await parts.alerter.close(1_000);
    expect(receiver.received.map((r) => r.json())).toEqual([
      expect.objectContaining({
        kind: 'spike',
        phase: 'forecast',
        title: 'Price spike forecast: Fri 21 Nov 18:00–18:30 NEM (NMI 4103827719)',
        window: { start: '2025-11-21T18:00:00+10:00', end: '2025-11-21T18:30:00+10:00' },
      }),
    ]);
  });

  it('delivers to a receiver that fails twice and then answers exactly once', async () => {
    const receiver = await startWebhookReceiver((n) => (n <= 2 ? 503 : 200));
    const parts = start(receiver);
    await cycleAt(0, parts);
    await cycleAt(5, parts);
    await parts.alerter.close(1_000);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.accepted().map((r) => r.json()['phase'])).toEqual(['forecast']);
    expect(new Set(receiver.received.map((r) => r.json()['id'])).size).toBe(1);
    expect(parts.logger.lines.filter((l) => l['message'] === 'alert delivery failed; retrying')).toHaveLength(2);
  });

  it('does not hold up a cycle while a receiver hangs, and never logs the webhook secret', async () => {
    const receiver = await startWebhookReceiver(() => 'hang');
    const parts = start(receiver, { timeoutMs: 300 });
    h.clock.now = at(0);
    await parts.collector.runCycle(AbortSignal.timeout(30_000));
    await parts.alerter.idle();
    await receiver.waitFor(1);
    // The delivery is hanging; the next cycles run and finish all the same.
    for (const minutes of [5, 10]) {
      h.clock.now = at(minutes);
      const summary = await parts.collector.runCycle(AbortSignal.timeout(30_000));
      expect(summary).not.toBeNull();
    }
    await parts.collector.settle();
    await receiver.waitFor(2);
    await parts.alerter.close(50);
    // Each attempt was abandoned at its deadline and tried again; none was answered.
    expect(receiver.accepted()).toHaveLength(0);
    expect(parts.logger.lines.some((l) => l['message'] === 'alert delivery failed; retrying' && l['detail'] === 'no answer within 300 ms')).toBe(true);
    const logged = JSON.stringify(parts.logger.lines);
    expect(logged).not.toContain(receiver.secret);
    expect(logged).toContain('http://127.0.0.1');
  });
});

describe('collector trouble', () => {
  it('announces stale prices once, even during quiet hours, and their recovery once', async () => {
    const receiver = await startWebhookReceiver();
    // Quiet all day long: price alerts wait, trouble does not.
    const parts = start(receiver, { config: { priceAbove: null, staleMinutes: 30, quietHours: { from: 0, to: 1439 } } });
    await cycleAt(0, parts);
    expect(receiver.received).toHaveLength(0);
    parts.alerter.start();
    h.clock.now = at(31);
    await receiver.waitFor(2);
    await new Promise((r) => setTimeout(r, 100)); // several more checks: still one announcement per site
    await parts.alerter.idle();
    expect(receiver.received.map((r) => [r.json()['kind'], r.json()['phase']])).toEqual([
      ['stale', 'opened'],
      ['stale', 'opened'],
    ]);
    expect(receiver.received.map((r) => r.json())).toContainEqual(expect.objectContaining({ severity: 'critical', site: FIVE_MINUTE_SITE, channel: 'price' }));

    await cycleAt(32, parts);
    await receiver.waitFor(4);
    await parts.alerter.close(1_000);
    // Both sites went stale and both recovered.
    const phases = receiver.received.map((r) => `${String((r.json()['site'] as { id: string }).id)}:${String(r.json()['phase'])}`).sort();
    expect(phases).toEqual([
      `${FIVE_MINUTE_SITE.id}:opened`,
      `${FIVE_MINUTE_SITE.id}:resolved`,
      `01JB2WXYZ3M4N5P6Q7R8S9T0VA:opened`,
      `01JB2WXYZ3M4N5P6Q7R8S9T0VA:resolved`,
    ]);
  });

  it('announces a stream failing several cycles in a row once, and its recovery', async () => {
    const receiver = await startWebhookReceiver();
    const parts = start(receiver, { config: { priceAbove: null, failedCycles: 3 } });
    await cycleAt(0, parts);
    for (const minutes of [5, 10, 15, 20]) {
      h.fake.inject({ kind: 'status', status: 500, endpoint: 'prices', siteId: FIVE_MINUTE_SITE.id, times: 20 });
      await cycleAt(minutes, parts);
      h.fake.clearFaults();
    }
    await cycleAt(25, parts);
    await parts.alerter.close(1_000);
    const bodies = receiver.received.map((r) => r.json());
    expect(bodies.map((b) => `${String(b['kind'])}:${String(b['phase'])}:${String(b['channel'])}`)).toEqual([
      'stream_failing:opened:price',
      'stream_failing:resolved:price',
    ]);
    expect(bodies[0]!['text']).toMatch(/failed 3 cycles in a row/);
  });

  it('announces days gap repair cannot close, once, and when they are complete at last', async () => {
    const receiver = await startWebhookReceiver();
    // Usage of 2025-11-12 is missing at "Amber" every time it is asked for, until the faults are cleared.
    const halfHourSite = '01JB2WXYZ3M4N5P6Q7R8S9T0VA';
    h.fake.inject({ kind: 'dropIntervals', fraction: 0, days: ['2025-11-12'], endpoint: 'usage', siteId: halfHourSite, times: 1_000 });
    const parts = start(receiver, {
      config: { priceAbove: null },
      collector: { historicalStartDate: '2025-11-11', siteIds: [halfHourSite], repairPolicy: { callsPerCycle: 2, recheckAfterMs: [0] } },
    });
    await parts.collector.discoverSites(AbortSignal.timeout(10_000));
    await parts.collector.backfill(AbortSignal.timeout(60_000));
    // Repair re-fetches the day every cycle (no back-off here) and gives up after 4 fruitless checks.
    for (let minutes = 0; minutes <= 40 && receiver.received.length === 0; minutes += 5) await cycleAt(minutes, parts);
    await cycleAt(45, parts);
    const opened = receiver.received.map((r) => r.json());
    expect(opened).toEqual([expect.objectContaining({ kind: 'gaps_unrepaired', phase: 'opened', channel: 'usage', site: { id: halfHourSite, nmi: '6305118822' } })]);
    expect(opened[0]!['text']).toContain('1 day(s) of usage (2025-11-12 to 2025-11-12)');

    h.fake.clearFaults();
    await cycleAt(50, parts); // the repair fills the day
    await cycleAt(55, parts); // and the next evaluation sees it
    await parts.alerter.close(1_000);
    expect(receiver.received.map((r) => `${String(r.json()['kind'])}:${String(r.json()['phase'])}`)).toEqual(['gaps_unrepaired:opened', 'gaps_unrepaired:resolved']);
  });
});
