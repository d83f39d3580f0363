/** Renders an alert in the body format its target takes. */
import type { Alert, RenderedAlert } from './alert.ts';
import { renderDiscord } from './format-discord.ts';
import { renderJson } from './format-json.ts';
import { renderNtfy } from './format-ntfy.ts';
import { renderSlack } from './format-slack.ts';
import type { AlertFormat } from '../domain/alert-formats.ts';

const RENDERERS: Record<AlertFormat, (alert: Alert) => RenderedAlert> = {
  json: renderJson,
  ntfy: renderNtfy,
  discord: renderDiscord,
  slack: renderSlack,
};

export function renderAlert(alert: Alert, format: AlertFormat): RenderedAlert {
  return RENDERERS[format](alert);
}
