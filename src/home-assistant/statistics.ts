/**
 * The long-term statistics this project gives Home Assistant: their ids (a public interface: people paste them
 * into the Energy dashboard's settings, so they never change) and their metadata, as `recorder/import_statistics`
 * takes it. Per site:
 *
 *   amber_collector:<site>_<channel>_energy        kWh drawn (import channels) or exported (feed-in), a sum
 *   amber_collector:<site>_<channel>_cost          AUD billed for an import channel, a sum
 *   amber_collector:<site>_<channel>_compensation  AUD paid for feed-in (positive when paid), a sum
 *   amber_collector:<site>_<channel_type>_price    the settled price, AUD/kWh, hourly mean, min and max
 *
 * `<site>` is Amber's site id and `<channel>` the meter channel (`e1`, `b1`…), both lower case; `<channel_type>`
 * is `general`, `controlled_load` or `feed_in` (a feed-in price is what exporting earns, like the compensation).
 */

const STATISTICS_SOURCE = 'amber_collector';

export interface StatisticMetadata {
  has_sum: boolean;
  /** Only on the price: Home Assistant still reads it beside mean_type. */
  has_mean?: boolean;
  /** 0 none, 1 arithmetic. */
  mean_type: 0 | 1;
  name: string;
  source: string;
  statistic_id: string;
  unit_of_measurement: string;
  unit_class: string | null;
}

/** Lower case, and anything outside Home Assistant's [a-z0-9_] as `_`, without doubled or edge underscores. */
function idPart(text: string): string {
  return text
    .replace(/[A-Z]/g, (c, offset: number) => (offset > 0 && /[a-z]/.test(text[offset - 1] ?? '') ? `_${c}` : c))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export function isImport(channelType: string): boolean {
  return channelType !== 'feedIn';
}

const CHANNEL_TYPE_NAMES: Readonly<Record<string, string>> = { general: 'general', controlledLoad: 'controlled load', feedIn: 'feed-in' };

export function energyStatistic(site: { id: string; nmi: string }, channel: { identifier: string; type: string }): StatisticMetadata {
  const what = isImport(channel.type) ? 'energy drawn' : 'energy exported';
  return {
    has_sum: true,
    mean_type: 0,
    name: `Amber ${site.nmi} ${channel.identifier} ${what}`,
    source: STATISTICS_SOURCE,
    statistic_id: `${STATISTICS_SOURCE}:${idPart(site.id)}_${idPart(channel.identifier)}_energy`,
    unit_of_measurement: 'kWh',
    unit_class: 'energy',
  };
}

export function moneyStatistic(site: { id: string; nmi: string }, channel: { identifier: string; type: string }): StatisticMetadata {
  const kind = isImport(channel.type) ? 'cost' : 'compensation';
  return {
    has_sum: true,
    mean_type: 0,
    name: `Amber ${site.nmi} ${channel.identifier} ${kind}`,
    source: STATISTICS_SOURCE,
    statistic_id: `${STATISTICS_SOURCE}:${idPart(site.id)}_${idPart(channel.identifier)}_${kind}`,
    unit_of_measurement: 'AUD',
    unit_class: null,
  };
}

export function priceStatistic(site: { id: string; nmi: string }, channelType: string): StatisticMetadata {
  return {
    has_sum: false,
    has_mean: true,
    mean_type: 1,
    name: `Amber ${site.nmi} ${CHANNEL_TYPE_NAMES[channelType] ?? channelType} price`,
    source: STATISTICS_SOURCE,
    statistic_id: `${STATISTICS_SOURCE}:${idPart(site.id)}_${idPart(channelType)}_price`,
    unit_of_measurement: 'AUD/kWh',
    unit_class: null,
  };
}
