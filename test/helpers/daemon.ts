/**
 * A real daemon (runDaemon) for one test, on an ephemeral HTTP port, with its log captured; stopped when
 * the test finishes.
 */
import { onTestFinished } from 'vitest';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { parseConfig, type Config } from '../../src/config/config.ts';
import { runDaemon, type DaemonOptions } from '../../src/daemon.ts';
import type { FakeAmber } from '../fake-amber/server.ts';
import { captureLogger, type CapturedLogger } from './capture-logger.ts';

/** A config as a user would write it, on an ephemeral HTTP port so test files never collide. */
export function daemonConfigFor(fake: FakeAmber | null, databaseUrl: string, extra: Record<string, string> = {}): Config {
  const parsed = parseConfig({
    AMBER_API_KEY: fake?.apiKey ?? 'psk_unused',
    AMBER_API_BASE_URL: fake?.url ?? 'http://127.0.0.1:9/v1',
    DATABASE_URL: databaseUrl,
    HISTORICAL_START_DATE: addDays(nemToday(new Date()), -20),
    AMBER_RATE_LIMIT: '1000;w=1',
    ...extra,
  });
  return { ...parsed, http: { ...parsed.http, port: 0 } };
}

export interface RunningDaemon {
  port: number;
  log: CapturedLogger;
  stop(): Promise<void>;
}

export async function startDaemonForTest(config: Config, options: DaemonOptions = {}, log: CapturedLogger = captureLogger()): Promise<RunningDaemon> {
  const controller = new AbortController();
  const running = runDaemon(config, log.logger, controller.signal, { lockRetryMs: 100, ...options });
  running.catch(() => {}); // Inspected by stop(); a failure must not surface as an unhandled rejection first.
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    controller.abort();
    await running;
  };
  onTestFinished(stop);
  const listening = await Promise.race([log.waitFor('HTTP server listening'), running.then(() => null)]);
  if (!listening) throw new Error('the daemon stopped before its HTTP server listened');
  return { port: listening['port'] as number, log, stop };
}
