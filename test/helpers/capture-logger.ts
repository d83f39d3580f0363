import { pino } from 'pino';
import type { Logger } from '../../src/logger.ts';

export interface CapturedLogger {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  /** Resolves when a line with this message appears (or already has). */
  waitFor(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/**
 * A real pino logger whose JSON lines are kept in memory, so tests can assert on what a person would read. The
 * text is in `message`, as in the collector's own lines (src/logger.ts); levels stay numeric.
 */
export function captureLogger(level: 'debug' | 'info' = 'info'): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level, messageKey: 'message' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return {
    logger,
    lines,
    // A bound on a hang: a daemon's backfill of a few days takes seconds, or a minute on a busy shared machine.
    async waitFor(msg, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find((l) => l['message'] === msg);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`log line "${msg}" did not appear within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
