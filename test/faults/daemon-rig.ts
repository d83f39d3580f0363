/**
 * The daemon run in the test process (`runDaemon`, exactly as `amber-collector run` wires it), with its log
 * captured, so a scenario can fault the network or the database around it and watch what it does.
 */
import { parseConfig } from '../../src/config/config.ts';
import { runDaemon, type DaemonOptions } from '../../src/daemon.ts';
import { captureLogger, type CapturedLogger } from '../helpers/capture-logger.ts';

export interface DaemonUnderTest {
  log: CapturedLogger;
  /** True once runDaemon has returned or thrown. */
  readonly ended: boolean;
  /** True when runDaemon ended before `stop()` was called: a crash, whatever it logged. */
  readonly endedEarly: boolean;
  /** What runDaemon threw, if it threw. */
  readonly failure: unknown;
  /** Asks for a clean stop and waits for it. */
  stop(): Promise<void>;
}

/** Starts `runDaemon` with `env` parsed as the process would; the HTTP server takes an ephemeral port. */
export function startDaemon(env: Record<string, string>, options: DaemonOptions = {}): DaemonUnderTest {
  const config = parseConfig({ HTTP_PORT: '0', ...env });
  const log = captureLogger();
  const controller = new AbortController();
  let ended = false;
  let stopRequested = false;
  let endedEarly = false;
  let failure: unknown;
  const running = runDaemon(config, log.logger, controller.signal, options)
    .catch((err: unknown) => {
      failure = err;
    })
    .finally(() => {
      ended = true;
      endedEarly = !stopRequested;
    });
  return {
    log,
    get ended() {
      return ended;
    },
    get endedEarly() {
      return endedEarly;
    },
    get failure() {
      return failure;
    },
    async stop() {
      stopRequested = true;
      controller.abort();
      await running;
    },
  };
}
