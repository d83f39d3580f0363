/** A minimal alert for delivery tests, where only its identity matters, not its words. */
import type { Alert, AlertKind, AlertPhase } from '../../src/alerts/alert.ts';

export function minimalAlert(event: string, phase: AlertPhase, kind: AlertKind = 'price_above'): Alert {
  return {
    id: `${event}:${phase}`,
    event,
    kind,
    phase,
    severity: kind === 'stale' ? 'critical' : 'warning',
    title: `${kind} ${phase}`,
    text: 'text',
    site: null,
    channel: null,
    window: null,
    intervals: [],
    price: null,
    dashboardUrl: null,
    createdAt: '2025-11-21T08:00:00.000Z',
  };
}
