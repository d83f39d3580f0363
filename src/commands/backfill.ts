/**
 * `amber-collector backfill`: re-collects a range of days on demand, safely while the daemon runs. The
 * single-writer lock decides who calls Amber: a running collector gets the request (NOTIFY wakes it) and
 * this command follows its progress; with no collector running, the command takes the lock and makes
 * the calls itself, through the same limiter, chunk transactions and coverage ledger.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Dispatcher } from 'undici';
import { connectAmber } from '../amber/connect.ts';
import type { DataType, NemDate } from '../domain/models.ts';
import { compareNemDates, isNemDate, nemToday } from '../domain/nem-time.ts';
import { fullBudgetDurationMs } from '../domain/rate-budget.ts';
import { planBackfillCalls, processIdentity, runBackfillRequest, type BackfillPlan } from '../collector/on-demand-backfill.ts';
import { ChunkCollector } from '../collector/chunk.ts';
import { readConfig, readMonitorConfig, type Config, type MonitorConfig } from '../config/config.ts';
import {
  cancelBackfillRequest,
  claimBackfillRequest,
  createBackfillRequest,
  readBackfillRequest,
  type BackfillRequest,
  type BackfillRequestStatus,
} from '../db/backfill-request-store.ts';
import { openCommandDatabase, type CommandDatabase } from '../embedded/database-server.ts';
import { runCollectorFirst } from './frame/run-hint.ts';
import { WriterLock } from '../db/writer-lock.ts';
import { CollectorError, exitCodeFor, isCollectorError, type ErrorCode } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { requireSite, type SiteInfo } from '../query/site-selection.ts';
import { DAY_RANGE_OPTIONS, SITE_OPTION, usageError } from './frame/arguments.ts';
import { defineCommand, type CommandIo, type CommandScope, type ParsedArguments } from './frame/define-command.ts';

export const BACKFILL_USAGE = `Usage: amber-collector backfill --site ID --from DATE --to DATE [--type price|usage] [--dry-run]

Collects NEM days FROM..TO (inclusive) of one site again: prices and usage, or the one --type names.
Rows whose values changed at Amber are updated (the old values are kept in price_revisions and
usage_revisions); the days' coverage is recounted. Days before HISTORICAL_START_DATE are allowed.

When a collector (\`amber-collector run\`) is active on the database, it makes the calls and this command
waits, printing progress. Otherwise this command takes the single-writer lock and makes the calls itself,
which needs the collector's configuration (AMBER_API_KEY, ...). Either way the calls share the rate budget
(AMBER_RATE_LIMIT) with collection. Ctrl-C cancels the request.

Options:
  --site ID        the site (see \`amber-collector status\`)
  --from DATE      first NEM day, YYYY-MM-DD
  --to DATE        last NEM day, YYYY-MM-DD (prices exist up to today, usage up to yesterday)
  --type TYPE      price or usage (default: both)
  --dry-run        print the calls it would make and the ETA; call nothing, change nothing
  -h, --help       show this text

Exit status: 0 done (or nothing to do), 1 failed or a configuration problem, 2 bad usage,
75 a temporary failure (database unreachable, Amber unavailable: try again), 130 cancelled.
`;

const EXIT_CANCELLED = 130;
/** How often the waiting command reads the request's progress, and asks whether the daemon is still there. */
const DEFAULT_POLL_MS = 1_000;
const DEFAULT_LOCK_RETRY_MS = 10_000;

export interface BackfillEnvironment extends CommandIo {
  now: () => Date;
  /** Ctrl-C: cancels the request. */
  signal: AbortSignal;
  readMonitorConfig(): MonitorConfig;
  /** The full configuration, read only when this command must call Amber itself. */
  readConfig(): Config;
  openDatabase(config: MonitorConfig['database']): Promise<CommandDatabase>;
  logger?: Logger;
  pollMs?: number;
  lockRetryMs?: number;
  /** HTTP dispatcher for the command's own Amber calls (tests inject short timeouts). */
  dispatcher?: Dispatcher;
}

interface Options {
  site: string;
  from: NemDate;
  to: NemDate;
  dataTypes: DataType[];
  dryRun: boolean;
}

const BACKFILL_OPTIONS = { ...SITE_OPTION, ...DAY_RANGE_OPTIONS, type: { type: 'string' }, 'dry-run': { type: 'boolean' } } as const;

export const backfillCommand = defineCommand({
  name: 'backfill',
  usage: BACKFILL_USAGE,
  options: BACKFILL_OPTIONS,
  positionals: false,
  environment: (scope): Omit<BackfillEnvironment, keyof CommandIo> => ({
    now: () => new Date(),
    signal: interruptSignal(scope),
    readMonitorConfig,
    readConfig,
    openDatabase: (config) => openCommandDatabase(config, { max: 3, applicationName: 'amber-collector-backfill' }),
  }),
  parse: (args, env) => parseOptions(args, env.now()),
  config: (env) => env.readMonitorConfig(),
  async run(options, monitor, env, scope) {
    const { pool } = await scope.open(env.openDatabase(monitor.database));
    const site = await requireSite(pool, options.site);
    const plan = planBackfillCalls(site, options, env.now());
    await env.out.write(describePlan(site, options, plan, monitor, options.dryRun));
    if (plan.calls.length === 0 || options.dryRun) return 0;

    const writer = new WriterLock(pool, env.logger ?? silentLogger());
    // Released before the database closes (the scope closes the newest first).
    const lock = { current: null as WriterLock | null };
    scope.defer(() => lock.current?.release());
    if (await writer.tryAcquire()) {
      lock.current = writer;
      const config = readFullConfig(env);
      const request = await createRequest(pool, options, plan);
      await env.out.write(`No collector is running: making the calls here (request #${request.id}).\n`);
      return await runHere(request, config, pool, env);
    }
    const request = await createRequest(pool, options, plan);
    await env.out.write(`A collector is running: request #${request.id} handed to it.\n`);
    return await followRequest(request, pool, writer, lock, env);
  },
  // The collector's own errors are reported by their code.
  async ownFailure(err, env) {
    if (!(err instanceof CollectorError) || err.code === 'USAGE' || err.code === 'CONFIG_INVALID') return undefined;
    await env.err.write(`amber-collector backfill: ${err.code}: ${err.message}\n`);
    return exitCodeFor(err);
  },
  databaseError: (e, dataDir) => (e.code === '42P01' ? `${e.message}: ${runCollectorFirst('it creates or upgrades the tables', dataDir)}` : `ERROR: ${e.message}`),
});

/** Ctrl-C (or SIGTERM) cancels the request, for as long as the command runs. */
function interruptSignal(scope: CommandScope): AbortSignal {
  const interrupted = new AbortController();
  const onSignal = (): void => interrupted.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  scope.defer(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  return interrupted.signal;
}

/** Waits while the daemon runs the request; takes over if the daemon goes away first. */
async function followRequest(
  created: BackfillRequest,
  pool: pg.Pool,
  writer: WriterLock,
  lock: { current: WriterLock | null },
  env: BackfillEnvironment,
): Promise<number> {
  const pollMs = env.pollMs ?? DEFAULT_POLL_MS;
  const lockRetryMs = env.lockRetryMs ?? DEFAULT_LOCK_RETRY_MS;
  let reported = created.callsDone;
  let lockAskedAt = Date.now();
  for (;;) {
    if (env.signal.aborted) return cancel(created, pool, env);
    const request = (await readBackfillRequest(pool, created.id)) ?? created;
    for (; reported < request.callsDone; reported += 1) await env.out.write(progressLine(request, reported));
    if (isFinished(request.status)) return finish(request, env);
    if (Date.now() - lockAskedAt >= lockRetryMs) {
      lockAskedAt = Date.now();
      if (await writer.tryAcquire()) {
        lock.current = writer;
        await env.out.write('The collector stopped before finishing: making the remaining calls here.\n');
        return runHere(request, readFullConfig(env), pool, env, reported);
      }
    }
    await sleep(pollMs, undefined, { signal: env.signal }).catch(() => undefined);
  }
}

/** Runs the request in this process, which holds the writer lock, with its own client and rate limiter. */
async function runHere(created: BackfillRequest, config: Config, pool: pg.Pool, env: BackfillEnvironment, alreadyReported = 0): Promise<number> {
  const logger = env.logger ?? silentLogger();
  const { client } = connectAmber(config.amber, { logger, ...(env.dispatcher ? { dispatcher: env.dispatcher } : {}) });
  // The chunk alone (no whole Collector): a request needs fetch → store in one transaction, nothing else.
  const chunks = new ChunkCollector({ pool, client, logger, historicalStartDate: config.collection.historicalStartDate, now: env.now });
  const writes: Promise<void>[] = [];
  let reported = alreadyReported;
  try {
    const request = (await claimBackfillRequest(pool, processIdentity(), created.id)) ?? created;
    const status = await runBackfillRequest(
      {
        pool,
        collect: chunks.collectDays,
        logger,
        onProgress: (r, done) => {
          for (; reported < done; reported += 1) writes.push(env.out.write(progressLine(r, reported)));
        },
      },
      request,
      env.signal,
    );
    await Promise.all(writes);
    return finish((await readBackfillRequest(pool, request.id)) ?? { ...request, status }, env);
  } catch (err) {
    await Promise.all(writes);
    if (isCollectorError(err, 'ABORTED')) return cancel(created, pool, env);
    throw err;
  } finally {
    await client.close();
  }
}

async function cancel(request: BackfillRequest, pool: pg.Pool, env: BackfillEnvironment): Promise<number> {
  const cancelled = await cancelBackfillRequest(pool, request.id);
  const after = await readBackfillRequest(pool, request.id);
  await env.err.write(
    cancelled
      ? `amber-collector backfill: request #${request.id} cancelled after ${after?.callsDone ?? 0} of ${request.calls.length} calls (the days stored so far are kept)\n`
      : `amber-collector backfill: request #${request.id} had already ended (${after?.status ?? 'unknown'})\n`,
  );
  return EXIT_CANCELLED;
}

async function finish(request: BackfillRequest, env: BackfillEnvironment): Promise<number> {
  switch (request.status) {
    case 'done':
      await env.out.write(`Done: ${request.calls.length} of ${request.calls.length} calls.\n`);
      return 0;
    case 'cancelled':
      await env.err.write(`amber-collector backfill: request #${request.id} was cancelled after ${request.callsDone} of ${request.calls.length} calls\n`);
      return EXIT_CANCELLED;
    default: {
      await env.err.write(`amber-collector backfill: request #${request.id} failed after ${request.callsDone} of ${request.calls.length} calls: ${request.error ?? 'unknown error'}\n`);
      // The error starts with its stable code: a temporary one (Amber or the database unavailable) is 75.
      const code = /^([A-Z_]+):/.exec(request.error ?? '')?.[1];
      return code === undefined ? 1 : exitCodeFor(new CollectorError(code as ErrorCode, request.error ?? ''));
    }
  }
}

/** The collector's whole configuration: this command is about to call Amber itself. */
function readFullConfig(env: BackfillEnvironment): Config {
  try {
    return env.readConfig();
  } catch (err) {
    if (!isCollectorError(err, 'CONFIG_INVALID')) throw err;
    throw new CollectorError('CONFIG_INVALID', `no collector is running, so this command calls Amber itself and needs the collector's configuration: ${err.message}`, {
      details: err.details,
    });
  }
}

function isFinished(status: BackfillRequestStatus): boolean {
  return status === 'done' || status === 'failed' || status === 'cancelled';
}

function progressLine(request: BackfillRequest, index: number): string {
  const call = request.calls[index];
  const what = call === undefined ? '' : ` ${call.dataType} ${call.startDate}..${call.endDate}`;
  return `  [${index + 1}/${request.calls.length}]${what} stored\n`;
}

function createRequest(pool: pg.Pool, options: Options, plan: BackfillPlan): Promise<BackfillRequest> {
  return createBackfillRequest(pool, {
    siteId: options.site,
    from: options.from,
    to: options.to,
    dataTypes: options.dataTypes,
    calls: plan.calls,
    requestedBy: processIdentity(),
  });
}

/** What will happen: every call on a dry run, a one-line summary otherwise, and the ETA either way. */
function describePlan(site: SiteInfo, options: Options, plan: BackfillPlan, monitor: MonitorConfig, everyCall: boolean): string {
  const lines = [`Backfill of site ${site.id}, ${options.from}..${options.to}: ${plan.calls.length} call${plan.calls.length === 1 ? '' : 's'}`];
  if (everyCall) {
    for (const call of plan.calls) {
      const endpoint = call.dataType === 'price' ? 'prices' : 'usage';
      const resolution = call.dataType === 'price' ? `&resolution=${site.intervalLength}` : '';
      lines.push(`  GET /sites/${site.id}/${endpoint}?startDate=${call.startDate}&endDate=${call.endDate}${resolution}`);
    }
  }
  for (const skipped of plan.skipped) lines.push(`  ${skipped.dataType}: nothing to collect (${skipped.reason})`);
  if (plan.calls.length > 0) {
    const { limit, windowSeconds } = monitor.amber.rateLimit;
    const seconds = Math.round(fullBudgetDurationMs(monitor.amber.rateLimit, plan.calls.length) / 1000);
    lines.push(`ETA: about ${seconds < 60 ? `${seconds} s` : `${Math.round(seconds / 60)} min`} at ${limit} calls per ${windowSeconds} s (collection cycles share this budget)`);
  }
  if (everyCall) lines.push('Dry run: nothing was called or changed.');
  return `${lines.join('\n')}\n`;
}

function parseOptions({ values }: ParsedArguments<typeof BACKFILL_OPTIONS, false>, now: Date): Options {
  const { site, from, to } = values;
  if (site === undefined || site.trim() === '') throw usageError('--site ID is required');
  if (from === undefined || to === undefined) throw usageError('--from DATE and --to DATE are required');
  for (const [flag, value] of [['--from', from], ['--to', to]] as const) {
    if (!isNemDate(value)) throw usageError(`${flag} must be a date as YYYY-MM-DD, got "${value}"`);
  }
  if (compareNemDates(from, to) > 0) throw usageError(`--from ${from} is after --to ${to}`);
  const today = nemToday(now);
  if (compareNemDates(from, today) > 0) throw usageError(`--from ${from} is in the future (today is ${today}, NEM time)`);
  const type = values.type;
  if (type !== undefined && type !== 'price' && type !== 'usage') throw usageError(`--type must be price or usage, got "${type}"`);
  return { site, from, to, dataTypes: type === undefined ? ['price', 'usage'] : [type], dryRun: values['dry-run'] ?? false };
}
