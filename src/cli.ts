#!/usr/bin/env node
/**
 * The `amber-collector` command: a table of subcommands, each in `src/commands/`, loaded only when used so
 * a quick `status` does not pay for the daemon's start-up.
 */
// First: on a Node too old to run the rest, this exits with one line before another module is evaluated.
import './node-version.ts';
import { CollectorError, exitCodeFor } from './errors.ts';
import { runForcedExitStops } from './embedded/forced-exit.ts';

/** A command module's `defineCommand` result (commands/frame/define-command.ts), as far as the table needs it. */
type LoadedCommand = { main(args: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<LoadedCommand> }> = {
  run: {
    summary: 'collect continuously: backfill from HISTORICAL_START_DATE, then a cycle every COLLECTION_INTERVAL_MINUTES (default)',
    load: async () => (await import('./commands/run.ts')).runCommand,
  },
  query: { summary: 'look at the collected data: summary, costs, prices, usage, export, sql (see: query --help)', load: async () => (await import('./commands/query.ts')).queryCommand },
  status: {
    summary: 'is the data complete and fresh? ranges, gaps, last success and error, remaining calls (exit 3 gaps, 4 stale, 5 nothing collected)',
    load: async () => (await import('./commands/status.ts')).statusCommand,
  },
  battery: {
    summary: 'what a battery would have saved on your history (what-if), and a schedule over the forecast (plan)',
    load: async () => (await import('./commands/battery.ts')).batteryCommand,
  },
  bill: {
    summary: "one month's statement as on an Amber bill: energy per channel, fixed charges, total: [--site ID] [--month YYYY-MM] [--json|--csv lines|intervals]",
    load: async () => (await import('./commands/bill.ts')).billCommand,
  },
  compare: {
    summary: 'would another plan be cheaper? your usage priced under plans you describe, per month beside Amber: --plans FILE',
    load: async () => (await import('./commands/compare.ts')).compareCommand,
  },
  backfill: {
    summary: 'collect a range again now: --site ID --from DATE --to DATE [--type price|usage] [--dry-run]',
    load: async () => (await import('./commands/backfill.ts')).backfillCommand,
  },
  backup: {
    summary: 'write every table to one compressed, checksummed file from a consistent snapshot: [--file F] (- for stdout)',
    load: async () => (await import('./commands/backup.ts')).backupCommand,
  },
  restore: {
    summary: 'load a backup into an empty database (or --force), schema migrated first, checksum and counts verified: FILE',
    load: async () => (await import('./commands/restore.ts')).restoreCommand,
  },
  'home-assistant': {
    summary: 'home-assistant check|sync: long-term statistics (energy, cost, prices) in Home Assistant',
    load: async () => (await import('./commands/home-assistant.ts')).homeAssistantCommand,
  },
  alerts: {
    summary: 'alerts test: send a test alert to every ALERT_WEBHOOK_URL target and show each answer',
    load: async () => (await import('./commands/alerts.ts')).alertsCommand,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return [
    'Usage: amber-collector [command] [options]',
    '',
    'Commands:',
    ...lines,
    `  ${'help'.padEnd(width)}show this text (also: amber-collector <command> --help)`,
    '',
    'Configuration comes from the environment and from .env / .env.local (see .env.example).',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name = 'run', ...args] = argv;
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`amber-collector: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load()).main(args);
  } catch (err) {
    // Commands report their own failures; this is the last word for anything they let through.
    const code = err instanceof CollectorError ? err.code : 'UNEXPECTED';
    process.stderr.write(`amber-collector ${name}: ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    return exitCodeFor(err);
  }
}

// The embedded servers this process starts are stopped even on a forced exit (embedded/forced-exit.ts).
process.on('exit', runForcedExitStops);
process.exitCode = await main(process.argv.slice(2));
