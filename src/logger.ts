import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** `json` for machines and log shippers, `pretty` for a person at a terminal. */
  format: 'json' | 'pretty';
}

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

export async function createLogger(options: LoggerOptions): Promise<Logger> {
  const base = {
    level: options.level,
    base: { service: 'amber-collector' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: redact },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.format === 'pretty') {
    // pino-pretty runs in-process as a stream (not a worker transport) so a crash loses no lines.
    const { default: pretty } = await import('pino-pretty');
    return pino(base, pretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss' }));
  }
  return pino(base);
}

/** A logger that discards everything: for tests and for CLI commands that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
