/**
 * Alerts for delivery tests, where only an alert's identity matters, not its words, and a way to hand one
 * to a delivery queue as the alerter does: its event in `alert_events`, its deliveries recorded, then accepted.
 */
import type pg from 'pg';
import type { Alert, AlertKind, AlertPhase } from '../../src/alerts/alert.ts';
import type { DeliveryQueue } from '../../src/alerts/delivery.ts';
import { openAlertEvent } from '../../src/db/alert-events.ts';

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

/** Announces alerts through `queue`, one `alert_events` row per distinct `alert.event`. */
export function announcer(pool: pg.Pool): (queue: DeliveryQueue, alert: Alert) => Promise<void> {
  const events = new Map<string, string>();
  return async (queue, alert) => {
    let eventId = events.get(alert.event);
    if (eventId === undefined) {
      const row = await openAlertEvent(pool, {
        siteId: null,
        kind: alert.kind,
        subject: alert.event,
        startsAt: null,
        endsAt: null,
        forecastPeak: null,
        phase: alert.phase,
        detail: {},
        openedAt: new Date(alert.createdAt),
      });
      eventId = row!.id;
      events.set(alert.event, eventId);
    }
    queue.accept(await queue.record(pool, eventId, alert));
  };
}
