/**
 * `alert_events`: the events alerts announce and which of their phases went out, so each phase of each
 * event is announced once, whatever the cycles and restarts in between. Also the reads alerts need from
 * the collected data: actual prices over an event, and days gap repair has given up on.
 */
import type { Queryable } from './pool.ts';

export interface AlertEventRow {
  id: string;
  siteId: string | null;
  kind: string;
  subject: string;
  startsAt: Date | null;
  endsAt: Date | null;
  forecastPeak: number | null;
  phasesSent: string[];
  detail: Record<string, unknown>;
  openedAt: Date;
}

interface RawRow {
  id: string;
  site_id: string | null;
  kind: string;
  subject: string;
  starts_at: Date | null;
  ends_at: Date | null;
  forecast_peak: string | null;
  phases_sent: string[];
  detail: Record<string, unknown>;
  opened_at: Date;
}

const COLUMNS = 'id::text, site_id, kind, subject, starts_at, ends_at, forecast_peak::text, phases_sent, detail, opened_at';

function toRow(raw: RawRow): AlertEventRow {
  return {
    id: raw.id,
    siteId: raw.site_id,
    kind: raw.kind,
    subject: raw.subject,
    startsAt: raw.starts_at,
    endsAt: raw.ends_at,
    forecastPeak: raw.forecast_peak === null ? null : Number(raw.forecast_peak),
    phasesSent: raw.phases_sent,
    detail: raw.detail,
    openedAt: raw.opened_at,
  };
}

export async function readOpenAlertEvents(db: Queryable): Promise<AlertEventRow[]> {
  const result = await db.query<RawRow>(`SELECT ${COLUMNS} FROM alert_events WHERE closed_at IS NULL ORDER BY id`);
  return result.rows.map(toRow);
}

type NewAlertEvent = Omit<AlertEventRow, 'id' | 'phasesSent'> & {
  /** The phase announced as the event opens. */
  phase: string;
};

/**
 * Records a new event with its first phase already claimed. Null when collector trouble of this kind is
 * already open for the site and subject (nothing to announce then).
 */
export async function openAlertEvent(db: Queryable, event: NewAlertEvent): Promise<AlertEventRow | null> {
  const result = await db.query<RawRow>(
    `INSERT INTO alert_events (site_id, kind, subject, starts_at, ends_at, forecast_peak, phases_sent, detail, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6, ARRAY[$7], $8, $9)
     ON CONFLICT DO NOTHING
     RETURNING ${COLUMNS}`,
    [event.siteId, event.kind, event.subject, event.startsAt, event.endsAt, event.forecastPeak, event.phase, event.detail, event.openedAt],
  );
  const row = result.rows[0];
  return row === undefined ? null : toRow(row);
}

/** The event's span and forecast as last seen; `forecastPeak` null keeps the stored one, `detail` is merged in. */
export async function updateAlertEvent(
  db: Queryable,
  id: string,
  values: { startsAt: Date | null; endsAt: Date | null; forecastPeak: number | null; detail: Record<string, unknown> },
): Promise<void> {
  await db.query(
    `UPDATE alert_events SET starts_at = $2, ends_at = $3, forecast_peak = coalesce($4, forecast_peak), detail = detail || $5::jsonb WHERE id = $1`,
    [id, values.startsAt, values.endsAt, values.forecastPeak, values.detail],
  );
}

/**
 * Marks `phase` of the event as announced, and closes the event when `close` is set. True when this call
 * did it; false when the phase was already announced (so the caller must not announce it again).
 */
export async function claimAlertPhase(db: Queryable, id: string, phase: string, options: { close: boolean; at: Date }): Promise<boolean> {
  const result = await db.query(
    `UPDATE alert_events
        SET phases_sent = phases_sent || ARRAY[$2],
            closed_at = CASE WHEN $3 THEN $4::timestamptz ELSE closed_at END
      WHERE id = $1 AND NOT ($2 = ANY (phases_sent))`,
    [id, phase, options.close, options.at],
  );
  return (result.rowCount ?? 0) > 0;
}

interface ActualPrice {
  endTime: Date;
  duration: number;
  perKwh: number;
  spikeStatus: string;
}

/** The actual prices stored for a site's channel over intervals ending in (from, to], in order. */
export async function readActualPrices(db: Queryable, siteId: string, channel: string, from: Date, to: Date): Promise<ActualPrice[]> {
  const result = await db.query<{ nem_time: Date; duration: number; per_kwh: string; spike_status: string }>(
    `SELECT nem_time, duration, per_kwh::text, spike_status
       FROM price_data
      WHERE site_id = $1 AND channel_type = $2 AND nem_time > $3 AND nem_time <= $4
        AND duration = (SELECT interval_length FROM sites WHERE id = $1)
      ORDER BY nem_time`,
    [siteId, channel, from, to],
  );
  return result.rows.map((r) => ({ endTime: r.nem_time, duration: r.duration, perKwh: Number(r.per_kwh), spikeStatus: r.spike_status }));
}

interface UnrepairedGaps {
  siteId: string;
  dataType: string;
  days: number;
  first: string;
  last: string;
}

/** Per stream, the days re-fetched at least `fruitlessChecks` times in a row without gaining an interval. */
export async function readUnrepairedGaps(db: Queryable, fruitlessChecks: number): Promise<UnrepairedGaps[]> {
  const result = await db.query<{ site_id: string; data_type: string; days: number; first: string; last: string }>(
    `SELECT site_id, data_type, count(*)::int AS days, min(nem_date)::text AS first, max(nem_date)::text AS last
       FROM coverage_checks
      WHERE fruitless_checks >= $1
      GROUP BY site_id, data_type
      ORDER BY site_id, data_type`,
    [fruitlessChecks],
  );
  return result.rows.map((r) => ({ siteId: r.site_id, dataType: r.data_type, days: r.days, first: r.first, last: r.last }));
}
