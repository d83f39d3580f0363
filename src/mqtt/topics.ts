/**
 * The MQTT topic names: a public interface (Home Assistant, Node-RED and evcc set-ups subscribe to them), so
 * they are built here and only here, and documented in the README's MQTT section.
 *
 *   <prefix>/status                              online | offline (retained; the broker sends offline if we die)
 *   <prefix>/<site>/<channel>/price              $/kWh of the running interval
 *   <prefix>/<site>/<channel>/next_price         $/kWh of the next interval
 *   <prefix>/<site>/<channel>/settled_price      $/kWh of the last settled (actual) interval
 *   <prefix>/<site>/<channel>/spike_status       none | potential | spike
 *   <prefix>/<site>/<channel>/descriptor         Amber's descriptor (extremelyLow … spike)
 *   <prefix>/<site>/<channel>/renewables         % renewables in the grid now
 *   <prefix>/<site>/<channel>/forecast           {"forecasts": [...]}: the next hours, under Home Assistant's 16 KiB attribute limit
 *   <prefix>/<site>/<channel>/forecast_full      the same list over the whole horizon (up to 48 h), for optimisers
 *   <prefix>/<site>/cost_today                   AUD billed so far today (NEM day), from usage
 *   <prefix>/<site>/health                       {"last_successful_cycle", "streams_failing", "backfill_percent"}
 *
 * `<site>` is Amber's site id lower-cased; `<channel>` is general, controlled_load or feed_in.
 */

/** Amber's channel types, as topic levels and in Home Assistant's snake case. */
const CHANNEL_SLUGS: Readonly<Record<string, string>> = Object.freeze({
  general: 'general',
  controlledLoad: 'controlled_load',
  feedIn: 'feed_in',
});

export type ChannelState = 'price' | 'next_price' | 'settled_price' | 'spike_status' | 'descriptor' | 'renewables' | 'forecast' | 'forecast_full';
export type SiteState = 'cost_today' | 'health';

export interface Topics {
  availability: string;
  channel(siteId: string, channelType: string, state: ChannelState): string;
  site(siteId: string, state: SiteState): string;
  /** Device-based discovery config of one site; null when discovery is off. */
  discovery(siteId: string): string | null;
  /** Home Assistant's birth and last-will topic; null when discovery is off. */
  homeAssistantStatus: string | null;
}

/** A channel type as a topic level: the known ones in snake case, anything new reduced to safe characters. */
export function channelSlug(channelType: string): string {
  return CHANNEL_SLUGS[channelType] ?? channelType.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/[^a-z0-9_-]/g, '_');
}

/** A site id as a topic level and object id: lower case, only [a-z0-9_-] (Home Assistant's discovery pattern). */
export function siteSlug(siteId: string): string {
  return siteId.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
}

export function topicsFor(settings: { topicPrefix: string; discoveryPrefix: string | null }): Topics {
  const { topicPrefix, discoveryPrefix } = settings;
  return {
    availability: `${topicPrefix}/status`,
    channel: (siteId, channelType, state) => `${topicPrefix}/${siteSlug(siteId)}/${channelSlug(channelType)}/${state}`,
    site: (siteId, state) => `${topicPrefix}/${siteSlug(siteId)}/${state}`,
    discovery: (siteId) => (discoveryPrefix === null ? null : `${discoveryPrefix}/device/amber_collector_${siteSlug(siteId)}/config`),
    homeAssistantStatus: discoveryPrefix === null ? null : `${discoveryPrefix}/status`,
  };
}
