/**
 * In embedded mode `query` logs in as the read-only role, not as the superuser: the three things the probe
 * did through `query sql` (run a program, read a server file, kill the collector's connections) are refused,
 * and reading the collected data still works. Real `amber-collector query` processes on a real embedded
 * PostgreSQL, with a superuser connection standing in for the daemon's.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/embedded-postgres.ts';
import { migrate } from '../../src/db/migrate.ts';
import { silentLogger } from '../../src/logger.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';

let parent: string;
let dataDir: string;
let server: EmbeddedPostgres;
/** Stands in for the daemon's connections: the superuser's. */
let daemon: pg.Client;

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), 'amber-query-role-'));
  await chmod(parent, 0o711);
  dataDir = join(parent, 'data');
  server = await startEmbeddedPostgres({ dataDir, logger: silentLogger(), running: 'adopt', durable: false });
  const pool = new pg.Pool({ connectionString: server.url, max: 1 });
  await migrate(pool, silentLogger());
  await pool.end();
  daemon = new pg.Client(server.url);
  await daemon.connect();
}, 60_000);

afterAll(async () => {
  await daemon?.end().catch(() => {});
  await server?.stop();
  await rm(parent, { recursive: true, force: true });
});

function querySql(statement: string): Promise<CliRun> {
  return runCli(['query', 'sql', statement], { DATA_DIR: dataDir });
}

describe('query sql on the embedded PostgreSQL', () => {
  it('runs as a role that is not a superuser and reads the collected tables', async () => {
    const result = await querySql('SELECT current_user AS who, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super, (SELECT count(*) FROM sites) AS sites');
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/^amber_query\s+f\s+0$/m);
  });

  it('cannot run a program with COPY … TO PROGRAM', async () => {
    const marker = join(parent, 'ran');
    const result = await querySql(`COPY (SELECT 1) TO PROGRAM 'touch ${marker}'`);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/pg_execute_server_program|superuser|permission denied/);
    expect(existsSync(marker)).toBe(false);
  });

  it('cannot read a server file with pg_read_file', async () => {
    const result = await querySql(`SELECT pg_read_file('/etc/hostname')`);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/permission denied for function pg_read_file/);
  });

  it("cannot terminate the collector's connections", async () => {
    const result = await querySql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'postgres' AND pid <> pg_backend_pid()`);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/permission denied to terminate process/);
    expect((await daemon.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it("cannot take the collector's advisory locks", async () => {
    const result = await querySql('SELECT pg_try_advisory_lock(1)');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/permission denied for function pg_try_advisory_lock/);
  });
});
