/**
 * sql/collector-role.sql, which the compose service db-roles runs as the superuser before every collector
 * start, against real databases: it upgrades an install whose tables the superuser created (the collector
 * then collects on as a role that owns them and is no superuser), and it leaves no other role a way to block
 * the collector (advisory locks) or a scratch space (temporary tables).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { readCollectionStates } from '../../src/db/collection-state.ts';
import { quoteIdent, withAdmin } from '../helpers/database-admin.ts';
import { daemonConfigFor, startDaemonForTest } from '../helpers/daemon.ts';
import { databaseForTest, type TestDatabase } from '../helpers/database.ts';
import { fakeAmberForTest } from '../helpers/fake-amber.ts';
import { diffPrices, diffUsage } from '../helpers/ground-truth.ts';

const roleFile = readFileSync(new URL('../../sql/collector-role.sql', import.meta.url), 'utf8');

/** A role name of this test's own (roles are server-wide), dropped after the test's databases. */
function scratchRole(prefix: string): string {
  const role = `${prefix}_${randomBytes(4).toString('hex')}`;
  onTestFinished(async () => {
    await withAdmin(inject('databaseUrl'), (admin) => admin.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`));
  });
  return role;
}

/** Runs the role file as compose does: PGOPTIONS carries the password into a setting of that one connection. */
async function runRoleFile(db: TestDatabase, role: string, password: string | null): Promise<void> {
  const client = new pg.Client({ connectionString: db.url, ...(password === null ? {} : { options: `-c amber.collector_password=${password}` }) });
  await client.connect();
  try {
    await client.query(roleFile.replaceAll('amber_collector', role));
  } finally {
    await client.end();
  }
}

/** Every scratch role's password: a server that trusts local connections ignores it, one with password auth checks it. */
const rolePassword = 's3cret';

/** The database's URL as another login. */
function as(db: TestDatabase, role: string): string {
  const url = new URL(db.url);
  url.username = role;
  url.password = rolePassword;
  return url.toString();
}

async function sqlstateOf(url: string, sql: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  } finally {
    await client.end();
  }
}

describe('collector-role.sql', () => {
  it('hands an existing install to a non-superuser owner, which keeps collecting with everything it stored', async () => {
    const role = scratchRole('amber_collector');
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    // An install from before the role existed: the superuser ran the migrations and collected.
    const before = await startDaemonForTest(daemonConfigFor(fake, db.url), { cycleCron: '0 0 1 1 *' });
    await before.log.waitFor('backfill finished');
    await before.log.waitFor('cycle finished');
    await before.stop();
    const stored = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM price_data')).rows[0]!.n;
    expect(stored).toBeGreaterThan(0);

    await runRoleFile(db, role, rolePassword);
    await runRoleFile(db, role, rolePassword); // every `up` runs it again
    const owners = await db.pool.query<{ name: string; owner: string }>(
      `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'S', 'i')
       UNION ALL SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
       UNION ALL SELECT 'schema public', pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'`,
    );
    expect(owners.rows.length).toBeGreaterThan(10);
    expect(owners.rows.filter((r) => r.owner !== role)).toEqual([]);
    const attributes = await db.pool.query('SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = $1', [role]);
    expect(attributes.rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true });

    // The collector as that role: migrations find nothing to do, the writer lock is its to take, cycles write.
    const after = await startDaemonForTest(daemonConfigFor(fake, as(db, role)), { cycleCron: '* * * * * *' });
    await after.log.waitFor('holding the single-writer lock; this collector writes');
    const cycles = () => after.log.lines.filter((l) => l['message'] === 'cycle finished').length;
    while (cycles() < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(after.log.lines.filter((l) => (l['level'] as number) >= 50)).toEqual([]);
    await after.stop();
    for (const state of await readCollectionStates(db.pool)) {
      const diff = await (state.dataType === 'price' ? diffPrices : diffUsage)(db.pool, fake, state.siteId, state.backfillFrom, state.collectedThrough!);
      expect({ missing: diff.missing.length, wrong: diff.wrong.length, extra: diff.extra.length }).toEqual({ missing: 0, wrong: 0, extra: 0 });
    }

    // What a superuser could do from `query sql` the collector's role cannot.
    for (const sql of ["SELECT pg_read_file('/etc/passwd')", "COPY (SELECT 1) TO PROGRAM 'true'", "SELECT lo_import('/etc/passwd')"]) {
      expect(await sqlstateOf(as(db, role), sql), sql).toBe('42501');
    }
  });

  it('leaves no other role advisory locks (the collector\'s writer lock), temporary tables or new objects', async () => {
    const role = scratchRole('amber_collector');
    const reader = scratchRole('amber_reader');
    const db = await databaseForTest();
    await withAdmin(db.url, (admin) => admin.query(`CREATE ROLE ${quoteIdent(reader)} LOGIN PASSWORD '${rolePassword}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${quoteIdent(reader)}`));
    onTestFinished(async () => {
      await withAdmin(db.url, (admin) => admin.query(`DROP OWNED BY ${quoteIdent(reader)}`)).catch(() => undefined);
    });
    expect(await sqlstateOf(as(db, reader), 'SELECT pg_advisory_lock(418446992754)')).toBeNull();

    await runRoleFile(db, role, rolePassword);
    for (const sql of [
      'SELECT pg_advisory_lock(418446992754)',
      'SELECT pg_try_advisory_lock(418446992754)',
      'SELECT pg_advisory_lock_shared(418446992754)',
      'SELECT pg_try_advisory_xact_lock(1, 2)',
      'CREATE TEMP TABLE scratch (a int)',
      'CREATE TABLE public.mine (a int)',
    ]) {
      expect(await sqlstateOf(as(db, reader), sql), sql).toBe('42501');
    }
    expect(await sqlstateOf(as(db, reader), 'SELECT count(*) FROM price_data')).toBeNull();
    for (const sql of ['SELECT pg_try_advisory_lock(418446992754)', 'CREATE TEMP TABLE scratch (a int)']) {
      expect(await sqlstateOf(as(db, role), sql), sql).toBeNull();
    }
  });

  it('refuses to run without a password, saying what to set', async () => {
    const role = scratchRole('amber_collector');
    const db = await databaseForTest();
    await expect(runRoleFile(db, role, null)).rejects.toThrow('set COLLECTOR_DB_PASSWORD in .env');
    await expect(runRoleFile(db, role, '')).rejects.toThrow('set COLLECTOR_DB_PASSWORD in .env');
  });
});
