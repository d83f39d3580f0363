/**
 * The `discord` format: an Execute Webhook body (discord.com/developers/docs/resources/webhook) with the
 * title as `content` (what a phone notification shows) and one embed holding the text and the facts as
 * fields. Discord's limits are kept: content 2000 characters, embed title 256, description 4096, at most 25
 * fields with names of 256 and values of 1024, 6000 in all. Mentions are switched off, so no text from an
 * alert can ping anyone.
 */
import { alertFacts, clip, type Alert, type RenderedAlert } from './alert.ts';

const COLOURS: Record<Alert['severity'], number> = { critical: 0xd62828, warning: 0xf77f00, info: 0x2a9d8f };
const RESOLVED_COLOUR = 0x6a994e;

export function renderDiscord(alert: Alert): RenderedAlert {
  const calm = alert.phase === 'ended' || alert.phase === 'resolved';
  const embed: Record<string, unknown> = {
    title: clip(alert.title, 256),
    description: clip(alert.text, 4096),
    color: calm ? RESOLVED_COLOUR : COLOURS[alert.severity],
    fields: alertFacts(alert)
      .slice(0, 25)
      .map((fact) => ({ name: clip(fact.name, 256), value: clip(fact.value, 1024), inline: !fact.value.includes('\n') })),
    timestamp: alert.createdAt,
    footer: { text: clip(`amber-collector · ${alert.kind} · ${alert.phase}`, 2048) },
  };
  if (alert.dashboardUrl) embed['url'] = alert.dashboardUrl;
  const body = { username: 'amber-collector', content: clip(alert.title, 2000), embeds: [embed], allowed_mentions: { parse: [] } };
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
