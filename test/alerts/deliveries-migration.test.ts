/**
 * Migration 000007 (`alert_deliveries`) on a database that already holds collected data and alert events,
 * some of them open with phases announced: it applies, keeps every row, and the alerter then records
 * deliveries for those older events, once per phase and target.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { insertAlertDeliveries } from '../../src/db/alert-deliveries.ts';
import { claimAlertPhase, readOpenAlertEvents } from '../../src/db/alert-events.ts';
import { migrate, readSchemaVersion } from '../../src/db/migrate.ts';
import { silentLogger } from '../../src/logger.ts';
import { databaseForTest } from '../helpers/database.ts';

const MIGRATIONS = fileURLToPath(new URL('../../sql/migrations/', import.meta.url));
const DELIVERIES = '000007_alert_deliveries.sql';

/** The packaged migrations before 000007: the schema a database had before the upgrade. */
function migrationsBefore(): string {
  const dir = mkdtempSync(join(tmpdir(), 'amber-migrations-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  for (const file of readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql') && f < DELIVERIES)) copyFileSync(join(MIGRATIONS, file), join(dir, file));
  return dir;
}

describe('migration 000007 (alert deliveries)', () => {
  it('upgrades a database holding data and open alert events, which then get their deliveries recorded', async () => {
    const db = await databaseForTest({ migrated: false });
    await migrate(db.pool, silentLogger(), { directory: migrationsBefore() });
    expect(await readSchemaVersion(db.pool)).toBe(6);
    await db.pool.query(`
      INSERT INTO sites (id, nmi, network, status, interval_length, channels, raw)
      VALUES ('SITE1', '4103827719', 'Ausgrid', 'active', 5, '[]', '{}');
      INSERT INTO alert_events (site_id, kind, subject, starts_at, ends_at, forecast_peak, phases_sent, detail, opened_at)
      VALUES ('SITE1', 'price_above', 'general', '2025-11-21T08:00Z', '2025-11-21T08:30Z', 312.4, '{forecast}', '{"spikeStatus":"spike"}', '2025-11-21T07:05Z'),
             ('SITE1', 'stale', 'price', NULL, NULL, NULL, '{opened}', '{}', '2025-11-21T07:00Z'),
             ('SITE1', 'price_above', 'general', '2025-11-20T08:00Z', '2025-11-20T08:30Z', 150, '{forecast,started,ended}', '{}', '2025-11-20T07:00Z');
      UPDATE alert_events SET closed_at = '2025-11-20T09:00Z' WHERE 'ended' = ANY (phases_sent);`);
    const before = (await db.pool.query('SELECT * FROM alert_events ORDER BY id')).rows;

    const { applied } = await migrate(db.pool, silentLogger(), { upTo: 7 });
    expect(applied).toEqual([DELIVERIES]);
    expect((await db.pool.query('SELECT * FROM alert_events ORDER BY id')).rows).toEqual(before);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM alert_deliveries')).rows).toEqual([{ n: 0 }]);

    // The open spike starts after the upgrade: its "started" is recorded with a delivery per target, once.
    const [spike] = await readOpenAlertEvents(db.pool);
    expect(await claimAlertPhase(db.pool, spike!.id, 'started', { close: false, at: new Date('2025-11-21T08:01Z') })).toBe(true);
    const delivery = { eventId: spike!.id, phase: 'started', alert: { id: `event-${spike!.id}:started` }, targets: ['a', 'b'], at: new Date('2025-11-21T08:01Z') };
    expect(await insertAlertDeliveries(db.pool, delivery)).toHaveLength(2);
    expect(await insertAlertDeliveries(db.pool, delivery)).toHaveLength(0);
    // An ordinary table of the schema: the foreign key keeps deliveries to events that exist.
    await expect(insertAlertDeliveries(db.pool, { ...delivery, eventId: '999' })).rejects.toThrow(/foreign key/);
  });
});
