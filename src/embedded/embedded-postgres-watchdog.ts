/**
 * Keeps an embedded PostgreSQL the collector owns running: when its server dies (SIGKILL, the OOM killer, a
 * PANIC on a full disk), it is started again on the same data and port, after a pause that doubles on every
 * failed attempt up to a ceiling, and the log says so each time. While the server is gone, `problem()` says
 * why, which `/healthz` turns into a 503: nothing can be collected, and a supervisor may want to know.
 * The daemon's pools and writer lock reconnect by themselves once it is back; every chunk is one
 * transaction, so the outage leaves no gap and no duplicate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';

export interface WatchdogOptions {
  /** Whether the server is running now. */
  isAlive: () => boolean;
  /** Starts the server again and resolves once it accepts connections (rejects if it could not). */
  restart: () => Promise<void>;
  logger: Logger;
  dataDir: string;
  /** How often the server is looked at. */
  pollMs?: number;
  /** The first pause before a restart, doubled after each failed one up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export interface Watchdog {
  /** Why the server is not usable now, or null while it runs. */
  problem(): string | null;
  /** Stops watching; waits for a restart under way to finish, so the caller then stops the server it started. */
  stop(): Promise<void>;
}

export function watchServer(options: WatchdogOptions): Watchdog {
  const { logger, dataDir, pollMs = 250, firstDelayMs = 1_000, maxDelayMs = 30_000 } = options;
  const stopped = new AbortController();
  let problem: string | null = null;
  // Unreferenced: watching never keeps a process alive (a command that leaves the server to a daemon exits).
  const pause = (ms: number): Promise<boolean> => sleep(ms, true, { signal: stopped.signal, ref: false }).catch(() => false);

  async function restartWithBackOff(): Promise<void> {
    let delayMs = firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      logger.warn({ dataDir, attempt, delayMs }, `restarting the embedded PostgreSQL in ${delayMs} ms (attempt ${attempt})`);
      if (!(await pause(delayMs))) return;
      try {
        await options.restart();
        problem = null;
        logger.info({ dataDir, attempt }, 'embedded PostgreSQL restarted; the collector reconnects by itself');
        return;
      } catch (err) {
        logger.error({ err, dataDir, attempt }, 'embedded PostgreSQL did not start again; trying later');
        delayMs = Math.min(delayMs * 2, maxDelayMs);
      }
    }
  }

  const watching = (async () => {
    while (await pause(pollMs)) {
      if (options.isAlive()) continue;
      problem = 'the embedded PostgreSQL is not running; restarting it';
      logger.error({ dataDir }, 'embedded PostgreSQL exited unexpectedly');
      await restartWithBackOff();
    }
  })();

  return {
    problem: () => problem,
    async stop() {
      stopped.abort();
      await watching;
    },
  };
}
