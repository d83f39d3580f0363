/**
 * `npm run demo`: the collector at work without an Amber account or a database. The fake Amber API (a few
 * made-up sites, a fast rate limit, forecasts) feeds the real daemon, which keeps its data in an embedded
 * PostgreSQL in a temporary folder and serves the dashboard. Two weeks of history arrive within seconds; the
 * dashboard's address is printed when it answers and again when the backfill is done, since the log has
 * scrolled it away by then. Ctrl-C stops the collector, then PostgreSQL, then the fake, removes the folder and
 * says what went.
 *
 * DEMO_PORT chooses the dashboard's port (default: 8080 when free, else any free port).
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { parseConfig } from '../../src/config/config.ts';
import { runDaemon } from '../../src/daemon.ts';
import { runForcedExitStops } from '../../src/embedded/forced-exit.ts';
import { createLogger } from '../../src/logger.ts';
import { startFakeAmber } from '../fake-amber/server.ts';

const HISTORY_DAYS = 14;
/** The fake's budget: fast enough that two weeks of three sites take seconds, still paced like the real one. */
const RATE_LIMIT = { limit: 20, windowSeconds: 1 };
/** A second signal this soon after the first is the same Ctrl-C delivered twice (by the terminal and by npm). */
const SIGNAL_ECHO_MS = 500;

const port = await dashboardPort();
const fake = await startFakeAmber({ rateLimit: RATE_LIMIT });
// mkdtemp makes the folder 700; when run as root, PostgreSQL runs as another user, who must pass through it.
const dataDir = await mkdtemp(join(tmpdir(), 'amber-demo-'));
await chmod(dataDir, 0o711);

const config = parseConfig({
  AMBER_API_KEY: fake.apiKey,
  AMBER_API_BASE_URL: fake.url,
  AMBER_RATE_LIMIT: `${RATE_LIMIT.limit};w=${RATE_LIMIT.windowSeconds}`,
  HISTORICAL_START_DATE: addDays(nemToday(new Date()), -HISTORY_DAYS),
  DATA_DIR: dataDir,
  // Usage appears at the fake a few hours after each day ends, as at Amber: poll for it every cycle.
  COLLECTION_INTERVAL_MINUTES: '1',
  USAGE_POLL_MINUTES: '5',
  HTTP_PORT: String(port),
  LOG_FORMAT: 'pretty',
  LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info',
});
const url = `http://127.0.0.1:${port}/`;
let backfillAnnounced = false;
const logger = await createLogger({
  ...config.log,
  onMessage: (message) => {
    if (message !== 'backfill finished' || backfillAnnounced) return;
    backfillAnnounced = true;
    process.stdout.write(`\n  amber-collector demo: the ${HISTORY_DAYS} days of history are in. The dashboard: ${url}\n\n`);
  },
});

const controller = new AbortController();
let firstSignalAt: number | null = null;
const onSignal = (): void => {
  if (firstSignalAt === null) {
    firstSignalAt = Date.now();
    logger.info('stopping the demo: the collector, then PostgreSQL, then the fake Amber API');
    controller.abort();
  } else if (Date.now() - firstSignalAt >= SIGNAL_ECHO_MS) {
    logger.warn('second Ctrl-C: exiting now');
    process.exit(130);
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// Like cli.ts: a second Ctrl-C's forced exit still stops the embedded PostgreSQL.
process.on('exit', runForcedExitStops);

const daemon = runDaemon(config, logger, controller.signal);
void announceWhenReady(url, controller.signal);
let exitCode = 0;
try {
  await daemon;
} catch (err) {
  logger.fatal({ err }, 'the demo collector stopped');
  exitCode = 1;
} finally {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
}
process.stdout.write(
  existsSync(dataDir)
    ? `\n  amber-collector demo stopped, but its data folder ${dataDir} could not be removed: delete it yourself.\n`
    : `\n  amber-collector demo stopped. Removed: ${dataDir}, the embedded PostgreSQL with every price, usage and\n` +
        '  forecast the demo collected. The fake Amber API is stopped.\n',
);
process.exitCode = exitCode;

/** Prints the dashboard's address once it answers: until then it would show an empty page. */
async function announceWhenReady(url: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      if ((await fetch(`${url}healthz`, { signal })).ok) break;
    } catch {
      // Not listening yet.
    }
    await sleep(100, undefined, { signal }).catch(() => {});
  }
  if (signal.aborted) return;
  process.stdout.write(
    `\n  amber-collector demo: open ${url}\n` +
      `  ${HISTORY_DAYS} days of made-up prices, usage and forecasts for three sites arrive over the next seconds.\n` +
      `  The data lives in an embedded PostgreSQL in ${dataDir} (removed when you stop). Ctrl-C stops it.\n\n`,
  );
}

async function dashboardPort(): Promise<number> {
  const wanted = process.env['DEMO_PORT'];
  if (wanted) return Number(wanted);
  return (await tryListen(8080)) ?? (await tryListen(0)) ?? 0;
}

/** The port a listen on `port` got (any free one for 0), or null when it is taken. */
function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}
