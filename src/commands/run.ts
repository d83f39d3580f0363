/**
 * `amber-collector run`: the daemon process. Owns signals and exit codes for the long-running collector.
 */
import { readConfig, readLogConfig, type Config } from '../config/config.ts';
import { runDaemon } from '../daemon.ts';
import { CollectorError, exitCodeFor, isCollectorError, isFatal } from '../errors.ts';
import { createLogger, type Logger } from '../logger.ts';
import { defineCommand, type CommandIo } from './frame/define-command.ts';

const RUN_USAGE = `Usage: amber-collector run

Collects continuously: backfills from HISTORICAL_START_DATE, then runs a cycle every COLLECTION_INTERVAL_MINUTES,
and serves the dashboard, the read API, /healthz, /readyz and /metrics on HTTP_PORT. SIGTERM or Ctrl-C stops it
cleanly. Configuration comes from the environment and from .env / .env.local (see .env.example).
Exit status: 0 stopped cleanly, 1 a problem to fix (the log says which), 2 bad usage, 75 a temporary failure:
start it again (compose, Kubernetes and systemd do).
`;

/** A stop must finish well inside Docker's and compose's grace period. */
const SHUTDOWN_DEADLINE_MS = 9_000;
/** A second signal this soon after the first is the same stop request delivered twice. */
const SIGNAL_ECHO_MS = 500;

export interface RunEnvironment extends CommandIo {
  /** How long a stop may take before the process exits anyway with 75 (tests shorten it). */
  shutdownDeadlineMs: number;
}

export const runCommand = defineCommand({
  name: 'run',
  usage: RUN_USAGE,
  // Nothing to parse but --help; anything else is a mistake, not a reason to start collecting.
  options: {},
  positionals: false,
  environment: (): Omit<RunEnvironment, keyof CommandIo> => ({ shutdownDeadlineMs: SHUTDOWN_DEADLINE_MS }),
  run: (_args, _config, env) => runCollector(env),
});

/** Reads the configuration, then runs the daemon until a signal stops it; owns the process's signals and exit codes. */
async function runCollector(env: RunEnvironment): Promise<number> {
  let logger: Logger;
  let config: Config;
  try {
    config = readConfig();
    logger = await createLogger(config.log);
  } catch (err) {
    // Configuration problems are reported before any network or database work, one problem per variable.
    const logConfig = readLogConfig();
    const fallback = await createLogger(logConfig);
    const problems = isCollectorError(err, 'CONFIG_INVALID') ? err.details.problems : undefined;
    fallback.fatal({ ...failureFields(err, logConfig.level), problems }, 'invalid configuration; fix each setting listed and start again');
    return exitCodeFor(err);
  }

  const controller = new AbortController();
  let firstSignalAt: number | null = null;
  const onSignal = (name: NodeJS.Signals): void => {
    if (firstSignalAt !== null) {
      // `npm start` passes a terminal's Ctrl-C on to the collector, which has already had it from the terminal:
      // that echo is not a person asking twice.
      if (Date.now() - firstSignalAt < SIGNAL_ECHO_MS) return;
      logger.warn({ signal: name }, 'second signal: exiting now');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    logger.info({ signal: name }, 'shutting down: finishing the open transaction, then exiting');
    controller.abort();
    setTimeout(() => {
      // 75, not 1: nothing is wrong with the configuration, and a restart finishes what the stop did not.
      logger.error('shutdown took too long; exiting anyway');
      process.exit(75);
    }, env.shutdownDeadlineMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unexpected error (unhandled rejection); exiting so the supervisor restarts the collector');
    process.exit(75);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'unexpected error; exiting so the supervisor restarts the collector');
    process.exit(75);
  });

  logger.info({ startDate: config.collection.historicalStartDate, intervalMinutes: config.collection.intervalMinutes, apiBaseUrl: config.amber.baseUrl }, 'amber-collector starting');
  try {
    await runDaemon(config, logger, controller.signal);
    logger.info('stopped cleanly');
    return 0;
  } catch (err) {
    const code = exitCodeFor(err);
    logger.fatal({ ...failureFields(err, config.log.level), exitCode: code }, err instanceof Error ? err.message : 'collector failed');
    return code;
  }
}

/**
 * What a fatal line carries besides its message. An expected error (a person must change something: its
 * message says what) needs no stack trace, which would bury that message; LOG_LEVEL=debug shows it anyway.
 * Anything unexpected keeps its stack.
 */
function failureFields(err: unknown, level: Config['log']['level']): Record<string, unknown> {
  const code = err instanceof CollectorError ? err.code : undefined;
  const withStack = !isFatal(err) || level === 'debug' || level === 'trace';
  return withStack ? { code, err } : { code };
}

