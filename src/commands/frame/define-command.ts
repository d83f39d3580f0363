/**
 * The frame every `amber-collector` subcommand is built with: `defineCommand({ usage, options, parse, config,
 * run })`. The frame owns what all of them share, so a command file holds only what is its own: strict
 * argument parsing with `-h`/`--help` printing the usage text, checks of the arguments before any
 * configuration is read, the configuration read next, a scope that closes the database (and anything else
 * the command opened) however it ends, and one failure reporter with the shared exit codes (failure.ts).
 */
import type { parseArgs, ParseArgsConfig } from 'node:util';
import type pg from 'pg';
import type { CommandDatabase } from '../../embedded/database-server.ts';
import { streamOutput, type Output } from '../output/output.ts';
import { HELP_OPTION, parseCommandArgs } from './arguments.ts';
import { isCollectorError } from '../../errors.ts';
import { reportFailure } from './failure.ts';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What `parseArgs` makes of the arguments: `values` (with `help`) and `positionals`. */
export type ParsedArguments<Options extends OptionsConfig, Positionals extends boolean> = ReturnType<
  typeof parseArgs<{ args: string[]; options: Options & typeof HELP_OPTION; allowPositionals: Positionals; strict: true }>
>;

/** What every command writes to; a command's environment adds its clock, configuration readers and database. */
export interface CommandIo {
  out: Output;
  err: Output;
}

/** What a command opened, closed by the frame when the command ends, newest first. */
export interface CommandScope {
  /** Opens the command's database; its DATA_DIR then names where the command looked in a failure's text. */
  open(opening: Promise<CommandDatabase>): Promise<CommandDatabase>;
  /** Something else to close when the command ends (a socket, a signal listener). */
  defer(close: () => unknown): void;
}

export interface CommandSpec<Options extends OptionsConfig, Positionals extends boolean, Invocation, Config, Env extends CommandIo> {
  /** As typed after `amber-collector`; failures read `amber-collector NAME: ...`. */
  name: string;
  /** Printed for `--help`, and after a usage error on stderr (exit 2). */
  usage: string;
  /** Options besides `-h`/`--help`, as node's `parseArgs` takes them. */
  options: Options;
  positionals: Positionals;
  /**
   * The real environment besides stdout and stderr, which the frame adds (a clock, configuration readers, the
   * database); tests pass a whole environment of their own to `run`. None for a command that needs nothing more.
   */
  environment?(scope: CommandScope): Omit<Env, keyof CommandIo>;
  /** Checks of the arguments alone, before any configuration is read: throw `usageError` for a mistake. */
  parse?(args: ParsedArguments<Options, Positionals>, env: Env): Invocation;
  /** The configuration the command needs, read once the arguments are known to be valid. */
  config?(env: Env): Config;
  run(invocation: Invocation, config: Config, env: Env, scope: CommandScope): Promise<number>;
  /**
   * The command's words for an error PostgreSQL reported, knowing the DATA_DIR looked in (unset with
   * DATABASE_URL). Only a command that uses the database has them; for one that does not, an error other than
   * a usage or configuration mistake is passed on to cli.ts as unexpected.
   */
  databaseError?(err: pg.DatabaseError, dataDir: string | undefined): string;
  /** Errors this command ends on in its own way, before the shared reporter; undefined passes the error on. */
  ownFailure?(err: unknown, env: Env): Promise<number | undefined>;
}

export interface Command<Env extends CommandIo> {
  /** The command with the environment given: what the tests drive. */
  run(args: string[], env: Env): Promise<number>;
  /** The command as `cli.ts` runs it, with the real environment. */
  main(args: string[]): Promise<number>;
}

const built = new WeakSet<object>();

/** Whether `value` was made by `defineCommand` (the architecture test holds every command module to it). */
export function isCommand(value: unknown): boolean {
  return typeof value === 'object' && value !== null && built.has(value);
}

export function defineCommand<Options extends OptionsConfig, Positionals extends boolean, Invocation = ParsedArguments<Options, Positionals>, Config = undefined, Env extends CommandIo = CommandIo>(
  spec: CommandSpec<Options, Positionals, Invocation, Config, Env>,
): Command<Env> {
  async function runWith(args: string[], env: Env, scope: Scope): Promise<number> {
    try {
      const parsed = parseCommandArgs({ args, allowPositionals: spec.positionals, options: { ...spec.options, ...HELP_OPTION } }) as ParsedArguments<Options, Positionals>;
      if ((parsed.values as { help?: boolean }).help) {
        await env.out.write(spec.usage);
        return 0;
      }
      const invocation = spec.parse ? spec.parse(parsed, env) : (parsed as Invocation);
      const config = spec.config ? spec.config(env) : (undefined as Config);
      return await spec.run(invocation, config, env, scope);
    } catch (err) {
      const own = await spec.ownFailure?.(err, env);
      if (own !== undefined) return own;
      // Without a database, what is not a usage or configuration mistake is unexpected: cli.ts has the last word.
      if (!spec.databaseError && !isCollectorError(err, 'USAGE') && !isCollectorError(err, 'CONFIG_INVALID')) throw err;
      return reportFailure(err, {
        command: spec.name,
        usage: spec.usage,
        err: env.err,
        databaseError: (e) => spec.databaseError?.(e, scope.dataDir) ?? `ERROR: ${e.message}`,
      });
    } finally {
      await scope.close();
    }
  }
  const command: Command<Env> = {
    run: (args, env) => runWith(args, env, new Scope()),
    main: (args) => {
      const scope = new Scope();
      const io: CommandIo = { out: streamOutput(process.stdout), err: streamOutput(process.stderr) };
      return runWith(args, { ...io, ...spec.environment?.(scope) } as Env, scope);
    },
  };
  built.add(command);
  return Object.freeze(command);
}

class Scope implements CommandScope {
  dataDir: string | undefined;
  private readonly closers: Array<() => unknown> = [];

  async open(opening: Promise<CommandDatabase>): Promise<CommandDatabase> {
    const database = await opening;
    this.dataDir = database.dataDir;
    this.defer(() => database.close());
    return database;
  }

  defer(close: () => unknown): void {
    this.closers.push(close);
  }

  async close(): Promise<void> {
    for (let close = this.closers.pop(); close !== undefined; close = this.closers.pop()) await close();
  }
}
