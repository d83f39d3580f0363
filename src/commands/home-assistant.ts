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
import type { Output } from './output/output.ts';
import { requireSite } from '../query/site-selection.ts';
import { SITE_OPTION, siteOption, usageError } from './frame/arguments.ts';
import { defineCommand } from './frame/define-command.ts';

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

export const homeAssistantCommand = defineCommand({
  name: 'home-assistant',
  usage: USAGE,
  options: { ...SITE_OPTION, from: { type: 'string' }, full: { type: 'boolean' } },
  positionals: true,
  parse({ values, positionals }) {
    const action = positionals[0];
    if (positionals.length !== 1 || (action !== 'sync' && action !== 'check')) throw usageError('expected "sync" or "check"');
    if (action === 'check' && (values.from !== undefined || values.full || values.site !== undefined)) throw usageError('check takes no options');
    if (values.from !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.from)) throw usageError(`--from: expected YYYY-MM-DD, got "${values.from}"`);
    return { action, site: values.site, from: values.from, full: values.full === true };
  },
  config: () => readHomeAssistantCommandConfig(),
  async run({ action, ...options }, config, { out, err }, scope) {
    if (config.homeAssistant === null) {
      await say(err, 'HOME_ASSISTANT_URL and HOME_ASSISTANT_TOKEN are not set (see the README, "Home Assistant")');
      return 1;
    }
    await checkHomeAssistant(config.homeAssistant, silentLogger());
    const database = await scope.open(openCommandDatabase(config.database, { applicationName: 'amber-collector-home-assistant', max: 2 }));
    const site = siteOption(options.site);
    if (site !== null) await requireSite(database.pool, site);
    const socket = await HomeAssistantSocket.connect(config.homeAssistant.url, config.homeAssistant.token);
    scope.defer(() => socket.close());
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
      { siteIds, full: options.full, fromMs: options.from === undefined ? null : nemDayStart(options.from).getTime() },
    );
    await out.write(`${summary.hoursSent} hours sent over ${summary.statistics} statistics in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    if (summary.mismatches > 0) {
      await say(err, `${summary.mismatches} statistics did not read back as sent (${summary.hoursPending} hours pending); run the sync again`);
      return 75;
    }
    return 0;
  },
  async ownFailure(error, { err }) {
    if (!isCollectorError(error, 'HOME_ASSISTANT_UNAVAILABLE') && !isCollectorError(error, 'HOME_ASSISTANT_REJECTED')) return undefined;
    await say(err, error.message);
    return error.code === 'HOME_ASSISTANT_REJECTED' ? 1 : 75;
  },
  databaseError: (e) => `the database refused a query: ${e.message}`,
});

function say(err: Output, text: string): Promise<void> {
  return err.write(`amber-collector home-assistant: ${text}\n`);
}
