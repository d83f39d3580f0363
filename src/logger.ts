/**
 * The collector's logger: JSON lines for platforms and log shippers, one readable line per event for a
 * person, and secrets redacted in both.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { humanLine } from './log-line.ts';

export type { Logger };

/** `json` for machines, `pretty` for a person, `auto` picks `pretty` when stdout is a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  level: LevelWithSilent;
  format: LogFormat;
  /** Called with the message of every line written, after it is written (the demo watches for milestones). */
  onMessage?: (message: string) => void;
}

/** Where the text goes in a JSON line: Railway's log explorer, like most shippers, reads `message`, not pino's `msg`. */
const MESSAGE_KEY = 'message';

/** Paths whose values never reach the log, wherever they appear in a logged object. */
const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'amberApiKey',
  '*.amberApiKey',
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'databaseUrl',
  '*.databaseUrl',
  'password',
  '*.password',
];

const REDACTED = '[REDACTED]';

/** A connection URL keeps what says where the database is; only its password goes. */
function redact(value: unknown, path: string[]): unknown {
  if (path.at(-1) !== 'databaseUrl' || typeof value !== 'string' || !URL.canParse(value)) return REDACTED;
  const url = new URL(value);
  if (url.password !== '') url.password = 'REDACTED';
  url.search = ''; // sslpassword and friends
  return url.toString();
}

/**
 * The `level` of a JSON line in the four words Railway filters on (debug, info, warn, error). Fatal stays
 * distinguishable as `fatal: true`, trace as `trace: true`.
 */
function jsonLevel(label: string): Record<string, unknown> {
  if (label === 'fatal') return { level: 'error', fatal: true };
  if (label === 'trace') return { level: 'debug', trace: true };
  return { level: label };
}

/** `auto` resolved: a person reads a terminal, anything else (a pipe, a file, a platform's collector) gets JSON. */
function resolveLogFormat(format: LogFormat, stdoutIsTerminal: boolean = process.stdout.isTTY === true): 'json' | 'pretty' {
  return format === 'auto' ? (stdoutIsTerminal ? 'pretty' : 'json') : format;
}

export async function createLogger(options: LoggerOptions): Promise<Logger> {
  const base = {
    level: options.level,
    base: { service: 'amber-collector' },
    messageKey: MESSAGE_KEY,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: redact },
    hooks: { logMethod: watchMessages(options.onMessage) },
  };
  if (resolveLogFormat(options.format) === 'pretty') {
    // pino-pretty runs in-process as a stream (not a worker transport) so a crash loses no lines. It writes the
    // time and level; humanLine the rest, on one line (hideObject: no braces).
    const { default: pretty } = await import('pino-pretty');
    const stream = pretty({
      colorize: process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss',
      messageKey: MESSAGE_KEY,
      hideObject: true,
      messageFormat: (event) => humanLine(event),
      // Written as they come, so a line is on the terminal before anything printed after it (the demo's notes).
      sync: true,
    });
    return pino(base, stream);
  }
  return pino({ ...base, formatters: { level: jsonLevel } });
}

type LogMethod = (this: Logger, args: Parameters<Logger['info']>, method: (...args: unknown[]) => void) => void;

/** pino's logMethod hook: writes the line, then hands its message (the first string argument) to `onMessage`. */
function watchMessages(onMessage: ((message: string) => void) | undefined): LogMethod {
  return function (this: Logger, args, method) {
    method.apply(this, args);
    const message = args.find((arg): arg is string => typeof arg === 'string');
    if (onMessage !== undefined && message !== undefined) onMessage(message);
  };
}

/** A logger that discards everything: for tests and for CLI commands that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
