/**
 * `query forecast-accuracy` as a table for a person: one row per channel and lead bucket, the error of
 * `perKwh` and of the advanced predicted price, how often the settled price fell in the advanced range, and
 * spike detection; then how far ahead settled spikes were first warned of.
 */
import type { ForecastAccuracy, LeadBucketAccuracy, SpikeWarnings } from '../../query/forecast-accuracy.ts';
import { fixed, formatTable } from './format.ts';

const PRICE_DIGITS = 2;

export function renderForecastAccuracy(report: ForecastAccuracy, heading: string): string {
  if (report.buckets.length === 0) return `${heading}\nNo archived forecast of a settled interval in this range.\n`;
  const buckets = formatTable<LeadBucketAccuracy>(
    [
      { header: 'CHANNEL', value: (b) => b.channelType },
      { header: 'LEAD', value: (b) => b.bucket },
      { header: 'FORECASTS', numeric: true, value: (b) => String(b.forecasts) },
      { header: 'PERKWH MAE', numeric: true, value: (b) => fixed(b.perKwh.mae, PRICE_DIGITS) },
      { header: 'BIAS', numeric: true, value: (b) => fixed(b.perKwh.bias, PRICE_DIGITS) },
      { header: 'PREDICTED MAE', numeric: true, value: (b) => fixed(b.predicted.mae, PRICE_DIGITS) },
      { header: 'BIAS', numeric: true, value: (b) => fixed(b.predicted.bias, PRICE_DIGITS) },
      { header: 'IN LOW-HIGH', numeric: true, value: (b) => (b.range.coverage === null ? '-' : `${fixed(100 * b.range.coverage, 1)}%`) },
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
  ].join('');
}
