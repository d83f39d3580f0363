/**
 * The `ntfy` format (docs.ntfy.sh/publish): the message as the plain-text body of a POST to the topic URL,
 * with the title, priority (1 min … 5 max), tags (emoji short codes) and click-through link in headers.
 * Header values must be plain ASCII, so the title is reduced to it; the body is UTF-8.
 */
import { alertFacts, type Alert, type RenderedAlert } from './alert.ts';

const TAGS: Record<Alert['kind'], string> = {
  price_above: 'money_with_wings',
  price_below: 'zap',
  feed_in_above: 'sunny',
  spike: 'rotating_light',
  stale: 'hourglass',
  stream_failing: 'warning',
  api_key_rejected: 'no_entry',
  gaps_unrepaired: 'jigsaw',
  test: 'test_tube',
};

export function renderNtfy(alert: Alert): RenderedAlert {
  const calm = alert.phase === 'ended' || alert.phase === 'resolved' || alert.phase === 'test';
  const priority = calm ? 3 : alert.severity === 'critical' ? 5 : alert.severity === 'warning' ? 4 : 3;
  const tags = [TAGS[alert.kind], ...(calm && alert.phase !== 'test' ? ['white_check_mark'] : [])];
  const facts = alertFacts(alert).map((fact) => `${fact.name}: ${fact.value}`);
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    title: ascii(alert.title),
    priority: String(priority),
    tags: tags.join(','),
  };
  // Header values must be ASCII: URL writes a non-ASCII host in punycode and percent-encodes the rest.
  const click = alert.dashboardUrl === null ? null : URL.parse(alert.dashboardUrl);
  if (click) headers['click'] = click.href;
  return { headers, body: [alert.text, '', ...facts].join('\n') };
}

/** Typographic characters to their ASCII look-alikes; anything else outside printable ASCII is dropped. */
function ascii(text: string): string {
  return text
    .replace(/[–—]/g, '-')
    .replace(/[‘’]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/…/g, '...')
    .replace(/[^\x20-\x7e]/g, '')
    .slice(0, 250);
}
