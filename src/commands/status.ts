/**
 * `amber-collector status`: is the collected data complete and fresh? Text for people, `--json` for
 * machines, and an exit status cron or a monitor can act on. Reads the database only.
 */
import { readMonitorConfig, type MonitorConfig } from '../config/config.ts';
import { buildStatusReport, statusSettingsOf, type RejectedSummary, type StatusReport, type StreamStatus } from '../query/collection-status.ts';
import { SITE_OPTION, siteOption } from './frame/arguments.ts';
import { defineCommand, type CommandIo } from './frame/define-command.ts';
import { openCommandDatabase, type CommandDatabase } from '../embedded/database-server.ts';
import { selectSites } from '../query/site-selection.ts';
import { runCollectorFirst } from './frame/run-hint.ts';

export const STATUS_USAGE = `Usage: amber-collector status [--site ID] [--json] [--ignore-unavailable]

Per site and data type: the days stored, how complete they are, the days still missing intervals, the
last success and the last error, elements the API sent that failed validation (if any), and the API
calls still to make with an ETA under AMBER_RATE_LIMIT.

Options:
  --site ID             only this site
  --json                one JSON document for machines instead of text
  --ignore-unavailable  days Amber was asked for again and still had no data for are listed, but do not
                        count as gaps in the exit status
  -h, --help            show this text

Exit status (for cron and monitors):
  0   every stream is fresh and complete
  3   gaps: a day that should be complete is missing intervals (not collected yet, being repaired,
      or unavailable at Amber)
  4   stale: a stream has had no successful fetch for 3 x COLLECTION_INTERVAL_MINUTES (prices) or
      2 x USAGE_POLL_MINUTES + 3 x COLLECTION_INTERVAL_MINUTES (usage), or none ever; wins over 3
  5   nothing collected: no site is stored, or no stream has stored anything yet; wins over 3 and 4
  1   configuration problem     2   bad usage     75   database unreachable

Complete means every interval of every channel through yesterday for prices (today's are still
arriving) and through the day before yesterday for usage (it lands hours after the day ends), NEM time.
Reads DATABASE_URL and the collection settings from the environment or .env; without DATABASE_URL, the
embedded PostgreSQL in DATA_DIR (the running one, or started for this command). No Amber API key needed.
`;

/** Exit statuses of `status` besides 0 (healthy) and the shared 1, 2 and 75. */
export const STATUS_EXIT = { gaps: 3, stale: 4, empty: 5 } as const;

const VERDICT_NAMES: Record<number, string> = { [STATUS_EXIT.gaps]: 'GAPS', [STATUS_EXIT.stale]: 'STALE', [STATUS_EXIT.empty]: 'NOTHING COLLECTED' };

const MINUTE_MS = 60_000;
const LABEL_WIDTH = 15;

export interface StatusEnvironment extends CommandIo {
  now: Date;
  readConfig(): MonitorConfig;
  /** Connects to the database; called only once the arguments and configuration are valid. */
  openDatabase(config: MonitorConfig['database']): Promise<CommandDatabase>;
}

export interface StatusVerdict {
  exitCode: number;
  healthy: boolean;
  /** One line per stale or incomplete stream. */
  problems: string[];
}

export const statusCommand = defineCommand({
  name: 'status',
  usage: STATUS_USAGE,
  options: { ...SITE_OPTION, json: { type: 'boolean' }, 'ignore-unavailable': { type: 'boolean' } },
  positionals: false,
  environment: (): Omit<StatusEnvironment, keyof CommandIo> => ({
    now: new Date(),
    readConfig: readMonitorConfig,
    openDatabase: (config) => openCommandDatabase(config, { max: 2, applicationName: 'amber-collector-status' }),
  }),
  parse: ({ values }) => ({ site: siteOption(values.site), json: values.json ?? false, ignoreUnavailable: values['ignore-unavailable'] ?? false }),
  config: (env) => env.readConfig(),
  async run(options, config, env, scope) {
    const database = await scope.open(env.openDatabase(config.database));
    // An unknown --site is a usage error that lists the stored ones.
    if (options.site !== null) await selectSites(database.pool, options.site);
    const report = await buildStatusReport(database.pool, statusSettingsOf(config), env.now, { siteId: options.site });
    const verdict = judge(report, env.now, options);
    // Before any data, what to do next: start the collector (named as it is started here), in the same DATA_DIR.
    const hint = verdict.exitCode === STATUS_EXIT.empty ? runCollectorFirst('it reads the sites from Amber and collects', database.dataDir) : undefined;
    await env.out.write(options.json ? `${JSON.stringify({ ...verdict, hint, ...report }, null, 2)}\n` : renderStatus(report, verdict, env.now, hint));
    return verdict.exitCode;
  },
  databaseError: (e, dataDir) => (e.code === '42P01' || e.code === '42883' ? `${e.message}: ${runCollectorFirst('it creates or upgrades the tables', dataDir)}` : `ERROR: ${e.message}`),
});

/**
 * Nothing collected beats stale, which beats gaps: a collector that never ran or stopped explains every gap
 * that follows.
 */
export function judge(report: StatusReport, now: Date, options: { ignoreUnavailable: boolean }): StatusVerdict {
  if (report.streams.length === 0) return { exitCode: STATUS_EXIT.empty, healthy: false, problems: ['nothing collected yet: no site is stored'] };
  if (report.streams.every((stream) => stream.stored === null)) {
    return { exitCode: STATUS_EXIT.empty, healthy: false, problems: ['nothing collected yet: the sites are known, no stream has stored anything'] };
  }
  const problems: string[] = [];
  let stale = false;
  let gaps = false;
  for (const stream of report.streams) {
    const name = `${stream.siteId} ${stream.dataType}`;
    if (stream.stale) {
      stale = true;
      problems.push(
        stream.lastSuccessAt === null
          ? `${name}: never fetched successfully`
          : `${name}: no successful fetch for ${duration(now.getTime() - Date.parse(stream.lastSuccessAt))} (stale after ${stream.staleAfterMinutes} min)`,
      );
    }
    const missing = stream.gapDays.notCollected + stream.gapDays.incomplete + (options.ignoreUnavailable ? 0 : stream.gapDays.unavailable);
    if (missing > 0) {
      gaps = true;
      problems.push(`${name}: ${plural(missing, 'day')} missing intervals`);
    }
  }
  const exitCode = stale ? STATUS_EXIT.stale : gaps ? STATUS_EXIT.gaps : 0;
  return { exitCode, healthy: exitCode === 0, problems };
}

/** `hint`: what to do when nothing is collected (see run-hint.ts). */
export function renderStatus(report: StatusReport, verdict: StatusVerdict, now: Date, hint?: string): string {
  const lines = [`amber-collector status at ${clock(report.generatedAt)}`, ''];
  let site: string | null = null;
  for (const stream of report.streams) {
    if (stream.siteId !== site) {
      if (site !== null) lines.push('');
      site = stream.siteId;
      lines.push(`Site ${stream.siteId} (${stream.siteStatus}, ${stream.intervalLength}-minute intervals)`);
    }
    lines.push(...renderStream(stream, now));
    const forecasts = report.rejectedForecasts.find((r) => r.siteId === stream.siteId);
    if (stream.dataType === 'usage' && forecasts !== undefined) {
      lines.push(`  ${'forecast'.padEnd(8)}${'rejected'.padEnd(LABEL_WIDTH - 2)}${rejectedText(stream.siteId, forecasts)}`);
    }
  }
  if (report.streams.length > 0) lines.push('');
  for (const request of report.requests) {
    lines.push(
      `Backfill request #${request.id}: ${request.siteId} ${request.dataTypes.join('+')} ${request.from}..${request.to}, ` +
        `${request.status}, ${request.callsDone} of ${plural(request.callsTotal, 'call')} done`,
    );
  }
  for (const integration of report.integrations) lines.push(integrationLine(integration, now));
  const { backfill, repair, requested, total } = report.remainingCalls;
  const budget = `${report.rateLimit.limit} calls per ${report.rateLimit.windowSeconds} s`;
  lines.push(
    total === 0
      ? `Remaining: no calls (rate budget ${budget})`
      : `Remaining: ${plural(total, 'call')} (${backfill} backfill, ${repair} repair, ${requested} requested), ` +
          `done in about ${duration((report.etaSeconds ?? 0) * 1000)} at ${budget} (${clock(report.eta ?? report.generatedAt)})`,
  );
  lines.push('');
  lines.push(
    verdict.exitCode === 0
      ? 'OK: every stream is fresh and complete'
      : `${VERDICT_NAMES[verdict.exitCode] ?? 'GAPS'} (exit ${verdict.exitCode}):\n${verdict.problems.map((p) => `  ${p}`).join('\n')}`,
  );
  if (hint !== undefined) lines.push(`  ${hint}`);
  return `${lines.join('\n')}\n`;
}

function renderStream(stream: StreamStatus, now: Date): string[] {
  const head = `  ${stream.dataType.padEnd(6)}`;
  const row = (label: string, text: string) => `${' '.repeat(head.length)}${label.padEnd(LABEL_WIDTH)}${text}`;
  const lines: string[] = [];
  if (stream.wanted === null || stream.percentComplete === null) {
    lines.push(`${head}not started: nothing collected for this stream yet`);
  } else {
    lines.push(`${head}${`${stream.percentComplete.toFixed(1)}%`.padEnd(LABEL_WIDTH)}complete over ${stream.wanted.from}..${stream.wanted.through}`);
  }
  lines.push(row('stored', stream.stored === null ? 'nothing yet' : `${stream.stored.from}..${stream.stored.through}`));
  const { gaps } = stream;
  if (gaps.incomplete.length > 0) lines.push(row('incomplete', `${gaps.incomplete.join(', ')} (being fetched again)`));
  if (gaps.notCollected.length > 0) lines.push(row('not collected', `${gaps.notCollected.join(', ')} (the backfill has not reached them)`));
  if (gaps.unavailable.length > 0) {
    const next = stream.nextCheckAt === null ? '' : `; next check ${clock(stream.nextCheckAt)}`;
    lines.push(row('unavailable', `${gaps.unavailable.join(', ')} (fetched again, Amber had nothing new${next})`));
  }
  lines.push(row('last success', stream.lastSuccessAt === null ? 'never' : `${clock(stream.lastSuccessAt)} (${ago(stream.lastSuccessAt, now)})${stream.stale ? ', STALE' : ''}`));
  if (stream.lastError !== null) {
    const when = stream.lastError.at === null ? '' : `${clock(stream.lastError.at)}, `;
    lines.push(row('last error', `${when}${stream.lastError.current ? 'unresolved' : 'resolved since'}: ${stream.lastError.message}`));
  }
  if (stream.rejected.elements > 0) lines.push(row('rejected', rejectedText(stream.siteId, stream.rejected)));
  const { backfill, repair } = stream.remainingCalls;
  if (backfill + repair > 0) lines.push(row('remaining', `${plural(backfill, 'backfill call')}, ${plural(repair, 'repair call')}`));
  return lines;
}

/** `MQTT: connected to mqtt://broker:1883, last published 10:05:01 (2 min ago)`, or why not; likewise Home Assistant. */
function integrationLine({ integration, state, updatedAt }: StatusReport['integrations'][number], now: Date): string {
  const text = (key: string) => (typeof state[key] === 'string' ? state[key] : null);
  const when = (iso: string) => `${clock(iso)} (${ago(iso, now)})`;
  const error = text('lastError') === null ? '' : `: ${text('lastError')}`;
  if (integration === 'home_assistant') {
    const success = text('lastSuccessAt');
    const pending = typeof state['hoursPending'] === 'number' && state['hoursPending'] > 0 ? `, ${plural(state['hoursPending'], 'hour')} pending` : '';
    if (error === '' && success !== null) return `Home Assistant: statistics in sync at ${text('url')}, last synced ${when(success)}${pending}`;
    return `Home Assistant: NOT in sync at ${text('url')} as of ${clock(updatedAt)}${error}${success === null ? ', never synced yet' : `, last synced ${when(success)}`}${pending}`;
  }
  const name = integration === 'mqtt' ? 'MQTT' : integration;
  const broker = text('broker') ?? 'the broker';
  const published = text('lastPublishAt') === null ? '' : `, last published ${when(text('lastPublishAt')!)}`;
  if (state['connected'] === true) return `${name}: connected to ${broker}${published}`;
  return `${name}: NOT connected to ${broker} as of ${clock(updatedAt)}${error}${published}`;
}

function rejectedText(siteId: string, rejected: RejectedSummary): string {
  const seen = rejected.lastSeenAt === null ? '' : `, last seen ${clock(rejected.lastSeenAt)}`;
  return `${plural(rejected.elements, 'element')} the API sent failed validation${seen} (amber-collector query rejected --site ${siteId})`;
}

/** `2025-11-21 03:00 UTC` */
function clock(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

function ago(iso: string, now: Date): string {
  return `${duration(now.getTime() - Date.parse(iso))} ago`;
}

function duration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / MINUTE_MS));
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
