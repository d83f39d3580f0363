/**
 * Command-line arguments as every command reads them: node's `parseArgs`, strict, with its complaints turned
 * into USAGE errors (exit 2 with the command's usage text, see failure.ts).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { NemDate } from '../../domain/models.ts';
import { isNemDate } from '../../domain/nem-time.ts';
import { CollectorError } from '../../errors.ts';

/** Options every command spells the same way: `--site ID` and `-h`/`--help`. */
export const SITE_OPTION = { site: { type: 'string' } } as const;
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;
/** A range of NEM days, `--from DATE --to DATE`. */
export const DAY_RANGE_OPTIONS = { from: { type: 'string' }, to: { type: 'string' } } as const;

/**
 * A NEM-day option such as `--from`: the date, or null when absent or malformed; a malformed one is added to
 * `problems`, so a command can report every mistake at once.
 */
export function dayOption(name: string, value: string | undefined, problems: string[]): NemDate | null {
  if (value === undefined) return null;
  if (isNemDate(value)) return value;
  problems.push(`--${name}: expected a date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return null;
}

export function usageError(message: string, problems: string[] = [message]): CollectorError<'USAGE'> {
  return new CollectorError('USAGE', message, { details: { problems } });
}

/** `parseArgs` in strict mode; an unknown option or a missing value is a usage error. */
export function parseCommandArgs<T extends Omit<ParseArgsConfig, 'strict'>>(config: T): ReturnType<typeof parseArgs<T & { strict: true }>> {
  try {
    return parseArgs({ ...config, strict: true });
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : String(err));
  }
}

/** The `--site` value, or null without one; `--site ''` is a mistake, not "every site". */
export function siteOption(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw usageError('--site needs a site id');
  return value;
}
