/**
 * The Home Assistant settings: where the long-term statistics go. Both unset turns the feature off; one without
 * the other is a configuration mistake.
 */
import { problem, type Problem } from './fields.ts';

export interface HomeAssistantConfig {
  /** http(s)://host:port, no path: the websocket API is at /api/websocket below it. */
  url: string;
  /** A long-lived access token of an administrator. Never logged. */
  token: string;
}

export function parseHomeAssistantUrl(raw: string): string | Problem {
  const url = URL.parse(raw);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || /\s/.test(raw)) {
    return problem(`expected an http:// or https:// URL such as http://homeassistant.local:8123${raw.includes('@') ? '' : `, got "${raw}"`}`);
  }
  if (url.username !== '' || url.password !== '') return problem('must not contain a user name or password (the value is not shown): the token goes in HOME_ASSISTANT_TOKEN');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export function homeAssistantConfig(env: { HOME_ASSISTANT_URL: string | null; HOME_ASSISTANT_TOKEN: string | null }): HomeAssistantConfig | null {
  return env.HOME_ASSISTANT_URL === null || env.HOME_ASSISTANT_TOKEN === null ? null : { url: env.HOME_ASSISTANT_URL, token: env.HOME_ASSISTANT_TOKEN };
}
