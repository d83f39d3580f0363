/** One alert, rendered for one target's format: the request body and its headers. */
import type { AlertFormat } from '../config.ts';
import type { Alert } from './alert.ts';
import { renderDiscord } from './format-discord.ts';
import { renderJson } from './format-json.ts';
import { renderNtfy } from './format-ntfy.ts';
import { renderSlack } from './format-slack.ts';

export interface RenderedAlert {
  headers: Record<string, string>;
  body: string;
}

const RENDERERS: Record<AlertFormat, (alert: Alert) => RenderedAlert> = {
  json: renderJson,
  ntfy: renderNtfy,
  discord: renderDiscord,
  slack: renderSlack,
};

export function renderAlert(alert: Alert, format: AlertFormat): RenderedAlert {
  return RENDERERS[format](alert);
}
