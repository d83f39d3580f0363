/** Realistic single API elements (API-NOTES §10), for tests to copy and vary. */

export const PRICE: Record<string, unknown> = {
  type: 'CurrentInterval',
  date: '2025-11-20',
  duration: 30,
  startTime: '2025-11-20T03:00:01Z',
  endTime: '2025-11-20T03:30:00Z',
  nemTime: '2025-11-20T13:30:00+10:00',
  perKwh: 10.30517,
  renewables: 70,
  spotPerKwh: -0.07312,
  channelType: 'general',
  spikeStatus: 'none',
  tariffInformation: { period: 'offPeak', season: 'default' },
  descriptor: 'extremelyLow',
  estimate: true,
  advancedPrice: { low: 9.21406, predicted: 10.11822, high: 11.70341 },
};

export const USAGE: Record<string, unknown> = {
  type: 'Usage',
  duration: 5,
  date: '2025-11-19',
  endTime: '2025-11-19T02:35:00Z',
  quality: 'billable',
  kwh: 0.412,
  nemTime: '2025-11-19T12:35:00+10:00',
  perKwh: -6.23011,
  channelType: 'feedIn',
  channelIdentifier: 'B1',
  cost: -2.5668,
  renewables: 74.81,
  spotPerKwh: 5.90102,
  startTime: '2025-11-19T02:30:01Z',
  spikeStatus: 'none',
  tariffInformation: { demandWindow: false },
  descriptor: 'veryLow',
};

export const SITE: Record<string, unknown> = {
  id: '01J9Q4ZC6H2RM8T3VX5B7KD1NA',
  nmi: '4103827719',
  channels: [{ identifier: 'E1', type: 'general', tariff: 'EA116' }],
  network: 'Ausgrid',
  status: 'active',
  activeFrom: '2024-03-14',
  intervalLength: 5,
};
