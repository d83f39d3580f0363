/**
 * The MQTT feed, end to end: the real daemon collects from the fake Amber server into a real PostgreSQL and
 * publishes to a real broker (Mosquitto, or Aedes where it is not installed: see helpers/mqtt-broker.ts). Checked
 * as Home Assistant would see it (helpers in home-assistant-mqtt.ts reproduce its discovery rules): one valid
 * device per active site, values equal to `/api/prices/current`, configs again on Home Assistant's birth
 * message, everything back after a broker restart, `offline` on a clean stop and through the will on SIGKILL,
 * and a refused login that leaves collection running and says why in status and metrics.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { describe, expect, it, onTestFinished } from 'vitest';
import { judge, renderStatus } from '../../src/commands/status.ts';
import { readIntegrationStatuses } from '../../src/db/integration-status.ts';
import { buildStatusReport } from '../../src/query/collection-status.ts';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { daemonConfigFor, startDaemonForTest } from '../helpers/daemon.ts';
import { databaseForTest } from '../helpers/database.ts';
import { fakeAmberForTest } from '../helpers/fake-amber.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';
import { brokerForTest, recordTopics, type Recorder, type TestBroker } from '../helpers/mqtt-broker.ts';
import { discoverDevice } from './home-assistant-mqtt.ts';

const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE';
const THIRTY_MINUTE_SITE = '01JB2WXYZ3M4N5P6Q7R8S9T0VA';
const EVERY_2_SECONDS = '*/2 * * * * *';
const STATE_TOPIC = (site: string, rest: string) => `amber_collector/${site.toLowerCase()}/${rest}`;

async function collectingDaemon(broker: TestBroker, extra: Record<string, string> = {}) {
  const fake = await fakeAmberForTest();
  const db = await databaseForTest();
  const config = daemonConfigFor(fake, db.url, { HISTORICAL_START_DATE: addDays(nemToday(new Date()), -2), MQTT_URL: broker.url, ...extra });
  const daemon = await startDaemonForTest(config, { cycleCron: EVERY_2_SECONDS });
  return { fake, db, daemon };
}

function configsOf(recorder: Recorder): Map<string, string> {
  const configs = new Map<string, string>();
  for (const m of recorder.messages) if (m.topic.startsWith('homeassistant/device/')) configs.set(m.topic, m.payload);
  return configs;
}

describe('MQTT feed with Home Assistant discovery', () => {
  it('shows one valid device per active site, with values equal to /api/prices/current, in $/kWh', async () => {
    const broker = await brokerForTest();
    const recorder = await recordTopics(broker, ['amber_collector/#', 'homeassistant/#']);
    const { daemon } = await collectingDaemon(broker);
    const health = STATE_TOPIC(FIVE_MINUTE_SITE, 'health');
    await recorder.waitFor(() => recorder.last(health) !== undefined && configsOf(recorder).size === 2, 60_000);

    // One device per active site (the closed and the pending fake sites have none), every config valid.
    const configs = configsOf(recorder);
    expect([...configs.keys()].sort()).toEqual([
      `homeassistant/device/amber_collector_${FIVE_MINUTE_SITE.toLowerCase()}/config`,
      `homeassistant/device/amber_collector_${THIRTY_MINUTE_SITE.toLowerCase()}/config`,
    ]);
    const entities = [...configs].flatMap(([topic, payload]) => discoverDevice('homeassistant', topic, payload));
    expect(new Set(entities.map((e) => e.uniqueId)).size).toBe(entities.length);
    for (const entity of entities) expect(entity.config['availability_topic']).toBe('amber_collector/status');
    const prices = entities.filter((e) => e.config['unit_of_measurement'] === '$/kWh');
    // 3 channels on the 5-minute site and 1 on the 30-minute one, 4 price sensors each.
    expect(prices).toHaveLength(16);
    for (const price of prices) expect(price.config).toMatchObject({ state_class: 'measurement' });
    for (const price of prices) expect(price.config['device_class']).toBeUndefined();
    expect(entities.filter((e) => e.config['device_class'] === 'monetary').map((e) => e.config)).toEqual([
      expect.objectContaining({ unit_of_measurement: 'AUD', state_class: 'total' }),
      expect.objectContaining({ unit_of_measurement: 'AUD', state_class: 'total' }),
    ]);
    expect(recorder.messages.find((m) => m.topic === 'amber_collector/status')?.payload).toBe('online');

    // Published values against the read API, retried across a cycle in case an interval boundary fell in between.
    let mismatch = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      const api = (await (await fetch(`http://127.0.0.1:${daemon.port}/api/prices/current?site=${FIVE_MINUTE_SITE}`)).json()) as {
        channels: Array<{ channelType: string; current: { perKwh: number; spikeStatus: string } | null; latestActual: { perKwh: number } | null }>;
        forecast: Array<{ channelType: string; perKwh: number; start: string }>;
      };
      const slug = { general: 'general', controlledLoad: 'controlled_load', feedIn: 'feed_in' } as Record<string, string>;
      const expected = api.channels.flatMap((c) => {
        const sign = c.channelType === 'feedIn' ? -1 : 1;
        const next = api.forecast.find((f) => f.channelType === c.channelType);
        return [
          [`${slug[c.channelType]}/price`, (sign * c.current!.perKwh) / 100],
          [`${slug[c.channelType]}/next_price`, (sign * next!.perKwh) / 100],
          [`${slug[c.channelType]}/settled_price`, (sign * c.latestActual!.perKwh) / 100],
        ] as const;
      });
      mismatch = expected
        .filter(([topic, value]) => Math.abs(Number(recorder.last(STATE_TOPIC(FIVE_MINUTE_SITE, topic))) - value) > 1e-6)
        .map(([topic, value]) => `${topic}: ${recorder.last(STATE_TOPIC(FIVE_MINUTE_SITE, topic))} != ${value}`)
        .join('; ');
      if (mismatch === '') break;
      const seen = recorder.messages.length;
      await recorder.waitFor(() => recorder.messages.length > seen + 10);
    }
    expect(mismatch).toBe('');
    expect(recorder.last(STATE_TOPIC(FIVE_MINUTE_SITE, 'general/spike_status'))).toMatch(/^(none|potential|spike)$/);

    // The forecast: attributes under Home Assistant's 16,384-byte limit, the whole 48-hour horizon on its own topic.
    const attributes = recorder.last(STATE_TOPIC(FIVE_MINUTE_SITE, 'general/forecast'))!;
    const full = JSON.parse(recorder.last(STATE_TOPIC(FIVE_MINUTE_SITE, 'general/forecast_full'))!) as { forecasts: Array<{ start_time: string }> };
    expect(Buffer.byteLength(attributes)).toBeLessThan(16_384);
    const shown = JSON.parse(attributes) as { forecasts: Array<Record<string, unknown>>; horizon_intervals: number };
    expect(shown.horizon_intervals).toBe(full.forecasts.length);
    expect(full.forecasts.length).toBeGreaterThan(shown.forecasts.length);
    expect(shown.forecasts[0]).toEqual(expect.objectContaining({ start_time: expect.any(String), end_time: expect.any(String), per_kwh: expect.any(Number), spot_per_kwh: expect.any(Number) }));
    expect(JSON.parse(recorder.last(health)!)).toEqual({ last_successful_cycle: expect.stringMatching(/\+10:00$/), streams_failing: 0, backfill_percent: expect.any(Number) });

    // A clean stop says offline.
    await daemon.stop();
    expect(recorder.last('amber_collector/status')).toBe('offline');
  });

  it("publishes every config again on Home Assistant's birth message, and everything after a broker restart", async () => {
    const broker = await brokerForTest();
    const recorder = await recordTopics(broker, ['homeassistant/device/+/config']);
    const { db } = await collectingDaemon(broker);
    await recorder.waitFor(() => configsOf(recorder).size === 2, 60_000);

    const before = recorder.messages.length;
    await recorder.client.publishAsync('homeassistant/status', 'online');
    await recorder.waitFor(() => recorder.messages.slice(before).filter((m) => m.topic.startsWith('homeassistant/device/')).length >= 2);

    // A broker without persistence forgets every retained message; once the daemon has reconnected, a newcomer
    // subscribing still finds the device, its availability and its states, all retained.
    await broker.restart();
    const price = STATE_TOPIC(FIVE_MINUTE_SITE, 'general/price');
    const wanted = (m: { topic: string; retain: boolean }) => m.retain && (m.topic.startsWith('homeassistant/device/') || m.topic === 'amber_collector/status' || m.topic === price);
    const deadline = Date.now() + 30_000;
    let retained: string[] = [];
    while (retained.length < 4 && Date.now() < deadline) {
      const late = await recordTopics(broker, ['homeassistant/device/+/config', 'amber_collector/#']);
      await new Promise((resolve) => setTimeout(resolve, 300));
      retained = [...new Set(late.messages.filter(wanted).map((m) => m.topic))];
      await late.client.endAsync();
    }
    expect(retained.sort()).toEqual([
      'amber_collector/status',
      price,
      `homeassistant/device/amber_collector_${FIVE_MINUTE_SITE.toLowerCase()}/config`,
      `homeassistant/device/amber_collector_${THIRTY_MINUTE_SITE.toLowerCase()}/config`,
    ].sort());
    const [mqtt] = await readIntegrationStatuses(db.pool);
    expect(mqtt).toMatchObject({ integration: 'mqtt', state: { connected: true, broker: broker.url } });
  });

  it('a refused login: collection goes on, and the log, status and /metrics say why', async () => {
    const broker = await brokerForTest({ users: { homeassistant: 'right-password' } });
    const { db, daemon } = await collectingDaemon(broker, { MQTT_USERNAME: 'homeassistant', MQTT_PASSWORD: 'wrong-password' });
    await daemon.log.waitFor('MQTT login refused; collection goes on');
    await daemon.log.waitFor('backfill finished', 60_000);
    const metrics = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
    expect(metrics).toMatch(/amber_collector_mqtt_errors_total\{reason="login_refused"\} [1-9]/);
    expect(metrics).toMatch(/amber_collector_mqtt_connected 0/);
    const status = (await (await fetch(`http://127.0.0.1:${daemon.port}/api/status`)).json()) as { integrations: Array<{ state: Record<string, unknown> }> };
    expect(status.integrations[0]?.state).toMatchObject({ connected: false, loginRefused: true, lastError: expect.stringContaining('MQTT_PASSWORD') });
    const report = await buildStatusReport(db.pool, DEFAULT_STATUS_SETTINGS, new Date());
    expect(renderStatus(report, judge(report, new Date(), { ignoreUnavailable: false }), new Date())).toMatch(
      new RegExp(`^MQTT: NOT connected to ${broker.url} as of .*the broker refused the login.*check MQTT_USERNAME and MQTT_PASSWORD$`, 'm'),
    );
    const stored = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM price_data');
    expect(stored.rows[0]!.n).toBeGreaterThan(0);
    expect(JSON.stringify(daemon.log.lines)).not.toContain('wrong-password');
  });

  it('SIGKILL of the daemon process delivers offline through the will', async () => {
    const broker = await brokerForTest();
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const recorder = await recordTopics(broker, ['amber_collector/status']);
    const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, [cli, 'run'], {
      cwd: tmpdir(),
      env: {
        PATH: process.env['PATH'] ?? '',
        AMBER_API_KEY: fake.apiKey,
        AMBER_API_BASE_URL: fake.url,
        DATABASE_URL: db.url,
        HISTORICAL_START_DATE: addDays(nemToday(new Date()), -1),
        AMBER_RATE_LIMIT: '1000;w=1',
        HTTP_PORT: '0',
        MQTT_URL: broker.url,
      },
      stdio: 'ignore',
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await recorder.waitFor(() => recorder.last('amber_collector/status') === 'online', 30_000);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await recorder.waitFor(() => recorder.last('amber_collector/status') === 'offline', 10_000);
  });
});
