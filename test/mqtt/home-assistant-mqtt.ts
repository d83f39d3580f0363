/**
 * A stand-in for Home Assistant's MQTT discovery, reproducing the rules of its source
 * (`homeassistant/components/mqtt/{discovery,schemas,abbreviations,sensor}.py` and `sensor/const.py`) that a
 * device-based config must pass, since Home Assistant itself cannot be installed where the tests run:
 * - the topic is `<prefix>/device/<object_id>/config`, object id `[a-zA-Z0-9_-]+`;
 * - abbreviations are expanded in the root, the device and the origin (only the ones listed here);
 * - `device` needs an identifier, `origin` a name, every component a supported `platform`; any failure drops the
 *   whole device (so one bad component hides every entity);
 * - options shared with the device (availability, state topic) apply to every component;
 * - sensors: `state_topic` a topic without wildcards, `unique_id` present and unique, `device_class` and
 *   `state_class` compatible (monetary → total only; enum and timestamp take no state class or unit; enum needs
 *   options), `last_reset_value_template` only with `state_class: total`.
 * It returns the entities Home Assistant would create, with their settings expanded.
 */

const ROOT_ABBREVIATIONS: Record<string, string> = {
  avty_t: 'availability_topic',
  cmps: 'components',
  dev: 'device',
  dev_cla: 'device_class',
  json_attr_t: 'json_attributes_topic',
  o: 'origin',
  p: 'platform',
  pl_avail: 'payload_available',
  pl_not_avail: 'payload_not_available',
  stat_cla: 'state_class',
  stat_t: 'state_topic',
  uniq_id: 'unique_id',
  unit_of_meas: 'unit_of_measurement',
  val_tpl: 'value_template',
};
const DEVICE_ABBREVIATIONS: Record<string, string> = { ids: 'identifiers', mf: 'manufacturer', mdl: 'model', sn: 'serial_number', sw: 'sw_version', name: 'name' };
const ORIGIN_ABBREVIATIONS: Record<string, string> = { name: 'name', sw: 'sw_version', url: 'support_url' };
const SHARED_OPTIONS = ['availability', 'availability_mode', 'availability_template', 'availability_topic', 'payload_available', 'payload_not_available', 'state_topic'];
const SUPPORTED_PLATFORMS = new Set(['binary_sensor', 'button', 'number', 'select', 'sensor', 'switch', 'text']);
const STATE_CLASSES = new Set(['measurement', 'measurement_angle', 'total', 'total_increasing']);
/** The device classes used by this project, with the state classes Home Assistant allows for each. */
const DEVICE_CLASS_STATE_CLASSES: Record<string, Set<string> | null> = {
  monetary: new Set(['total']),
  enum: new Set(),
  timestamp: new Set(),
  energy: new Set(['total', 'total_increasing']),
};

export interface DiscoveredEntity {
  platform: string;
  uniqueId: string;
  config: Record<string, unknown>;
}

function expand(payload: Record<string, unknown>, table: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload).map(([key, value]) => [table[key] ?? key, value]));
}

function validTopic(topic: unknown): boolean {
  return typeof topic === 'string' && topic.length > 0 && !/[+#\0]/.test(topic);
}

export function discoverDevice(discoveryPrefix: string, topic: string, payloadText: string): DiscoveredEntity[] {
  const match = new RegExp(`^${discoveryPrefix}/device/([a-zA-Z0-9_-]+)/config$`).exec(topic);
  if (!match) throw new Error(`illegal discovery topic ${topic}`);
  const root = expand(JSON.parse(payloadText) as Record<string, unknown>, ROOT_ABBREVIATIONS);
  const device = expand((root['device'] ?? {}) as Record<string, unknown>, DEVICE_ABBREVIATIONS);
  const origin = expand((root['origin'] ?? {}) as Record<string, unknown>, ORIGIN_ABBREVIATIONS);
  const ids = device['identifiers'];
  if (!(Array.isArray(ids) ? ids.length > 0 : typeof ids === 'string')) throw new Error('device must have at least one identifying value');
  if (typeof origin['name'] !== 'string') throw new Error('origin needs a name');
  const components = root['components'];
  if (typeof components !== 'object' || components === null) throw new Error('components required');
  const shared = Object.fromEntries(SHARED_OPTIONS.filter((key) => key in root).map((key) => [key, root[key]]));
  if ('availability_topic' in shared && !validTopic(shared['availability_topic'])) throw new Error('invalid availability_topic');
  const entities: DiscoveredEntity[] = [];
  const seen = new Set<string>();
  for (const [key, raw] of Object.entries(components as Record<string, Record<string, unknown>>)) {
    const config = { ...shared, ...expand(raw, ROOT_ABBREVIATIONS) };
    const platform = config['platform'];
    if (typeof platform !== 'string' || !SUPPORTED_PLATFORMS.has(platform)) throw new Error(`${key}: unsupported platform ${String(platform)}`);
    const uniqueId = config['unique_id'];
    if (typeof uniqueId !== 'string' || uniqueId === '') throw new Error(`${key}: unique_id is required for device discovery`);
    if (seen.has(uniqueId)) throw new Error(`${key}: duplicate unique_id ${uniqueId}`);
    seen.add(uniqueId);
    if (platform === 'sensor') checkSensor(key, config);
    entities.push({ platform, uniqueId, config });
  }
  return entities;
}

function checkSensor(key: string, config: Record<string, unknown>): void {
  if (!validTopic(config['state_topic'])) throw new Error(`${key}: state_topic required`);
  if ('json_attributes_topic' in config && !validTopic(config['json_attributes_topic'])) throw new Error(`${key}: invalid json_attributes_topic`);
  const deviceClass = config['device_class'] as string | undefined;
  const stateClass = config['state_class'] as string | undefined;
  const unit = config['unit_of_measurement'];
  if (stateClass !== undefined && !STATE_CLASSES.has(stateClass)) throw new Error(`${key}: invalid state_class ${stateClass}`);
  if (deviceClass !== undefined) {
    const allowed = DEVICE_CLASS_STATE_CLASSES[deviceClass];
    if (allowed === undefined) throw new Error(`${key}: device_class ${deviceClass} unknown to this stand-in`);
    if (stateClass !== undefined && allowed !== null && !allowed.has(stateClass)) {
      throw new Error(`${key}: state_class ${stateClass} is not supported with device_class ${deviceClass}`);
    }
    if ((deviceClass === 'enum' || deviceClass === 'timestamp') && unit !== undefined) throw new Error(`${key}: ${deviceClass} sensors take no unit`);
  }
  if (deviceClass === 'enum' ? !Array.isArray(config['options']) : 'options' in config) throw new Error(`${key}: options go with device_class enum, and only there`);
  if ('last_reset_value_template' in config && stateClass !== 'total') throw new Error(`${key}: last_reset_value_template needs state_class total`);
}
