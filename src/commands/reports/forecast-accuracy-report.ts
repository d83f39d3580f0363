/**
 * `amber-collector query forecast-accuracy`: the forecast-accuracy read model (query/forecast-accuracy.ts)
 * for one site over whole NEM days, as a table or JSON. Kept beside query.ts, which only parses its flags.
 */
import type pg from 'pg';
import type { NemDate } from '../../domain/models.ts';
import { addDays, daysBetween, nemDayStart } from '../../domain/nem-time.ts';
import { forecastAccuracy } from '../../query/forecast-accuracy.ts';
import { selectSites } from '../../query/site-selection.ts';
import { usageError } from '../frame/arguments.ts';
import { renderForecastAccuracy } from '../output/accuracy-table.ts';
import { jsonText } from '../output/format.ts';
import type { Output } from '../output/output.ts';

/** Days the report covers without --from, ending with --to (default today). */
export const ACCURACY_DAYS = 30;
/** A year answers in seconds; the read API refuses more too. */
const MAX_ACCURACY_DAYS = 366;
const CHANNEL_TYPES = ['general', 'controlledLoad', 'feedIn'];

export interface AccuracyInvocation {
  site: string | null;
  json: boolean;
  from: NemDate;
  to: NemDate;
  channels: string[] | null;
  /** Add the figures per NEM hour of the day (`--by time-of-day`). */
  byTimeOfDay: boolean;
}

/** `--channel general,feedIn`: channel types, checked; null (every channel) without the flag. */
export function channelList(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  const channels = raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const unknown = channels.filter((channel) => !CHANNEL_TYPES.includes(channel));
  if (channels.length === 0 || unknown.length > 0) throw usageError(`--channel takes channel types from ${CHANNEL_TYPES.join(', ')}, comma separated, got "${raw}"`);
  return channels;
}

/** `--by lead|time-of-day`: true for the breakdown by hour of the day; lead (the default) without the flag. */
export function accuracyView(raw: string | undefined): boolean {
  if (raw === undefined || raw === 'lead') return false;
  if (raw === 'time-of-day') return true;
  throw usageError(`--by takes lead or time-of-day, got "${raw}"`);
}

export async function runForecastAccuracy(invocation: AccuracyInvocation, pool: pg.Pool, env: { out: Output }): Promise<number> {
  if (daysBetween(invocation.from, invocation.to) >= MAX_ACCURACY_DAYS) throw usageError(`forecast-accuracy covers at most ${MAX_ACCURACY_DAYS} days`);
  // Without --site the first listed site (active ones first), as the read API does.
  const [site] = await selectSites(pool, invocation.site);
  const range = { from: invocation.from, to: invocation.to };
  if (site === undefined) {
    await env.out.write(invocation.json ? jsonText({ siteId: null, ...range, buckets: [], spikeWarnings: [], ...(invocation.byTimeOfDay ? { timeOfDay: [] } : {}) }) : 'No sites are stored yet.\n');
    return 0;
  }
  const report = await forecastAccuracy(pool, {
    siteId: site.id,
    from: nemDayStart(invocation.from),
    to: nemDayStart(addDays(invocation.to, 1)),
    channels: invocation.channels,
    byTimeOfDay: invocation.byTimeOfDay,
  });
  const heading = `Forecast accuracy of site ${site.id}, NEM days ${invocation.from} to ${invocation.to}`;
  await env.out.write(invocation.json ? jsonText({ siteId: site.id, ...range, unit: 'c/kWh', ...report }) : renderForecastAccuracy(report, heading));
  return 0;
}
