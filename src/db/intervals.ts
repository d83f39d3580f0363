/** Columns every price and usage row shares: the API's BaseInterval, flattened. */
import type { BaseInterval } from '../domain/models.ts';
import type { Column } from './upsert.ts';

/** The interval's end as an instant, so two spellings of one moment (`Z`, `+10:00`) are one key. */
export function endInstant(interval: BaseInterval): number {
  return Date.parse(interval.nemTime);
}

/** `nem_time` and `duration`: the part of the primary key that locates an interval in time. */
export function intervalKeyColumns<Row extends BaseInterval>(): Column<Row>[] {
  return [
    { name: 'nem_time', type: 'timestamptz', value: (r) => r.nemTime },
    { name: 'duration', type: 'integer', value: (r) => r.duration },
  ];
}

export function intervalValueColumns<Row extends BaseInterval>(): Column<Row>[] {
  return [
    { name: 'start_time', type: 'timestamptz', value: (r) => r.startTime },
    { name: 'end_time', type: 'timestamptz', value: (r) => r.endTime },
    { name: 'nem_date', type: 'date', value: (r) => r.date },
    { name: 'per_kwh', type: 'numeric', value: (r) => r.perKwh },
    { name: 'spot_per_kwh', type: 'numeric', value: (r) => r.spotPerKwh },
    { name: 'renewables', type: 'numeric', value: (r) => r.renewables },
    { name: 'spike_status', type: 'text', value: (r) => r.spikeStatus },
    { name: 'descriptor', type: 'text', value: (r) => r.descriptor },
    { name: 'tariff_period', type: 'text', value: (r) => r.tariffInformation?.period ?? null },
    { name: 'tariff_season', type: 'text', value: (r) => r.tariffInformation?.season ?? null },
    { name: 'tariff_block', type: 'integer', value: (r) => r.tariffInformation?.block ?? null },
    { name: 'tariff_demand_window', type: 'boolean', value: (r) => r.tariffInformation?.demandWindow ?? null },
    { name: 'raw', type: 'jsonb', value: (r) => r.raw },
  ];
}
