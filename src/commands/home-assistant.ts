/**
 * `amber-collector home-assistant sync|check`: the long-term statistics by hand. `check` connects, authenticates
 * and lists every statistic a sync would create (the ids to pick in the Energy dashboard); `sync` sends what
 * changed since the last sync (the daemon does this after every cycle that stores data), `--from DATE` everything
 * from that NEM day again, and `--full` the whole archive again.
 */
import { readHomeAssistantCommandConfig } from '../config/config.ts';
import { nemDayStart } from '../domain/nem-time.ts';
import { isCollectorError } from '../errors.ts';
import { planStatistics, syncStatistics } from '../home-assistant/sync.ts';
import { checkHomeAssistant } from '../home-assistant/syncer.ts';
import { HomeAssistantSocket } from '../home-assistant/websocket.ts';
import { silentLogger } from '../logger.ts';
import { openCommandDatabase } from '../embedded/database-server.ts';
import { streamOutput } from './output/output.ts';
import { requireSite } from '../query/site-selection.ts';
import { HELP_OPTION, parseCommandArgs, SITE_OPTION, siteOption, usageError } from './arguments.ts';
import { reportFailure } from './failure.ts';

const USAGE = `Usage: amber-collector home-assistant check
       amber-collector home-assistant sync [--site ID] [--from YYYY-MM-DD] [--full]

check   connect to HOME_ASSISTANT_URL with HOME_ASSISTANT_TOKEN and list the statistics a sync creates
sync    send Home Assistant the hours it does not hold as the database has them, and read them back
  --site ID          only this site (default: every site, or AMBER_SITE_IDS)
  --from YYYY-MM-DD  send everything from this NEM day on again
  --full             send the whole archive again

Exit status: 0 done, 1 a problem to fix (settings, token, Home Assistant refusing), 2 bad usage,
75 Home Assistant or the database could not be reached, or did not hold what was sent (try again).
`;

export async function homeAssistantCommand(args: string[]): Promise<number> {
  const out = streamOutput(process.stdout);
  const err = streamOutput(process.stderr);
  const say = (text: string) => err.write(`amber-collector home-assistant: ${text}\n`);
  let database: Awaited<ReturnType<typeof openCommandDatabase>> | null = null;
  let socket: HomeAssistantSocket | null = null;
  try {
    const { values, positionals } = parseCommandArgs({
      args,
      allowPositionals: true,
      options: { ...SITE_OPTION, ...HELP_OPTION, from: { type: 'string' }, full: { type: 'boolean' } },
    });
    if (values.help) {
      await out.write(USAGE);
      return 0;
    }
    const action = positionals[0];
    if (positionals.length !== 1 || (action !== 'sync' && action !== 'check')) throw usageError('expected "sync" or "check"');
    if (action === 'check' && (values.from !== undefined || values.full || values.site !== undefined)) throw usageError('check takes no options');
    if (values.from !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.from)) throw usageError(`--from: expected YYYY-MM-DD, got "${values.from}"`);
    const config = readHomeAssistantCommandConfig();
    if (config.homeAssistant === null) {
      await say('HOME_ASSISTANT_URL and HOME_ASSISTANT_TOKEN are not set (see the README, "Home Assistant")');
      return 1;
    }
    await checkHomeAssistant(config.homeAssistant, silentLogger());
    database = await openCommandDatabase(config.database, { applicationName: 'amber-collector-home-assistant', max: 2 });
    const site = siteOption(values.site);
    if (site !== null) await requireSite(database.pool, site);
    socket = await HomeAssistantSocket.connect(config.homeAssistant.url, config.homeAssistant.token);
    const siteIds = site !== null ? [site] : config.siteIds;
    if (action === 'check') {
      const planned = await planStatistics(database.pool, siteIds);
      await out.write(`Home Assistant ${socket.version} at ${new URL(config.homeAssistant.url).origin}: the token works.\n`);
      await out.write(planned.length === 0 ? 'Nothing to send yet: no usage or settled prices are stored.\n' : `A sync creates or updates ${planned.length} statistics:\n`);
      for (const { metadata, rows } of planned) await out.write(`  ${metadata.statistic_id}  ${metadata.unit_of_measurement}  ${metadata.name} (${rows.length} hours)\n`);
      return 0;
    }
    const started = Date.now();
    const summary = await syncStatistics(
      { pool: database.pool, socket, logger: silentLogger() },
      { siteIds, full: values.full === true, fromMs: values.from === undefined ? null : nemDayStart(values.from).getTime() },
    );
    await out.write(`${summary.hoursSent} hours sent over ${summary.statistics} statistics in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    if (summary.mismatches > 0) {
      await say(`${summary.mismatches} statistics did not read back as sent (${summary.hoursPending} hours pending); run the sync again`);
      return 75;
    }
    return 0;
  } catch (error) {
    if (isCollectorError(error, 'HOME_ASSISTANT_UNAVAILABLE') || isCollectorError(error, 'HOME_ASSISTANT_REJECTED')) {
      await say(error.message);
      return error.code === 'HOME_ASSISTANT_REJECTED' ? 1 : 75;
    }
    return reportFailure(error, { command: 'home-assistant', usage: USAGE, err, databaseError: (e) => `the database refused a query: ${e.message}` });
  } finally {
    socket?.close();
    await database?.close();
  }
}
