/**
 * The `json` format: the alert itself, documented in the README ("Alerts"), for any receiver of your own
 * (Home Assistant, Node-RED, n8n, a script). `type` and `version` let a receiver recognise the body and
 * notice a future change of shape.
 */
import type { Alert, RenderedAlert } from './alert.ts';

const JSON_BODY_TYPE = 'amber-collector.alert';
const JSON_BODY_VERSION = 1;

export function renderJson(alert: Alert): RenderedAlert {
  return {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: JSON_BODY_TYPE, version: JSON_BODY_VERSION, ...alert }),
  };
}
