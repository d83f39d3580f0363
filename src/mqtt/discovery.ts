/**
 * Home Assistant MQTT discovery: one device-based config per site (`<discovery prefix>/device/<id>/config`, with
 * `dev`, `o` and `cmps`), so a Home Assistant with only the MQTT integration shows one device per site with its
 * live prices, forecast and the collector's health. Unique ids are stable: they are built from the site id and
 * the channel, never from names a person can change.
 *
 * Units and classes follow Home Assistant's sensor rules: prices in $/kWh with `state_class: measurement` and no
 * device class (`monetary` allows only `total`, and the Energy dashboard reads a c/kWh price as dollars); today's
 * cost in AUD as `monetary`/`total`, with the NEM day's start as its last reset.
 */
import { channelSlug, siteSlug, type ChannelState, type Topics } from './topics.ts';

export interface DiscoverySite {
  id: string;
  nmi: string;
  /** The site's channel types, e.g. ['general', 'feedIn']. */
  channelTypes: readonly string[];
}

const CHANNEL_NAMES: Readonly<Record<string, string>> = { general: 'General', controlledLoad: 'Controlled load', feedIn: 'Feed-in' };

type Component = Record<string, unknown>;

export function discoveryConfig(site: DiscoverySite, topics: Topics): Record<string, unknown> {
  const device = `amber_collector_${siteSlug(site.id)}`;
  const components: Record<string, Component> = {};
  const add = (key: string, component: Component) => {
    components[key] = { ...component, unique_id: `${device}_${key}` };
  };
  for (const channelType of site.channelTypes) {
    const slug = channelSlug(channelType);
    const name = CHANNEL_NAMES[channelType] ?? channelType;
    const topic = (state: ChannelState) => topics.channel(site.id, channelType, state);
    const price = (title: string, state: ChannelState) => ({
      p: 'sensor',
      name: title,
      state_topic: topic(state),
      unit_of_measurement: '$/kWh',
      state_class: 'measurement',
      suggested_display_precision: 4,
      icon: 'mdi:currency-usd',
    });
    add(`${slug}_price`, price(channelType === 'feedIn' ? `${name} price (earned)` : `${name} price`, 'price'));
    add(`${slug}_next_price`, price(`${name} next price`, 'next_price'));
    add(`${slug}_settled_price`, price(`${name} last settled price`, 'settled_price'));
    add(`${slug}_forecast`, {
      ...price(`${name} forecast`, 'next_price'),
      json_attributes_topic: topic('forecast'),
      icon: 'mdi:chart-line',
    });
    add(`${slug}_spike_status`, {
      p: 'sensor',
      name: `${name} price spike`,
      state_topic: topic('spike_status'),
      device_class: 'enum',
      options: ['none', 'potential', 'spike'],
      icon: 'mdi:flash-alert',
    });
    add(`${slug}_descriptor`, { p: 'sensor', name: `${name} price level`, state_topic: topic('descriptor'), icon: 'mdi:tag' });
    add(`${slug}_renewables`, {
      p: 'sensor',
      name: `${name} renewables`,
      state_topic: topic('renewables'),
      unit_of_measurement: '%',
      state_class: 'measurement',
      icon: 'mdi:leaf',
    });
  }
  add('cost_today', {
    p: 'sensor',
    name: 'Cost today',
    state_topic: topics.site(site.id, 'cost_today'),
    value_template: '{{ value_json.cost }}',
    last_reset_value_template: '{{ value_json.last_reset }}',
    json_attributes_topic: topics.site(site.id, 'cost_today'),
    device_class: 'monetary',
    state_class: 'total',
    unit_of_measurement: 'AUD',
    suggested_display_precision: 2,
  });
  const health = topics.site(site.id, 'health');
  add('last_successful_cycle', {
    p: 'sensor',
    name: 'Last successful collection',
    state_topic: health,
    value_template: '{{ value_json.last_successful_cycle }}',
    device_class: 'timestamp',
    entity_category: 'diagnostic',
  });
  add('streams_failing', {
    p: 'sensor',
    name: 'Streams failing',
    state_topic: health,
    value_template: '{{ value_json.streams_failing }}',
    state_class: 'measurement',
    entity_category: 'diagnostic',
    icon: 'mdi:alert-circle-outline',
  });
  add('backfill_percent', {
    p: 'sensor',
    name: 'History collected',
    state_topic: health,
    value_template: '{{ value_json.backfill_percent }}',
    unit_of_measurement: '%',
    state_class: 'measurement',
    entity_category: 'diagnostic',
    icon: 'mdi:database-clock',
  });
  return {
    dev: { ids: [device], name: `Amber ${site.nmi}`, mf: 'Amber Electric', mdl: 'amber-collector', sn: site.id },
    o: { name: 'amber-collector' },
    availability_topic: topics.availability,
    payload_available: 'online',
    payload_not_available: 'offline',
    qos: 1,
    cmps: components,
  };
}
