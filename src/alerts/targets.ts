/**
 * Webhook targets: how a target is named in logs and answers without its secret (which body format a
 * well-known host takes is domain/alert-formats.ts's). Discord, Slack and ntfy put the credential in the URL
 * itself (a token in the path, a topic name that anyone who knows it can read), so no log line, metric or
 * error text ever holds more of a target URL than its scheme and host.
 */

/** `https://hooks.slack.com/…`: scheme and host only; the path, query and any user info are left out. */
export function describeTarget(url: string): string {
  const parsed = new URL(url);
  const hidden = parsed.pathname !== '/' || parsed.search !== '' || parsed.username !== '' || parsed.password !== '';
  return `${parsed.protocol}//${parsed.host}${hidden ? '/…' : '/'}`;
}

/** An error's text with every trace of the target URL (whole, path, query) replaced, for logs and answers. */
export function scrubbedErrorText(err: unknown, url: string): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  const parsed = new URL(url);
  const secrets = [url, parsed.href, `${parsed.pathname}${parsed.search}`, parsed.search, parsed.password].filter((part) => part.length > 1);
  let scrubbed = text;
  for (const secret of secrets.sort((a, b) => b.length - a.length)) scrubbed = scrubbed.split(secret).join('…');
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && !scrubbed.includes(code) ? `${code}: ${scrubbed}` : scrubbed;
}
