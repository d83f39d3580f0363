/**
 * `integration_status`: the daemon's last word on each connection to another system (the MQTT broker), so that
 * `status` and /api/status, which read the database, show what only the daemon's memory knows.
 */
import type { Queryable } from './pool.ts';

export interface IntegrationStatusRow {
  integration: string;
  state: Record<string, unknown>;
  updatedAt: string;
}

export async function recordIntegrationStatus(db: Queryable, integration: string, state: object): Promise<void> {
  await db.query(
    `INSERT INTO integration_status (integration, state, updated_at) VALUES ($1, $2::jsonb, now())
     ON CONFLICT (integration) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
    [integration, JSON.stringify(state)],
  );
}

export async function readIntegrationStatuses(db: Queryable): Promise<IntegrationStatusRow[]> {
  const result = await db.query<{ integration: string; state: Record<string, unknown>; updated_at: Date }>(
    'SELECT integration, state, updated_at FROM integration_status ORDER BY integration',
  );
  return result.rows.map((row) => ({ integration: row.integration, state: row.state, updatedAt: row.updated_at.toISOString() }));
}
