/**
 * How the database commands (query, status, backfill) end on an error: one clear line on stderr, named after
 * the command, and the shared exit codes: 2 bad usage (with the usage text), 1 a problem a person must fix
 * (see `exitCodeFor`), 75 the database could not be reached.
 */
import pg from 'pg';
import { isConnectionFailure } from '../../db/pool.ts';
import { exitCodeFor, isCollectorError } from '../../errors.ts';
import type { Output } from '../output/output.ts';

export interface FailureContext {
  command: string;
  usage: string;
  err: Output;
  /** The command's own words for an error PostgreSQL reported (missing schema, a timeout, a bad statement). */
  databaseError: (err: pg.DatabaseError) => string;
}

export async function reportFailure(err: unknown, context: FailureContext): Promise<number> {
  const say = (text: string) => context.err.write(`amber-collector ${context.command}: ${text}\n`);
  if (isCollectorError(err, 'USAGE')) {
    await say(err.message);
    await context.err.write(`\n${context.usage}`);
    return 2;
  }
  // Bad configuration, credentials the database refuses, no embedded PostgreSQL installed, DATA_DIR held by
  // another process: a person must act, and the message says what to do; retrying would not help.
  if (isCollectorError(err) && exitCodeFor(err) === 1) {
    await say(err.message);
    return 1;
  }
  // A server that went away mid-command (a restart: 57P01) answers with a DatabaseError too, but it is a
  // connection problem (75), not the command's statement (1).
  if (err instanceof pg.DatabaseError && !isConnectionFailure(err)) {
    await say(context.databaseError(err));
    return 1;
  }
  await say(`cannot reach the database: ${describe(err)}`);
  return 75;
}

/** A connection error's message; pg reports a refused dual-stack connect as an AggregateError with none of its own. */
function describe(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') return err.errors.map(describe).join('; ');
  return err instanceof Error ? err.message || err.name : String(err);
}
