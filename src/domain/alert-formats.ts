/**
 * The alert vocabulary every layer shares: the body formats a webhook takes, a target (its URL and format),
 * and which format a well-known host is given when the configuration names none.
 */

/** The body formats a webhook takes; a URL may name its own with a `json+`, `ntfy+`, `discord+` or `slack+` prefix. */
export const ALERT_FORMATS = ['json', 'ntfy', 'discord', 'slack'] as const;

export type AlertFormat = (typeof ALERT_FORMATS)[number];

export interface AlertTarget {
  /** The full URL. It usually carries a secret (a token in the path or query): never log it, see describeTarget. */
  url: string;
  format: AlertFormat;
}

/** The format a URL's host is known for: Discord and Slack incoming webhooks, ntfy.sh topics; json otherwise. */
export function inferAlertFormat(url: string): AlertFormat {
  const { hostname, pathname } = new URL(url);
  const host = hostname.toLowerCase();
  if ((host === 'discord.com' || host === 'discordapp.com' || host.endsWith('.discord.com')) && pathname.startsWith('/api/webhooks/')) {
    return 'discord';
  }
  if (host === 'hooks.slack.com') return 'slack';
  if (host === 'ntfy.sh') return 'ntfy';
  return 'json';
}
