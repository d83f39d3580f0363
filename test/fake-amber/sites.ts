/**
 * The fake account's sites: their specification, the `/sites` wire form, and which NEM days have data.
 */
import { hashString } from './hash.ts';
import { type Market, createMarket } from './market.ts';
import { formatNemDate, nemDayOfInstant, parseNemDate } from './nem-time.ts';

export type ChannelType = 'general' | 'controlledLoad' | 'feedIn';

/**
 * How a site's intervals carry `tariffInformation` (API-NOTES §4.8): a time-of-use object
 * `{"period":…,"season":"default"}`, a demand object `{"demandWindow":false}` (seen on 5-minute sites), or
 * no field at all (seen on older and plain-tariff sites).
 */
export type TariffInformationStyle = 'timeOfUse' | 'demand' | 'none';

export interface FakeSiteSpec {
  id: string;
  nmi: string;
  network: string;
  status: 'active' | 'closed' | 'pending';
  /** YYYY-MM-DD; no data before this NEM day. */
  activeFrom: string | null;
  /** YYYY-MM-DD; no data after this NEM day. */
  closedOn: string | null;
  intervalLength: 5 | 30;
  channels: Array<{ identifier: string; type: ChannelType; tariff: string }>;
  /** Default: `demand` for 5-minute sites, `timeOfUse` for 30-minute sites. */
  tariffInformation?: TariffInformationStyle;
}

/** API order of channels in every price and usage response (API-NOTES §2.2, §2.4). */
const CHANNEL_ORDER: readonly ChannelType[] = ['general', 'controlledLoad', 'feedIn'];

/**
 * The default account, with dates relative to `today` (the data clock at start-up):
 * 1. an active 5-minute site with general E1, controlled load E2 and feed-in B1, active for about 3 years;
 * 2. an active 30-minute site with general E1 only;
 * 3. a closed 30-minute site with general E1 and feed-in B1 and the SAME NMI as site 2, closed the day
 *    before site 2 became active (the "moved plan" case of API-NOTES §2.1);
 * 4. a pending site that becomes active in three weeks (no data).
 */
export function defaultSites(today: Date = new Date()): FakeSiteSpec[] {
  const day = nemDayOfInstant(today.getTime());
  const date = (offsetDays: number) => formatNemDate(day + offsetDays);
  return [
    {
      id: '01HQ7ZV3K8D4N5XWB2C9R6T1AE',
      nmi: '4103827719',
      network: 'Ausgrid',
      status: 'active',
      activeFrom: date(-3 * 365),
      closedOn: null,
      intervalLength: 5,
      channels: [
        { identifier: 'E1', type: 'general', tariff: 'EA116' },
        { identifier: 'E2', type: 'controlledLoad', tariff: 'EA030' },
        { identifier: 'B1', type: 'feedIn', tariff: 'EA116' },
      ],
      tariffInformation: 'demand',
    },
    {
      id: '01JB2WXYZ3M4N5P6Q7R8S9T0VA',
      nmi: '6305118822',
      network: 'Jemena',
      status: 'active',
      activeFrom: date(-400),
      closedOn: null,
      intervalLength: 30,
      channels: [{ identifier: 'E1', type: 'general', tariff: 'A100' }],
      tariffInformation: 'timeOfUse',
    },
    {
      id: '01G0C1DSE2FG3HJ4KM5NP6QR7S',
      nmi: '6305118822',
      network: 'Jemena',
      status: 'closed',
      activeFrom: date(-1500),
      closedOn: date(-401),
      intervalLength: 30,
      channels: [
        { identifier: 'E1', type: 'general', tariff: 'A100' },
        { identifier: 'B1', type: 'feedIn', tariff: 'A100' },
      ],
      tariffInformation: 'none',
    },
    {
      id: '01K9TDWJ4R2M8XNC6PQ3VB7HZE',
      nmi: '3120554781',
      network: 'Energex',
      status: 'pending',
      activeFrom: date(21),
      closedOn: null,
      intervalLength: 5,
      channels: [{ identifier: 'E1', type: 'general', tariff: 'NTC6900' }],
    },
  ];
}

/** `/sites` element, keys in the order the API emits them; missing dates are omitted, not null (§4.1). */
export function siteJson(site: FakeSiteSpec): Record<string, unknown> {
  return {
    id: site.id,
    nmi: site.nmi,
    channels: site.channels.map((channel) => ({ identifier: channel.identifier, type: channel.type, tariff: channel.tariff })),
    network: site.network,
    status: site.status,
    ...(site.activeFrom === null ? {} : { activeFrom: site.activeFrom }),
    ...(site.closedOn === null ? {} : { closedOn: site.closedOn }),
    intervalLength: site.intervalLength,
  };
}

/** A site plus everything derived from it that the data generators need, computed once. */
export interface SiteModel {
  readonly spec: FakeSiteSpec;
  readonly seed: number;
  /** Hash coordinate of the site, so two sites never share usage numbers. */
  readonly siteHash: number;
  /** Sites on the same network share one wholesale market (same spot prices). */
  readonly market: Market;
  readonly tariffStyle: TariffInformationStyle;
  /** Prices are per channel type (API-NOTES §2.2), one of each, in API order. */
  readonly priceTypes: readonly ChannelType[];
  /** Usage is per channel identifier (API-NOTES §2.4), in API order. */
  readonly usageChannels: FakeSiteSpec['channels'];
}

export function createSiteModel(seed: number, spec: FakeSiteSpec): SiteModel {
  return {
    spec,
    seed,
    siteHash: hashString(spec.id),
    market: createMarket(seed, spec.network),
    tariffStyle: spec.tariffInformation ?? (spec.intervalLength === 5 ? 'demand' : 'timeOfUse'),
    priceTypes: CHANNEL_ORDER.filter((type) => spec.channels.some((channel) => channel.type === type)),
    usageChannels: CHANNEL_ORDER.flatMap((type) => spec.channels.filter((channel) => channel.type === type)),
  };
}

/**
 * The NEM days `[first, last]` (day numbers) for which a site has any data, or null if it has none.
 * Pending sites have none; `activeFrom`/`closedOn` bound the rest; `historyDays` hides days older than
 * `today − historyDays`.
 */
export function dataDays(site: FakeSiteSpec, today: number, historyDays: number | null): { first: number; last: number } | null {
  if (site.status === 'pending') return null;
  let first = site.activeFrom === null ? Number.NEGATIVE_INFINITY : (parseNemDate(site.activeFrom) ?? Number.POSITIVE_INFINITY);
  const last = site.closedOn === null ? Number.POSITIVE_INFINITY : (parseNemDate(site.closedOn) ?? Number.NEGATIVE_INFINITY);
  if (historyDays !== null) first = Math.max(first, today - historyDays);
  return first <= last ? { first, last } : null;
}
