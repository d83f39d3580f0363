/**
 * `query forecast-accuracy` as a table for a person: one row per channel and lead bucket, the error of
 * `perKwh` and of the advanced predicted price, how often the settled price fell in the advanced range, and
 * spike detection; then how far ahead settled spikes were first warned of; with `--by time-of-day`, the same
 * errors per NEM hour.
 */
import type { AccuracyFigures, ForecastAccuracy, HourAccuracy, LeadBucketAccuracy, SpikeWarnings } from '../../query/forecast-accuracy.ts';
import { fixed, formatTable, type TableColumn } from './format.ts';

const PRICE_DIGITS = 2;

/** The error columns both tables share: forecasts compared, MAE and bias of each source, range coverage. */
function errorColumns<Row extends AccuracyFigures>(): TableColumn<Row>[] {
  return [
    { header: 'FORECASTS', numeric: true, value: (r) => String(r.forecasts) },
    { header: 'PERKWH MAE', numeric: true, value: (r) => fixed(r.perKwh.mae, PRICE_DIGITS) },
    { header: 'BIAS', numeric: true, value: (r) => fixed(r.perKwh.bias, PRICE_DIGITS) },
    { header: 'PREDICTED MAE', numeric: true, value: (r) => fixed(r.predicted.mae, PRICE_DIGITS) },
    { header: 'BIAS', numeric: true, value: (r) => fixed(r.predicted.bias, PRICE_DIGITS) },
    { header: 'IN LOW-HIGH', numeric: true, value: (r) => (r.range.coverage === null ? '-' : `${fixed(100 * r.range.coverage, 1)}%`) },
  ];
}

export function renderForecastAccuracy(report: ForecastAccuracy, heading: string): string {
  if (report.buckets.length === 0) return `${heading}\nNo archived forecast of a settled interval in this range.\n`;
  const buckets = formatTable<LeadBucketAccuracy>(
    [
      { header: 'CHANNEL', value: (b) => b.channelType },
      { header: 'LEAD', value: (b) => b.bucket },
      ...errorColumns<LeadBucketAccuracy>(),
      { header: 'SPIKES HIT', numeric: true, value: (b) => String(b.spikes.hits) },
      { header: 'MISSED', numeric: true, value: (b) => String(b.spikes.misses) },
      { header: 'FALSE ALARMS', numeric: true, value: (b) => String(b.spikes.falseAlarms) },
    ],
    report.buckets,
  );
  const spikes =
    report.spikeWarnings.length === 0
      ? 'No settled spike in this range.\n'
      : formatTable<SpikeWarnings>(
          [
            { header: 'CHANNEL', value: (s) => s.channelType },
            { header: 'SPIKES', numeric: true, value: (s) => String(s.spikes) },
            { header: 'WARNED', numeric: true, value: (s) => String(s.warned) },
            { header: 'MEDIAN WARNING (MIN)', numeric: true, value: (s) => fixed(s.medianWarningMinutes, 0) },
            { header: 'LONGEST (MIN)', numeric: true, value: (s) => fixed(s.longestWarningMinutes, 0) },
          ],
          report.spikeWarnings,
        );
  return [
    `${heading}\n`,
    'Error of archived forecasts against the settled price, c/kWh (bias > 0: forecast too high)\n',
    buckets,
    '\nSettled spikes and their first warning (spikeStatus potential or spike)\n',
    spikes,
    ...(report.timeOfDay === undefined ? [] : ['\nBy time of day: NEM hour of the interval start, every lead time together, c/kWh\n', hourTable(report.timeOfDay)]),
  ].join('');
}

function hourTable(hours: readonly HourAccuracy[]): string {
  return formatTable<HourAccuracy>(
    [
      { header: 'CHANNEL', value: (h) => h.channelType },
      { header: 'HOUR', value: (h) => `${String(h.hour).padStart(2, '0')}:00` },
      ...errorColumns<HourAccuracy>(),
    ],
    [...hours],
  );
}
