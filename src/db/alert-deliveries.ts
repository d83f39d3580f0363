/**
 * `alert_deliveries`: each announcement's delivery to each webhook target, from the moment the phase is
 * recorded as announced until it is delivered, dropped or superseded, so held and retrying deliveries
 * survive a stop. The announcement is stored as the JSON every format renders; this module does not
 * look inside it.
 */
import type { Queryable } from './pool.ts';

export interface StoredDelivery {
  id: string;
  eventId: string;
  phase: string;
  /** The target's key (a hash of its URL), see `alerts/targets.ts`. */
  target: string;
  alert: unknown;
  attempts: number;
  nextAttemptAt: Date;
  /** When it passed the quiet hours and the hourly cap; null while it may still be held or capped. */
  dispatchedAt: Date | null;
}

interface RawDelivery {
  id: string;
  event_id: string;
  phase: string;
  target: string;
  alert: unknown;
  attempts: number;
  next_attempt_at: Date;
  dispatched_at: Date | null;
}

const COLUMNS = 'id::text, event_id::text, phase, target, alert, attempts, next_attempt_at, dispatched_at';

function toDelivery(raw: RawDelivery): StoredDelivery {
  return {
    id: raw.id,
    eventId: raw.event_id,
    phase: raw.phase,
    target: raw.target,
    alert: raw.alert,
    attempts: raw.attempts,
    nextAttemptAt: raw.next_attempt_at,
    dispatchedAt: raw.dispatched_at,
  };
}

/** One pending delivery per target; a phase already recorded for a target is not recorded twice. */
export async function insertAlertDeliveries(
  db: Queryable,
  announcement: { eventId: string; phase: string; alert: unknown; targets: readonly string[]; at: Date },
): Promise<StoredDelivery[]> {
  const result = await db.query<RawDelivery>(
    `INSERT INTO alert_deliveries (event_id, phase, target, alert, next_attempt_at, created_at)
     SELECT $1, $2, target, $4, $5, $5 FROM unnest($3::text[]) AS target
     ON CONFLICT (event_id, phase, target) DO NOTHING
     RETURNING ${COLUMNS}`,
    [announcement.eventId, announcement.phase, announcement.targets, JSON.stringify(announcement.alert), announcement.at],
  );
  return result.rows.map(toDelivery);
}

/** Every delivery not finished yet, oldest first. */
export async function readPendingAlertDeliveries(db: Queryable): Promise<StoredDelivery[]> {
  const result = await db.query<RawDelivery>(`SELECT ${COLUMNS} FROM alert_deliveries WHERE state = 'pending' ORDER BY id`);
  return result.rows.map(toDelivery);
}

export async function markAlertDeliveriesDispatched(db: Queryable, ids: readonly string[], at: Date): Promise<void> {
  await db.query(`UPDATE alert_deliveries SET dispatched_at = $2 WHERE id = ANY ($1::bigint[]) AND dispatched_at IS NULL`, [ids, at]);
}

/** A failed attempt that will be retried: counted, with the time before which it is not tried again. */
export async function recordAlertDeliveryAttempt(db: Queryable, id: string, attempts: number, nextAttemptAt: Date): Promise<void> {
  await db.query(`UPDATE alert_deliveries SET attempts = $2, next_attempt_at = $3 WHERE id = $1 AND state = 'pending'`, [id, attempts, nextAttemptAt]);
}

/** Ends deliveries: delivered, dropped (with the reason) or superseded by a newer phase of their event. */
export async function finishAlertDeliveries(
  db: Queryable,
  ids: readonly string[],
  outcome: { state: 'delivered' | 'dropped' | 'superseded'; reason?: string; attempts?: number; at: Date },
): Promise<void> {
  await db.query(
    `UPDATE alert_deliveries
        SET state = $2, drop_reason = $3, attempts = coalesce($4, attempts), finished_at = $5
      WHERE id = ANY ($1::bigint[]) AND state = 'pending'`,
    [ids, outcome.state, outcome.reason ?? null, outcome.attempts ?? null, outcome.at],
  );
}
