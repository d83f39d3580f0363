/**
 * The optional Grafana (`docker compose --profile grafana up -d`), checked without Docker or Grafana: the compose
 * services of the profile, the provisioning files, and every query of the dashboard, with Grafana's macros expanded
 * the way its PostgreSQL data source expands them, run against a real database as the read-only role Grafana uses.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dailyCosts } from '../../src/query/reports.ts';
import { databaseForFile } from '../helpers/database.ts';
import { quoteIdent, withAdmin } from '../helpers/database-admin.ts';
import { loadFixture, NOW, SITE_30, SITE_5 } from '../query/fixtures.ts';
import { interpolate, stringsIn, v1InterpolationHazard } from './dockerfile.ts';

const root = new URL('../../', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, root), 'utf8');

// YAML and JSON documents: each test below checks the fields it relies on.
const compose = parseYaml(read('docker-compose.yml')) as any;
const grafana = compose.services.grafana;
const roleService = compose.services['grafana-db-role'];
const datasources = parseYaml(read('grafana/provisioning/datasources/amber.yaml')) as any;
const providers = parseYaml(read('grafana/provisioning/dashboards/amber.yaml')) as any;
const dashboard = JSON.parse(read('grafana/dashboards/amber.json')) as any;
const readerRoleSql = read('grafana/reader-role.sql');
const ROLE = 'amber_grafana';

/** `./host/path:/container/path[:ro]` entries of a service's volumes, bind mounts only. */
function bindMounts(service: { volumes?: string[] }): Array<{ source: string; target: string; mode: string | undefined }> {
  return (service.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => {
      const [source = '', target = '', mode] = v.split(':');
      return { source, target, mode };
    });
}

describe('docker-compose.yml: the grafana profile', () => {
  const env = { POSTGRES_PASSWORD: 'abc123', GRAFANA_ADMIN_PASSWORD: 'gr4fanapw', GRAFANA_DB_PASSWORD: 'r3aderpw' };

  it('puts Grafana and its role set-up in the grafana profile, and nothing else', () => {
    for (const [name, service] of Object.entries(compose.services) as Array<[string, { profiles?: string[] }]>) {
      if (name === 'grafana' || name === 'grafana-db-role') expect(service.profiles, name).toEqual(['grafana']);
      else expect(service.profiles, `${name} must start with a plain \`docker compose up\``).toBeUndefined();
    }
  });

  it('runs a pinned Grafana 12 (the open-source image) that restarts unless stopped', () => {
    expect(grafana.image).toMatch(/^grafana\/grafana:12\.\d+\.\d+$/);
    expect(grafana.restart).toBe('unless-stopped');
    expect(roleService.image).toBe(compose.services.postgres.image);
  });

  it('publishes Grafana on 127.0.0.1 only, on GRAFANA_PORT (default 3000)', () => {
    expect(grafana.ports).toHaveLength(1);
    expect(interpolate(grafana.ports[0], {})).toBe('127.0.0.1:3000:3000');
    expect(interpolate(grafana.ports[0], { GRAFANA_PORT: '3300' })).toBe('127.0.0.1:3300:3000');
    expect(roleService.ports).toBeUndefined();
  });

  it('keeps Grafana\'s state in a named volume', () => {
    expect(grafana.volumes).toContain('grafana-data:/var/lib/grafana');
    expect(Object.keys(compose.volumes)).toContain('grafana-data');
  });

  it('mounts, read-only, provisioning files that exist in the repository, where Grafana and the provider look', () => {
    const mounts = [...bindMounts(grafana), ...bindMounts(roleService)];
    for (const mount of mounts) {
      expect(existsSync(new URL(mount.source, root)), mount.source).toBe(true);
      expect(mount.source.startsWith('./grafana/'), mount.source).toBe(true);
      expect(mount.mode, mount.source).toBe('ro');
    }
    const target = (source: string) => mounts.find((m) => m.source === source)?.target;
    expect(target('./grafana/provisioning/datasources')).toBe('/etc/grafana/provisioning/datasources');
    expect(target('./grafana/provisioning/dashboards')).toBe('/etc/grafana/provisioning/dashboards');
    expect(target('./grafana/dashboards')).toBe(providers.providers[0].options.path);
    const sqlFile = roleService.command.at(-1) as string;
    expect(target('./grafana/reader-role.sql')).toBe(sqlFile);
    expect(roleService.command).toEqual(expect.arrayContaining(['psql', 'ON_ERROR_STOP=1', '-f']));
  });

  it('starts Grafana only after the database is healthy and the read-only role is in place', () => {
    expect(grafana.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      'grafana-db-role': { condition: 'service_completed_successfully' },
    });
    expect(roleService.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, 'db-roles': { condition: 'service_completed_successfully' } });
    expect(roleService.restart).toBeUndefined();
  });

  it('never defaults the admin password, and Grafana refuses to start without one', () => {
    // Not `${VAR:?}`: compose (1.x always) interpolates every service, so plain `up` would need it too.
    expect(interpolate(grafana.environment.GF_SECURITY_ADMIN_PASSWORD, {})).toBe('');
    expect(interpolate(grafana.environment.GF_SECURITY_ADMIN_PASSWORD, env)).toBe(env.GRAFANA_ADMIN_PASSWORD);
    for (const [path, value] of stringsIn(compose)) expect(value, path).not.toMatch(/\$\{GRAFANA_ADMIN_PASSWORD:?-[^}]/);

    // The entry point, as the container's shell runs it (compose turns `$$` into `$`), with Grafana's own
    // /run.sh replaced by a stand-in.
    const [shell, flag, script] = grafana.entrypoint as string[];
    expect([shell, flag]).toEqual(['/bin/sh', '-c']);
    expect(script).toMatch(/exec \/run\.sh$/);
    const run = (password: string) =>
      spawnSync('/bin/sh', ['-c', script!.replace(/\$\$/g, '$').replace(/exec \/run\.sh$/, 'echo started')], {
        env: { PATH: process.env['PATH'] ?? '', GF_SECURITY_ADMIN_PASSWORD: password },
        encoding: 'utf8',
      });
    const refused = run('');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('set GRAFANA_ADMIN_PASSWORD in .env');
    expect(run('gr4fanapw')).toMatchObject({ status: 0, stdout: 'started\n' });
  });

  it('hands the role set-up and the datasource the same password, GRAFANA_DB_PASSWORD, not the admin\'s', () => {
    const datasource = datasources.datasources[0];
    const envName = /^\$__env\{([A-Z_][A-Z0-9_]*)\}$/.exec(datasource.secureJsonData.password)?.[1];
    expect(envName).toBeDefined();
    expect(interpolate(grafana.environment[envName!], env)).toBe(env.GRAFANA_DB_PASSWORD);
    expect(interpolate(roleService.environment.PGOPTIONS, env)).toBe(`-c amber.grafana_password=${env.GRAFANA_DB_PASSWORD}`);
    expect(interpolate(roleService.environment.PGPASSWORD, env)).toBe(env.POSTGRES_PASSWORD);
    expect(roleService.environment.PGUSER).toBe(compose.services.postgres.environment.POSTGRES_USER);
    expect(roleService.environment.PGHOST).toBe('postgres');
    for (const [path, value] of stringsIn({ grafana, roleService })) expect(v1InterpolationHazard(value), path).toBe(false);
  });
});

/** True when `command` runs here; the checks below use real docker-compose 1.x code when a machine has it. */
function available(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

describe.runIf(available('docker-compose', ['version']))('docker-compose 1.x itself, with --profile grafana', () => {
  function config(dotenv: string, args: string[]): { status: number | null; output: string } {
    const dir = mkdtempSync(join(tmpdir(), 'amber-compose-'));
    try {
      copyFileSync(new URL('docker-compose.yml', root), join(dir, 'docker-compose.yml'));
      writeFileSync(join(dir, '.env'), dotenv);
      const result = spawnSync('docker-compose', [...args, 'config'], { cwd: dir, env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8' });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('accepts the profile and resolves it as intended', () => {
    const { status, output } = config('POSTGRES_PASSWORD=abc123\nCOLLECTOR_DB_PASSWORD=c0ll\nGRAFANA_ADMIN_PASSWORD=gr4fanapw\nGRAFANA_DB_PASSWORD=r3aderpw\nGRAFANA_PORT=3300\n', ['--profile', 'grafana']);
    expect(status, output).toBe(0);
    expect(output).toContain('127.0.0.1:3300:3000/tcp');
    expect(output).toContain('condition: service_completed_successfully');
    expect(output).toContain('GF_SECURITY_ADMIN_PASSWORD: gr4fanapw');
    expect(output).toContain('PGOPTIONS: -c amber.grafana_password=r3aderpw');
    expect(output).toMatch(/grafana-data:\/var\/lib\/grafana/);
    expect(output).toMatch(/\/grafana\/provisioning\/datasources:\/etc\/grafana\/provisioning\/datasources:ro/);
  });

  it('still accepts the file without the profile or any Grafana variable, with no warning about them', () => {
    const { status, output } = config('POSTGRES_PASSWORD=abc123\nCOLLECTOR_DB_PASSWORD=c0ll\n', []);
    expect(status, output).toBe(0);
    expect(output).not.toMatch(/GRAFANA_\w+ variable is not set/);
  });
});

describe('provisioning files', () => {
  it('define one PostgreSQL datasource: the compose database, as the read-only role, without TLS', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    const datasource = datasources.datasources[0];
    expect(datasource).toMatchObject({ type: 'grafana-postgresql-datasource', uid: 'amber-postgres', url: 'postgres:5432', user: ROLE, editable: false });
    expect(datasource.jsonData).toMatchObject({ database: compose.services.postgres.environment.POSTGRES_DB, sslmode: 'disable' });
    expect(readerRoleSql).toContain(`CREATE ROLE ${ROLE} `);
  });

  it('load the dashboard folder from files, read-only', () => {
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toHaveLength(1);
    expect(providers.providers[0]).toMatchObject({ type: 'file', allowUiUpdates: false, disableDeletion: true });
  });

  it('make a dashboard whose panels and variables all use that datasource', () => {
    expect(dashboard.uid).toBe('amber-collector');
    expect(dashboard.timezone).toBe('Australia/Brisbane');
    const uses = [
      ...dashboard.templating.list.map((v: any) => v.datasource),
      ...dashboard.panels.flatMap((p: any) => [p.datasource, ...p.targets.map((t: any) => t.datasource)]),
    ];
    expect(uses.length).toBeGreaterThan(0);
    for (const ref of uses) expect(ref).toEqual({ type: 'grafana-postgresql-datasource', uid: 'amber-postgres' });
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

// ---------------------------------------------------------------------------------------------------
// The dashboard's SQL, run for real

interface Range {
  from: Date;
  to: Date;
  /** Grafana's $__interval, in seconds. */
  intervalSeconds: number;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Grafana's own text for an interval ($__interval): 300 s is `5m`, 3600 s `1h`. */
function formatInterval(seconds: number): string {
  for (const unit of ['d', 'h', 'm'] as const) if (seconds % UNIT_SECONDS[unit]! === 0) return `${seconds / UNIT_SECONDS[unit]!}${unit}`;
  return `${seconds}s`;
}

/**
 * What Grafana sends to PostgreSQL: the dashboard's variables replaced in the browser, then the PostgreSQL data
 * source's macros (pkg/tsdb/grafana-postgresql-datasource/macros.go) for the ones this dashboard uses.
 */
function expandGrafana(sql: string, range: Range, variables: Record<string, string>): string {
  const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
  let text = sql.replaceAll('$__interval', formatInterval(range.intervalSeconds));
  for (const [name, value] of Object.entries(variables)) {
    // A single-valued variable goes in as it is, with single quotes doubled.
    text = text.replace(new RegExp(`\\$\\{${name}\\}|\\$${name}\\b`, 'g'), value.replace(/'/g, "''"));
  }
  text = text.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (_whole, name: string, argText: string) => {
    const args = argText.split(',').map((a) => a.trim());
    switch (name) {
      case '__time':
        return `${args[0]} AS "time"`;
      case '__timeFilter':
        return `${args[0]} BETWEEN '${iso(range.from)}' AND '${iso(range.to)}'`;
      case '__timeFrom':
        return `'${iso(range.from)}'`;
      case '__timeTo':
        return `'${iso(range.to)}'`;
      case '__timeGroup':
      case '__timeGroupAlias': {
        const match = /^'?(\d+)([smhd])'?$/.exec(args[1] ?? '');
        if (!match) throw new Error(`cannot read the interval of ${name}(${argText})`);
        const seconds = Number(match[1]) * UNIT_SECONDS[match[2]!]!;
        const group = `floor(extract(epoch from ${args[0]})/${seconds})*${seconds}`;
        return name === '__timeGroupAlias' ? `${group} AS "time"` : group;
      }
      default:
        throw new Error(`the test does not know Grafana's macro $${name}`);
    }
  });
  expect(text, 'every variable and macro is replaced').not.toContain('$');
  return text;
}

function panel(title: string): { sql: string; format: string; type: string } {
  const found = dashboard.panels.find((p: any) => p.title === title);
  if (!found) throw new Error(`no panel titled ${title}`);
  expect(found.targets).toHaveLength(1);
  return { sql: found.targets[0].rawSql, format: found.targets[0].format, type: found.type };
}

/** NEM days 2025-11-19 and 2025-11-20 of the fixture: every usage row, and two days of prices. */
const RANGE: Range = { from: new Date('2025-11-18T14:00:00Z'), to: new Date('2025-11-20T14:00:00Z'), intervalSeconds: 300 };

describe('the dashboard\'s queries, as the read-only role, on a database with known data', () => {
  const db = databaseForFile({ seed: loadFixture });
  // Roles are server-wide: a name of this run's own, the SQL file's exact text otherwise.
  const role = `${ROLE}_${randomBytes(4).toString('hex')}`;
  const roleSql = readerRoleSql.replaceAll(ROLE, role);
  let reader: pg.Pool | undefined;

  /** Runs the role file as compose does: PGOPTIONS carries the password into a setting of that one connection. */
  async function runRoleFile(password: string | null): Promise<void> {
    const client = new pg.Client({ connectionString: db.url, ...(password === null ? {} : { options: `-c amber.grafana_password=${password}` }) });
    await client.connect();
    try {
      await client.query(roleSql);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    await runRoleFile('gr4fanapw');
    // Twice, as every `up` runs it: the second finds the role and only resets its password.
    await runRoleFile('gr4fanapw');
    const url = new URL(db.url);
    url.username = role;
    url.password = 'gr4fanapw';
    reader = new pg.Pool({ connectionString: url.toString(), max: 2 });
  });

  afterAll(async () => {
    await reader?.end();
    // Its grants and default privileges live in the test database (dropped after this file); the role itself does not.
    await withAdmin(db.url, (admin) => admin.query(`DROP OWNED BY ${quoteIdent(role)}`)).catch(() => undefined);
    await withAdmin(inject('databaseUrl'), (admin) => admin.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`));
  });

  async function query(sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
    const result = await reader!.query(sql);
    return { columns: result.fields.map((f) => f.name), rows: result.rows };
  }

  it('the role set-up refuses an empty password, saying what to set', async () => {
    await expect(runRoleFile(null)).rejects.toThrow(/set GRAFANA_DB_PASSWORD in \.env/);
    await expect(runRoleFile('')).rejects.toThrow(/set GRAFANA_DB_PASSWORD in \.env/);
  });

  it('the role reads every table and view, and can write nothing', async () => {
    const tables = await db.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p')`,
    );
    expect(tables.rows.length).toBeGreaterThan(5);
    for (const { name } of tables.rows) await query(`SELECT * FROM ${quoteIdent(name)} LIMIT 1`);
    await expect(reader!.query(`UPDATE sites SET status = 'x'`)).rejects.toThrow(/read-only transaction/);
    // Asking for a read-write transaction is allowed, but the role has no right to write anyway.
    const client = await reader!.connect();
    try {
      await client.query('BEGIN READ WRITE');
      await expect(client.query(`UPDATE sites SET status = 'x'`)).rejects.toThrow(/permission denied/);
      await client.query('ROLLBACK');
    } finally {
      client.release(true);
    }
    await expect(reader!.query('CREATE TABLE grafana_scratch (x int)')).rejects.toThrow(/read-only transaction/);
    // A table a later migration adds (created by the role that ran the migrations) is readable without running it again.
    await db.pool.query('CREATE TABLE later_migration (x int)');
    await expect(query('SELECT * FROM later_migration')).resolves.toMatchObject({ rows: [] });
  });

  it('the site variable lists every site, active ones first', async () => {
    const variable = dashboard.templating.list.find((v: any) => v.name === 'site');
    expect(variable).toMatchObject({ type: 'query', multi: false, includeAll: false });
    const { columns, rows } = await query(expandGrafana(variable.query, RANGE, {}));
    expect(columns).toEqual(['__value', '__text']);
    expect(rows.map((r) => r['__value']).sort()).toEqual([SITE_5.id, SITE_30.id].sort());
  });

  it('prices: one series per channel plus spot, in time order, duration-weighted', async () => {
    const { sql, format, type } = panel('Price by channel (c/kWh)');
    expect([format, type]).toEqual(['time_series', 'timeseries']);
    const { columns, rows } = await query(expandGrafana(sql, RANGE, { site: SITE_5.id }));
    expect(columns).toEqual(['time', 'metric', 'value']);
    const times = rows.map((r) => Number(r['time']));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const metrics = new Set(rows.map((r) => r['metric']));
    expect(metrics).toEqual(new Set(['General', 'Controlled load', 'Feed-in', 'Spot']));
    // 2 NEM days of 5-minute intervals, plus the one ending exactly at the range's start (none stored).
    expect(rows.filter((r) => r['metric'] === 'General')).toHaveLength(576);
    for (const r of rows.filter((r) => r['metric'] === 'Spot')) expect(Number(r['value'])).toBe(10);
    for (const r of rows.filter((r) => r['metric'] === 'Controlled load')) expect(Number(r['value'])).toBe(15);
    // The 30-minute site in one-hour buckets: general is 20 + hour of day, so a bucket averages to one value.
    const hourly = await query(expandGrafana(sql, { ...RANGE, intervalSeconds: 3600 }, { site: SITE_30.id }));
    const general = hourly.rows.filter((r) => r['metric'] === 'General');
    // Buckets are keyed by interval end: 48 per day, the first (00:00 NEM) holding only the interval ending 00:30,
    // plus one for the interval ending exactly at the range's end.
    expect(general).toHaveLength(49);
    // The 01:00 bucket holds the intervals ending 01:00 (started in hour 0: 20) and 01:30 (hour 1: 21).
    expect(Number(general[1]!['value'])).toBeCloseTo(20.5, 6);
  });

  it('energy: imports above zero and exports below, per channel', async () => {
    const { sql, format } = panel('Energy by channel (kWh)');
    expect(format).toBe('time_series');
    const { columns, rows } = await query(expandGrafana(sql, RANGE, { site: SITE_5.id }));
    expect(columns).toEqual(['time', 'metric', 'value']);
    const total = (metric: string) => rows.filter((r) => r['metric'] === metric).reduce((sum, r) => sum + Number(r['value']), 0);
    // 576 five-minute intervals: general 0.1 kWh, controlled load 0.05, feed-in 0.2 (stored negative).
    expect(total('Import (general)')).toBeCloseTo(57.6, 6);
    expect(total('Import (controlled load)')).toBeCloseTo(28.8, 6);
    expect(total('Export (feed-in)')).toBeCloseTo(-115.2, 6);
    for (const r of rows) expect(Math.sign(Number(r['value']))).toBe(r['metric'] === 'Export (feed-in)' ? -1 : 1);
  });

  it('daily cost: the same figures as `amber-collector query costs`, one bar per NEM day at its midnight', async () => {
    const { sql, format } = panel('Daily cost ($ incl. GST)');
    expect(format).toBe('time_series');
    for (const site of [SITE_5, SITE_30]) {
      const { columns, rows } = await query(expandGrafana(sql, RANGE, { site: site.id }));
      expect(columns).toEqual(['time', 'Import cost', 'Feed-in earnings', 'Net']);
      const expected = await dailyCosts(db.pool, { siteIds: [site.id], from: '2025-11-19', to: '2025-11-21' });
      const withUsage = expected.filter((d) => d.intervals > 0);
      expect(withUsage.map((d) => d.date)).toEqual(['2025-11-19', '2025-11-20']);
      expect(rows.map((r) => new Date((r['time'] as Date).getTime() + 10 * 3600_000).toISOString())).toEqual(
        withUsage.map((d) => `${d.date}T00:00:00.000Z`),
      );
      for (const [i, day] of withUsage.entries()) {
        expect(Number(rows[i]!['Import cost'])).toBeCloseTo(day.importDollars!, 4);
        expect(Number(rows[i]!['Feed-in earnings'])).toBeCloseTo(day.feedInDollars!, 4);
        expect(Number(rows[i]!['Net'])).toBeCloseTo(day.netDollars!, 4);
      }
    }
  });

  it('forecast error by lead time: one bar per bucket with forecasts, perKwh and advanced predicted side by side', async () => {
    const { sql, format, type } = panel('Forecast error by lead time (c/kWh)');
    expect([format, type]).toEqual(['table', 'barchart']);
    // Every settled general interval of the range forecast twice: 3 minutes ahead 2 c/kWh too high (predicted 1
    // too low), 3 hours ahead 4 too low (predicted exact).
    await db.pool.query(
      `INSERT INTO price_forecasts (site_id, channel_type, nem_time, duration, fetched_at, nem_date, interval_type, per_kwh, spot_per_kwh, renewables, spike_status, advanced_predicted)
       SELECT site_id, channel_type, nem_time, duration, nem_time - make_interval(mins => duration) - ahead, nem_date, 'ForecastInterval',
              per_kwh + CASE WHEN ahead < interval '1 hour' THEN 2 ELSE -4 END, spot_per_kwh, renewables, spike_status,
              per_kwh + CASE WHEN ahead < interval '1 hour' THEN -1 ELSE 0 END
       FROM price_data, unnest(ARRAY[interval '3 minutes', interval '3 hours']) AS ahead
       WHERE site_id = $1 AND channel_type = 'general' AND interval_type = 'ActualInterval' AND nem_time > $2 AND nem_time <= $3`,
      [SITE_5.id, RANGE.from, RANGE.to],
    );
    const { columns, rows } = await query(expandGrafana(sql, RANGE, { site: SITE_5.id }));
    expect(columns).toEqual(['Lead time', 'perKwh MAE', 'Advanced predicted MAE']);
    expect(rows.map((r) => [r['Lead time'], Number(r['perKwh MAE']), Number(r['Advanced predicted MAE'])])).toEqual([
      ['0-5m', 2, 1],
      ['2-6h', 4, 0],
    ]);
  });

  it('freshness: the newest interval per site and data type, its age and the collector\'s progress', async () => {
    const { sql, format, type } = panel('Collection freshness (all sites)');
    expect([format, type]).toEqual(['table', 'table']);
    const { columns, rows } = await query(expandGrafana(sql, RANGE, {}));
    expect(columns).toEqual(['Site', 'Data', 'Last interval', 'Age', 'Complete through', 'Last success', 'Last error']);
    expect(rows.map((r) => `${r['Site']} ${r['Data']}`)).toEqual(
      [SITE_5.id, SITE_30.id].sort().flatMap((id) => [`${id} price`, `${id} usage`]),
    );
    for (const r of rows) {
      // Actual prices run up to the fixture's "now"; usage to the end of its last NEM day.
      const newest = r['Data'] === 'price' ? NOW : new Date('2025-11-20T14:00:00Z');
      expect((r['Last interval'] as Date).toISOString()).toBe(newest.toISOString());
      expect(Number(r['Age'])).toBeGreaterThan(0);
      expect(r['Complete through']).toBe('2025-11-20');
    }
    expect(rows.find((r) => r['Site'] === SITE_30.id && r['Data'] === 'usage')!['Last error']).toContain('502');
  });
});
