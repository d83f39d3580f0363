/**
 * The `slack` format: an incoming-webhook body (api.slack.com/messaging/webhooks) with `text` as the
 * notification fallback and Block Kit blocks: a header (plain text, at most 150 characters), the text as a
 * mrkdwn section (at most 3000), the facts as section fields (at most 10, 2000 each) and a context line
 * with the dashboard link. `&`, `<` and `>` are escaped, so no alert text can become a link or a mention.
 */
import { alertFacts, clip, type Alert, type RenderedAlert } from './alert.ts';

export function renderSlack(alert: Alert): RenderedAlert {
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(alert.title, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(escape(alert.text), 3000) } },
  ];
  const fields = alertFacts(alert)
    .slice(0, 10)
    .map((fact) => ({ type: 'mrkdwn', text: clip(`*${escape(fact.name)}*\n${escape(fact.value)}`, 2000) }));
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  const context = [`amber-collector · ${alert.kind} · ${alert.phase}`];
  if (alert.dashboardUrl) context.push(`<${escape(alert.dashboardUrl)}|Open the dashboard>`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: clip(alert.title, 3000), blocks }) };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
