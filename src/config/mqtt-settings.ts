/**
 * The MQTT settings: where the live feed (prices, forecast, collector health) is published, and whether Home
 * Assistant discovery configs go with it. MQTT_URL unset turns the whole feature off.
 */
import { problem, quote, type Problem } from './fields.ts';

export interface MqttConfig {
  /** mqtt://host[:port] or mqtts://host[:port], without credentials. */
  url: string;
  username: string | null;
  /** Never logged. */
  password: string | null;
  /** Every state topic starts with it (`amber_collector/<site>/general/price`). */
  topicPrefix: string;
  /** Home Assistant's discovery prefix; null: no discovery configs are published. */
  discoveryPrefix: string | null;
}

export function parseMqttUrl(raw: string): string | Problem {
  const url = URL.parse(raw);
  const shown = raw.includes('@') ? ' (the value is not shown: it may contain credentials)' : `, got ${quote(raw)}`;
  if (url === null || (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') || url.hostname === '') {
    return problem(`expected an mqtt:// or mqtts:// URL such as mqtt://homeassistant.local:1883${shown}`);
  }
  if (url.username !== '' || url.password !== '') {
    return problem('must not contain a user name or password (the value is not shown): set MQTT_USERNAME and MQTT_PASSWORD');
  }
  if (url.pathname !== '' && url.pathname !== '/') return problem(`must name only the broker, with no path${shown}`);
  return `${url.protocol}//${url.host}`;
}

/**
 * A topic prefix: one or more levels of letters, digits, `_` and `-`. MQTT allows more, but wildcards (`+`, `#`),
 * empty levels and spaces in a prefix only make topics nobody can subscribe to cleanly.
 */
export function parseTopicPrefix(raw: string): string | Problem {
  return /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(raw)
    ? raw
    : problem(`expected topic levels of letters, digits, _ and - separated by / (no wildcards, spaces or empty levels), got ${quote(raw)}`);
}

/** The MQTT part of the configuration, or null when MQTT_URL is unset. */
export function mqttConfig(env: {
  MQTT_URL: string | null;
  MQTT_USERNAME: string | null;
  MQTT_PASSWORD: string | null;
  MQTT_TOPIC_PREFIX: string;
  MQTT_DISCOVERY_PREFIX: string | null;
}): MqttConfig | null {
  if (env.MQTT_URL === null) return null;
  return {
    url: env.MQTT_URL,
    username: env.MQTT_USERNAME,
    password: env.MQTT_PASSWORD,
    topicPrefix: env.MQTT_TOPIC_PREFIX,
    discoveryPrefix: env.MQTT_DISCOVERY_PREFIX,
  };
}
