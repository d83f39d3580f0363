/**
 * The MQTT feed's Prometheus series, registered on the daemon's own registry (see metrics.ts): whether the broker
 * is connected, what was published, and why connections failed.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MqttLinkEvents } from './connection.ts';

export function mqttMetrics(registry: Registry, now: () => Date = () => new Date()): MqttLinkEvents {
  const registers = [registry];
  const connected = new Gauge({ name: 'amber_collector_mqtt_connected', help: '1 while the MQTT broker is connected, else 0.', registers });
  const published = new Counter({ name: 'amber_collector_mqtt_messages_published_total', help: 'Retained MQTT messages published (states and discovery configs).', registers });
  const lastPublish = new Gauge({ name: 'amber_collector_mqtt_last_publish_timestamp_seconds', help: 'When the last MQTT message was published (Unix seconds).', registers });
  const errors = new Counter({
    name: 'amber_collector_mqtt_errors_total',
    help: 'MQTT connection problems, by reason: login_refused (check MQTT_USERNAME and MQTT_PASSWORD) or connection.',
    labelNames: ['reason'],
    registers,
  });
  connected.set(0);
  return {
    connection: (up) => connected.set(up ? 1 : 0),
    published: (messages) => {
      published.inc(messages);
      lastPublish.set(now().getTime() / 1000);
    },
    error: (reason) => errors.inc({ reason }),
  };
}
