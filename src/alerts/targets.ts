/**
 * Webhook targets: how a target is named in logs and answers without its secret (which body format a
 * well-known host takes is domain/alert-formats.ts's). Discord, Slack and ntfy put the credential in the URL
 * itself (a token in the path, a topic name that anyone who knows it can read), so no log line, metric or
 * error text ever holds more of a target URL than its scheme and host.
 */
import { createHash } from 'node:crypto';

/** `https://hooks.slack.com/…`: scheme and host only; the path, query and any user info are left out. */
export function describeTarget(url: string): string {
  const parsed = new URL(url);
  const hidden = parsed.pathname !== '/' || parsed.search !== '' || parsed.username !== '' || parsed.password !== '';
  return `${parsed.protocol}//${parsed.host}${hidden ? '/…' : '/'}`;
}

/** An error's text with every trace of the target URL (whole, path, query, password) replaced, for logs and answers. */
export function scrubbedErrorText(err: unknown, url: string): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  const parsed = new URL(url);
  // A receiver may echo the request back in its error answer: its Basic credentials are scrubbed too.
  const basic = splitCredentials(url).authorization?.slice('Basic '.length) ?? '';
  const secrets = [url, parsed.href, `${parsed.pathname}${parsed.search}`, parsed.search, parsed.password, percentDecoded(parsed.password), basic].filter(
    (part) => part.length > 1,
  );
  let scrubbed = text;
  for (const secret of secrets.sort((a, b) => b.length - a.length)) scrubbed = scrubbed.split(secret).join('…');
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && !scrubbed.includes(code) ? `${code}: ${scrubbed}` : scrubbed;
}

/**
 * The URL without its user info, and that user info as an HTTP Basic `Authorization` value: undici sends
 * none for it by itself, so `https://user:pass@host/…` (a self-hosted ntfy, a receiver behind a proxy)
 * would reach the receiver without its credentials.
 */
export function splitCredentials(raw: string): { url: string; authorization: string | null } {
  const parsed = new URL(raw);
  if (parsed.username === '' && parsed.password === '') return { url: raw, authorization: null };
  const credentials = `${percentDecoded(parsed.username)}:${percentDecoded(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}

/** URL user info as meant (`p%40ss` is `p@ss`), as a browser reads it; a malformed escape (`%zz`) is kept as written. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** How a target is named in the database: a hash of its URL, so the stored deliveries hold no secret. */
export function targetKey(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}
