/**
 * `amber-collector alerts test`: sends a test alert to every ALERT_WEBHOOK_URL target at once and prints
 * each one's answer, so a person setting up alerts sees which URL works before waiting for a real event.
 * Targets are named by number, format and host only: their URLs carry secrets.
 */
import { dashboardLink, testAlert } from '../alerts/messages.ts';
import { sendAlert } from '../alerts/send.ts';
import { describeTarget } from '../alerts/targets.ts';
import { readAlertTestConfig } from '../config/config.ts';
import { usageError } from './frame/arguments.ts';
import { defineCommand, type CommandIo } from './frame/define-command.ts';

const USAGE = `Usage: amber-collector alerts test

Sends a test alert to every target in ALERT_WEBHOOK_URL and prints each one's answer and the body format
it was sent in.
Exit status: 0 every target accepted it, 1 a target refused it or the configuration is wrong, 2 bad usage.
`;

const TEST_TIMEOUT_MS = 10_000;
const JSON_HINT =
  "json is amber-collector's own body; an ntfy, Discord or Slack server on another host than ntfy.sh, discord.com or hooks.slack.com needs the ntfy+, discord+ or slack+ prefix on its URL";

export const alertsCommand = defineCommand({
  name: 'alerts',
  usage: USAGE,
  options: {},
  positionals: true,
  parse({ positionals }) {
    if (positionals.length !== 1 || positionals[0] !== 'test') throw usageError('expected "test"');
  },
  config: () => readAlertTestConfig(),
  run: (_invocation, config, env) => sendTestAlerts(config, env),
});

/** The test alert to every target at once, and each one's answer. */
async function sendTestAlerts(config: ReturnType<typeof readAlertTestConfig>, { out, err }: CommandIo): Promise<number> {
  const targets = config.alerts.targets;
  if (targets.length === 0) {
    await err.write('amber-collector alerts: ALERT_WEBHOOK_URL is not set, so there is no target to test\n');
    return 1;
  }
  const now = new Date();
  const alert = testAlert({ site: null, dashboardUrl: dashboardLink(config.publicUrl, null), now });
  const outcomes = await Promise.all(targets.map((target) => sendAlert(alert, target, { timeoutMs: TEST_TIMEOUT_MS })));
  for (const [index, outcome] of outcomes.entries()) {
    const target = targets[index]!;
    const verdict = outcome.ok ? 'accepted' : 'FAILED';
    await out.write(`${index + 1}. ${describeTarget(target.url)}: ${verdict} (${outcome.detail}, ${outcome.durationMs} ms), sent as ${target.format}\n`);
    // A receiver accepts a body it cannot read all the same: a self-hosted ntfy shows the raw JSON.
    if (target.format === 'json') await out.write(`   ${JSON_HINT}\n`);
  }
  return outcomes.every((o) => o.ok) ? 0 : 1;
}
