/**
 * Backup and restore as the collector's own role, the way compose and Kubernetes run it: a role that owns its
 * database but is not a superuser (no session_replication_role, no COPY to files) can back up and restore
 * everything, identity values and --force included.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { expect, inject, it, onTestFinished } from 'vitest';
import { makeBackup } from '../../src/backup/make-backup.ts';
import { restoreBackup } from '../../src/backup/restore-backup.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { silentLogger } from '../../src/logger.ts';
import { databaseUrl, dropDatabase, quoteIdent, withAdmin } from '../helpers/database-admin.ts';

it('backs up and restores as a role that owns its database and is not a superuser', { timeout: 60_000 }, async () => {
  const server = inject('databaseUrl');
  const role = `amber_backup_role_${randomBytes(4).toString('hex')}`;
  // A password, so the role also logs in on a server with password authentication (the embedded one).
  const password = randomBytes(12).toString('hex');
  const [source, target] = [`${role}_source`, `${role}_target`];
  const folder = await mkdtemp(join(tmpdir(), 'amber-backup-role-'));
  await withAdmin(server, async (admin) => {
    await admin.query(`CREATE ROLE ${quoteIdent(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${password}'`);
    for (const name of [source, target]) await admin.query(`CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(role)}`);
  });
  const pools: pg.Pool[] = [];
  onTestFinished(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await withAdmin(server, async (admin) => {
      for (const name of [source, target]) await dropDatabase(admin, name);
      await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    });
    await rm(folder, { recursive: true, force: true });
  });
  const asRole = (database: string, options: { pipeline?: boolean } = {}): pg.Pool => {
    const url = new URL(databaseUrl(server, database));
    url.username = role;
    url.password = password;
    const pool = createPool({ url: url.toString(), ssl: false }, silentLogger(), { max: 2, ...options });
    pools.push(pool);
    return pool;
  };
  const sourcePool = asRole(source);
  await migrate(sourcePool, silentLogger());
  expect((await sourcePool.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0]!.rolsuper).toBe(false);
  await sourcePool.query(`INSERT INTO sites (id, nmi, network, status, interval_length, channels, raw) VALUES ('S1', '1', 'Ausgrid', 'active', 5, '[]', '{}')`);
  await sourcePool.query(`INSERT INTO alert_events (site_id, kind, opened_at) SELECT 'S1', 'price_above', now() FROM generate_series(1, 3)`);

  const file = join(folder, 'role.backup');
  await makeBackup(asRole(source, { pipeline: false }), file);
  const targetPool = asRole(target, { pipeline: false });
  const restore = (force: boolean) => restoreBackup(targetPool, createReadStream(file), { file, force, logger: silentLogger() });
  await restore(false);
  await restore(true);
  const rows = await targetPool.query<{ id: string }>('SELECT id::text FROM alert_events ORDER BY id');
  expect(rows.rows.map((row) => row.id)).toEqual(['1', '2', '3']);
  const next = await targetPool.query<{ id: string }>(`INSERT INTO alert_events (kind, opened_at) VALUES ('stale', now()) RETURNING id::text`);
  expect(next.rows[0]!.id).toBe('4');
});
