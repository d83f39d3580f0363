/**
 * The one MQTT connection of the daemon (MQTT.js 5). It keeps the last payload of every retained topic, so after
 * any (re)connect, and whenever Home Assistant announces itself (`online` on its status topic, after a restart),
 * the discovery configs and the last states are published again: a broker that lost its retained messages, or a
 * Home Assistant that started after us, sees everything within a moment.
 *
 * Never in collection's way: publishing only writes to the socket (nothing is queued while disconnected, so a
 * broker down for days costs no memory), and reconnects back off from 1 s to a minute. The broker sends
 * `offline` on the availability topic if this process dies (the will); a clean stop publishes it itself.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/mqtt-settings.ts';
import type { Logger } from '../logger.ts';
import type { Topics } from './topics.ts';

/** CONNACK codes of a refused login: MQTT 3.1.1 (4 bad user name or password, 5 not authorised) and 5 (134, 135). */
const LOGIN_REFUSED = new Set([4, 5, 134, 135]);

export interface MqttStatus {
  /** The broker, as configured (it never holds credentials). */
  broker: string;
  connected: boolean;
  /** When the last state was published, ISO 8601; null before the first. */
  lastPublishAt: string | null;
  /** The last connection problem, or null once connected again. */
  lastError: string | null;
  loginRefused: boolean;
}

export interface MqttLinkEvents {
  /** Connected (true) or lost (false). */
  connection?(connected: boolean): void;
  published?(messages: number): void;
  error?(reason: 'login_refused' | 'connection'): void;
}

export interface MqttLinkOptions {
  config: MqttConfig;
  topics: Topics;
  logger: Logger;
  events?: MqttLinkEvents;
  /** First and longest pause between reconnects; default 1 s and 60 s. */
  backoffMs?: { initial: number; max: number };
  /** Connection attempt timeout; default 10 s. */
  connectTimeoutMs?: number;
  now?: () => Date;
}

export class MqttLink {
  private readonly options: MqttLinkOptions;
  private readonly log: Logger;
  private readonly now: () => Date;
  /** Retained discovery configs and states, by topic: what a (re)connect publishes again. */
  private readonly configs = new Map<string, string>();
  private readonly states = new Map<string, string>();
  private client: MqttClient | null = null;
  private stopping = false;
  private everConnected = false;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly state: MqttStatus;

  constructor(options: MqttLinkOptions) {
    this.options = options;
    this.log = options.logger;
    this.now = options.now ?? (() => new Date());
    this.retryMs = this.backoff.initial;
    this.state = { broker: options.config.url, connected: false, lastPublishAt: null, lastError: null, loginRefused: false };
  }

  private get backoff(): { initial: number; max: number } {
    return this.options.backoffMs ?? { initial: 1_000, max: 60_000 };
  }

  status(): MqttStatus {
    return { ...this.state };
  }

  start(): void {
    if (this.client) return;
    const { config, topics } = this.options;
    const clientOptions: IClientOptions = {
      clientId: `amber_collector_${Math.random().toString(16).slice(2, 10)}`,
      // Reconnects are ours (with back-off), including after a refused login, which MQTT.js would not retry.
      reconnectPeriod: 0,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      clean: true,
      will: { topic: topics.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(config.username === null ? {} : { username: config.username }),
      ...(config.password === null ? {} : { password: config.password }),
    };
    const client = connect(config.url, clientOptions);
    this.client = client;
    client.on('connect', () => this.connected(client));
    client.on('message', (topic, payload) => {
      if (topic === topics.homeAssistantStatus && payload.toString() === 'online') {
        this.log.info('Home Assistant came online: publishing the discovery configs and states again');
        this.publishAll(client);
      }
    });
    client.on('error', (err) => this.failed(err));
    client.on('close', () => this.closed(client));
  }

  /** Replaces the discovery configs (topic → JSON), publishing what changed. */
  setDiscovery(configs: ReadonlyMap<string, string>): void {
    const changed = new Map<string, string>();
    for (const [topic, payload] of configs) {
      if (this.configs.get(topic) !== payload) changed.set(topic, payload);
      this.configs.set(topic, payload);
    }
    if (this.client && this.state.connected) this.send(this.client, changed);
  }

  /** Publishes every state given (retained), whether or not it changed: each cycle's "at least every cycle". */
  publish(states: ReadonlyMap<string, string>): void {
    for (const [topic, payload] of states) this.states.set(topic, payload);
    if (this.client && this.state.connected) this.send(this.client, states);
  }

  /** Publishes `offline`, then closes the connection (at most `timeoutMs`). */
  async stop(timeoutMs = 3_000): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    if (!client) return;
    const done = (async () => {
      if (this.state.connected) await client.publishAsync(this.options.topics.availability, 'offline', { qos: 1, retain: true }).catch(() => {});
      await client.endAsync();
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (this.state.connected || !client.disconnected) client.end(true);
    this.state.connected = false;
  }

  private connected(client: MqttClient): void {
    const again = this.everConnected;
    this.everConnected = true;
    this.state.connected = true;
    this.state.lastError = null;
    this.state.loginRefused = false;
    this.retryMs = this.backoff.initial;
    this.options.events?.connection?.(true);
    this.log.info({ broker: this.state.broker }, again ? 'connected to the MQTT broker again' : 'connected to the MQTT broker');
    const birth = this.options.topics.homeAssistantStatus;
    if (birth) client.subscribe(birth, { qos: 1 });
    this.send(client, new Map([[this.options.topics.availability, 'online']]));
    this.publishAll(client);
  }

  private publishAll(client: MqttClient): void {
    this.send(client, this.configs);
    this.send(client, this.states);
  }

  private send(client: MqttClient, messages: ReadonlyMap<string, string>): void {
    if (messages.size === 0) return;
    for (const [topic, payload] of messages) client.publish(topic, payload, { qos: 1, retain: true });
    this.state.lastPublishAt = this.now().toISOString();
    this.options.events?.published?.(messages.size);
  }

  private failed(err: Error & { code?: unknown }): void {
    const refused = typeof err.code === 'number' && LOGIN_REFUSED.has(err.code);
    // Errors from MQTT.js name the broker's answer or the socket's, never the password.
    const message = refused ? `the broker refused the login (${err.message}): check MQTT_USERNAME and MQTT_PASSWORD` : err.message;
    if (message !== this.state.lastError) {
      this.log.warn({ broker: this.state.broker, err: { message: err.message, code: err.code } }, refused ? 'MQTT login refused; collection goes on' : 'MQTT connection problem; collection goes on');
    }
    this.state.lastError = message;
    this.state.loginRefused = refused;
    this.options.events?.error?.(refused ? 'login_refused' : 'connection');
  }

  private closed(client: MqttClient): void {
    if (this.state.connected) {
      this.state.connected = false;
      this.options.events?.connection?.(false);
      this.state.lastError ??= 'connection closed';
      this.log.warn({ broker: this.state.broker }, 'lost the MQTT broker; reconnecting');
    }
    if (this.stopping || this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.backoff.max);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopping) client.reconnect();
    }, delay);
    this.retryTimer.unref();
  }
}
