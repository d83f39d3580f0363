/**
 * `amber-collector query` as a user runs it: arguments, tables, JSON, exports, read-only SQL and exit codes,
 * against a real database with known data. One test runs the real CLI process with nothing but DATABASE_URL.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryCommand } from '../../src/commands/query.ts';
import { createPool } from '../../src/db/pool.ts';
import { silentLogger } from '../../src/logger.ts';
import { memoryOutput } from '../../src/commands/output/output.ts';
import { dailyCosts } from '../../src/query/reports.ts';
import { collectOutput } from '../helpers/child-output.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { loadFixture, NOW, SITE_30, SITE_5 } from './fixtures.ts';

let db: TestDatabase;
const scratchDirs: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await loadFixture(db.pool);
});
afterAll(async () => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

interface Run {
  code: number;
  out: string;
  err: string;
  /** Whether the command connected to the database. */
  opened?: boolean;
}

async function query(args: string[], pool: pg.Pool = db.pool): Promise<Run> {
  const out = memoryOutput();
  const err = memoryOutput();
  let opened = false;
  const code = await queryCommand.run(args, {
    out,
    err,
    now: NOW,
    openDatabase: async () => {
      opened = true;
      return { pool, close: async () => {} };
    },
  });
  return { code, out: out.text, err: err.text, opened };
}

describe('reports', () => {
  it('summary lists both sites, their stored ranges and totals', async () => {
    const run = await query(['summary']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('Sites');
    expect(run.out).toMatch(new RegExp(`${SITE_5.id}\\s+price\\s+2592\\s+2025-11-19\\s+2025-11-21\\s+2025-11-20`));
    expect(run.out).toMatch(new RegExp(`${SITE_30.id}\\s+usage\\s+192\\s+2025-11-19\\s+2025-11-20`));
    const json = JSON.parse((await query(['summary', '--json'])).out);
    expect(json.sites).toHaveLength(2);
    expect(json.totals).toHaveLength(2);
  });

  it('costs DAYS ends yesterday, has a SITE column for several sites, totals per site, and matches --json', async () => {
    const run = await query(['costs', '3']);
    expect(run.code).toBe(0);
    expect(run.out.split('\n')[0]).toBe('Costs per NEM day, 2025-11-18 to 2025-11-20');
    const lines = run.out.split('\n');
    const header = lines[2]!;
    expect(header).toMatch(/^SITE\s+DATE\s+IMPORT kWh\s+IMPORT \$\s+FEED-IN kWh\s+FEED-IN \$\s+NET \$\s+NOTE$/);
    expect(run.out).toMatch(new RegExp(`${SITE_5.id}  2025-11-18\\s+-\\s+-\\s+-\\s+-\\s+-  no usage stored`));
    // Money as on an Australian bill, as the dashboard shows it: `$11.23`, `-$3.46`.
    expect(run.out).toMatch(new RegExp(`${SITE_5.id}  2025-11-19\\s+43\\.200\\s+\\$11\\.23\\s+57\\.600\\s+\\$3\\.46\\s+\\$7\\.78`));
    expect(run.out).toMatch(new RegExp(`${SITE_5.id}  TOTAL\\s+86\\.400\\s+\\$22\\.73\\s+115\\.200\\s+\\$6\\.91\\s+\\$15\\.81  1 of 3 days without usage; 108 intervals still estimated`));
    // Columns line up: every row's NET $ ends where the header's does.
    const netEnd = header.indexOf('NET $') + 'NET $'.length;
    for (const line of lines.slice(4).filter((l) => /\d\.\d\d\s/.test(l))) expect(line[netEnd - 1]).toMatch(/\d|-/);
    expect(run.out).not.toMatch(/\$-/);

    const json = JSON.parse((await query(['costs', '3', '--json'])).out);
    expect(json).toEqual({ from: '2025-11-18', to: '2025-11-20', basis: 'energy only', days: await dailyCosts(db.pool, { siteIds: [SITE_5.id, SITE_30.id], from: '2025-11-18', to: '2025-11-20' }) });
  });

  it('with --site, names the site in the heading and drops the SITE column', async () => {
    const run = await query(['prices', '--from', '2025-11-20', '--to', '2025-11-20', '--site', SITE_30.id]);
    expect(run.code).toBe(0);
    expect(run.out).toContain(`site ${SITE_30.id} (NMI NMI30, active)`);
    expect(run.out).not.toMatch(/^SITE/m);
    expect(run.out).toMatch(/2025-11-20\s+general\s+20\.00\s+\S+\s+300\.00\s+1\s+2\s+48/);
  });

  it('usage shows each meter channel with estimated and billable counts; DAYS count back from --to', async () => {
    const run = await query(['usage', '1', '--site', SITE_5.id]);
    expect(run.out).toEqual((await query(['usage', '1', '--to', '2025-11-20', '--site', SITE_5.id])).out);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/2025-11-20\s+E2 controlledLoad\s+14\.400\s+\$2\.16\s+288\s+36\s+252/);
    expect(run.out).toMatch(/2025-11-20\s+B1 feedIn\s+-57\.600\s+-\$3\.46\s+288\s+36\s+252/);
  });
});

describe('bad arguments', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /which report/],
    [['nonsense'], /unknown report "nonsense"/],
    [['costs', 'abc'], /DAYS must be a whole number/],
    [['costs', '0'], /DAYS must be a whole number from 1/],
    [['costs', '7', '--from', '2025-11-01'], /give DAYS or --from, not both/],
    [['prices', '--from', '2025-11-20', '--to', '2025-11-01'], /--from 2025-11-20 is after --to 2025-11-01/],
    [['usage', '--from', '20-11-2025'], /--from must be a date as YYYY-MM-DD/],
    [['summary', '--format', 'csv'], /--format does not apply to "summary"/],
    [['summary', '--bogus'], /Unknown option '--bogus'/],
    [['export', '--from', '2025-11-19'], /export needs --from DATE and --to DATE/],
    [['export', '--from', '2025-11-19', '--to', '2025-11-20', '--format', 'xml'], /--format must be one of csv, json, ndjson/],
    [['sql'], /sql needs the statement/],
    [['sql', 'SELECT', '1'], /put the whole statement in quotes/],
    [['sql', 'SELECT 1', '--timeout', '0'], /--timeout must be a whole number from 1/],
  ];
  it.each(cases)('%j exits 2 with the problem and the usage', async (args, message) => {
    const run = await query(args);
    expect(run.code).toBe(2);
    expect(run.opened).toBe(false); // rejected before any connection is made
    expect(run.out).toBe('');
    expect(run.err).toMatch(message);
    expect(run.err).toContain('Usage: amber-collector query <report>');
  });

  it('an unknown --site exits 2 naming the sites that exist', async () => {
    const run = await query(['costs', '--site', 'NOPE']);
    expect(run.code).toBe(2);
    expect(run.err).toContain(`no site "NOPE" (known sites: ${SITE_5.id}, ${SITE_30.id})`);
  });

  it('--help prints the usage and exits 0', async () => {
    const run = await query(['--help']);
    expect(run).toMatchObject({ code: 0, err: '', opened: false });
    expect(run.out).toContain('sql "STATEMENT"');
  });
});

describe('export', () => {
  const range = ['--from', '2025-11-19', '--to', '2025-11-19'];

  it('csv: a header, then the NEM day exactly, from 00:05 through the interval ending at midnight', async () => {
    const run = await query(['export', ...range, '--site', SITE_30.id]);
    expect(run.code).toBe(0);
    const lines = run.out.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'site_id,channel_type,nem_time,duration,start_time,end_time,nem_date,per_kwh,spot_per_kwh,renewables,spike_status,descriptor,' +
        'tariff_period,tariff_season,tariff_block,tariff_demand_window,interval_type,estimate,first_seen_at,updated_at,revision_count',
    );
    expect(lines).toHaveLength(1 + 2 * 48);
    expect(lines[1]).toMatch(new RegExp(`^${SITE_30.id},feedIn,2025-11-19T00:30:00\\+10:00,30,2025-11-18T14:00:01Z,2025-11-18T14:30:00Z,2025-11-19,-5,10,40,none,neutral,,,,,ActualInterval,,`));
    expect(lines[96]).toContain(',general,2025-11-20T00:00:00+10:00,30,');
  });

  it('json is one array and ndjson one object per line, numbers as numbers, --raw adds the API object', async () => {
    const array = JSON.parse((await query(['export', ...range, '--type', 'usage', '--format', 'json'])).out);
    expect(array).toHaveLength(3 * 288 + 2 * 48);
    expect(array[0]).toMatchObject({ site_id: SITE_5.id, channel_id: 'B1', kwh: -0.2, cost: -1, quality: 'billable', duration: 5 });
    expect(array[0]).not.toHaveProperty('raw');
    const lines = (await query(['export', ...range, '--type', 'usage', '--format', 'ndjson', '--raw'])).out.trimEnd().split('\n');
    expect(lines).toHaveLength(array.length);
    // The element as the API sent it (feed-in kWh positive there), all of its fields.
    expect(JSON.parse(lines[0]!).raw).toMatchObject({ type: 'Usage', kwh: 0.2, cost: -1, channelIdentifier: 'B1', nemTime: '2025-11-19T00:05:00+10:00', channelType: 'feedIn', quality: 'billable' });
  });

  it('--output writes the whole file (no partial left behind) and reports the count on stderr', async () => {
    const dir = scratchDir('amber-export-');
    const file = join(dir, 'prices.csv');
    const run = await query(['export', ...range, '--output', file]);
    expect(run).toMatchObject({ code: 0, out: '' });
    expect(run.err).toBe(`wrote ${3 * 288 + 2 * 48} price rows to ${file}\n`);
    expect(readFileSync(file, 'utf8').trimEnd().split('\r\n')).toHaveLength(1 + 3 * 288 + 2 * 48);
    expect(existsSync(`${file}.partial`)).toBe(false);

    const bad = await query(['export', ...range, '--output', join(dir, 'missing', 'x.csv')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/cannot write .*missing\/x\.csv: ENOENT/);
  });
});

describe('sql', () => {
  // `sql` reads through a cursor, which pg refuses on a pipelined pool; the command opens one without.
  let sqlPool: pg.Pool;
  beforeAll(() => {
    sqlPool = createPool({ url: db.url, ssl: false }, silentLogger(), { max: 2, pipeline: false });
  });
  afterAll(() => sqlPool.end());
  const sql = (args: string[]) => query(['sql', ...args], sqlPool);

  it('prints a psql-like table of the values exactly as PostgreSQL renders them', async () => {
    const run = await sql([`SELECT channel_type, count(*) AS n, max(per_kwh) FROM price_data WHERE site_id = '${SITE_30.id}' GROUP BY 1 ORDER BY 1`]);
    expect(run.code).toBe(0);
    expect(run.out).toBe(['channel_type    n  max', '------------  ---  ---', 'feedIn        144   -5', 'general       144  300', '(2 rows)', ''].join('\n'));
  });

  it('--json keeps numbers, booleans and json as JSON types', async () => {
    const run = await sql([`SELECT 31.185000000000002::numeric AS price, true AS ok, '{"a":1}'::jsonb AS doc, NULL::text AS nothing, 1 AS n, 2 AS n`, '--json']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('"price": 31.185000000000002');
    expect(JSON.parse(run.out)).toEqual([{ price: 31.185000000000002, ok: true, doc: { a: 1 }, nothing: null, n: 1, n_2: 2 }]);
  });

  it('refuses writes, and a second statement cannot escape the read-only transaction', async () => {
    const write = await sql(['DELETE FROM usage_data']);
    expect(write.code).toBe(1);
    expect(write.err).toContain('cannot execute DELETE in a read-only transaction');
    const escape = await sql(['SELECT 1; COMMIT; DELETE FROM usage_data']);
    expect(escape.code).toBe(1);
    expect(escape.err).toContain('HINT: sql runs exactly one statement');
    const left = await db.pool.query('SELECT count(*)::int AS n FROM usage_data');
    expect(left.rows[0].n).toBe(3 * 288 * 2 + 2 * 48 * 2);
  });

  it('cancels a statement that runs past --timeout', async () => {
    const run = await sql(['SELECT pg_sleep(5)', '--timeout', '1']);
    expect(run.code).toBe(1);
    expect(run.err).toContain('ran longer than the timeout');
  });

  it('streams a result of any size: table rows widen as wider values arrive; JSON stays one valid array', async () => {
    const table = await sql([`SELECT g, repeat('x', g / 1000) AS wide FROM generate_series(1, 2500) g`]);
    const lines = table.out.split('\n');
    expect(lines[0]).toBe('   g  wide');
    expect(lines[2]).toBe('   1');
    expect(lines[1000 + 2]).toBe('1001  x');
    expect(lines.at(-2)).toBe('(2500 rows)');
    const json = await sql([`SELECT g FROM generate_series(1, 2001) g`, '--json']);
    expect(JSON.parse(json.out)).toEqual(Array.from({ length: 2001 }, (_, i) => ({ g: i + 1 })));
    expect((await sql(['SELECT 1 WHERE false', '--json'])).out).toBe('[]\n');
    expect((await sql(['SELECT 1 AS n WHERE false'])).out).toBe('n\n-\n(0 rows)\n');
    expect((await sql(['SHOW TimeZone'])).out).toBe('TimeZone\n--------\nUTC\n(1 row)\n');
  });

  it('a connection cut while rows stream is DB_UNAVAILABLE, exit 75, with no unhandled error event', async () => {
    const target = new URL(db.url);
    const proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
    const url = new URL(db.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const pool = createPool({ url: url.toString(), ssl: false }, silentLogger(), { max: 1, pipeline: false });
    try {
      const err = memoryOutput();
      let batches = 0;
      const code = await queryCommand.run(['sql', 'SELECT g FROM generate_series(1, 1000000) g'], {
        out: {
          async write() {
            batches += 1;
            if (batches === 1) proxy.cutAll();
          },
        },
        err,
        now: NOW,
        openDatabase: async () => ({ pool, close: async () => {} }),
      });
      expect(code).toBe(75);
      expect(err.text).toMatch(/^amber-collector query: cannot reach the database: database connection failed: /);
      expect(batches).toBeLessThan(10);
    } finally {
      await pool.end();
      await proxy.close();
    }
  });

  it('reports SQL errors with their position', async () => {
    const run = await sql(['SELECT nope FROM sites']);
    expect(run.code).toBe(1);
    expect(run.err).toBe('amber-collector query: ERROR: column "nope" does not exist (at character 8)\n');
  });
});

describe('database problems', () => {
  it('a database without the schema says to run the collector first (exit 1)', async () => {
    const empty = await createTestDatabase({ migrated: false });
    try {
      const run = await query(['summary'], empty.pool);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/this database has no amber-collector tables yet; run `(npm start|amber-collector run)` first: it creates them and collects/);
    } finally {
      await empty.drop();
    }
  });

  it('an unreachable database exits 75 (try again later)', async () => {
    const pool = createPool({ url: 'postgres://postgres@127.0.0.1:1/nothing', ssl: false }, silentLogger());
    try {
      const run = await query(['summary'], pool);
      expect(run.code).toBe(75);
      expect(run.err).toMatch(/^amber-collector query: cannot reach the database: .*ECONNREFUSED/);
    } finally {
      await pool.end();
    }
  });
});

/** /proc/<pid>/status, or '' once the process is gone. */
function readProcStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

describe('the real command', () => {
  const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

  async function runCli(args: string[], env: Record<string, string>): Promise<Run> {
    // An empty working directory: no .env file may supply what the test leaves out.
    return collectOutput(spawn(process.execPath, [cli, ...args], { cwd: scratchDir('amber-cli-'), env: { PATH: process.env.PATH ?? '', ...env } }));
  }

  it('needs only DATABASE_URL: no Amber API key, no start date', async () => {
    const run = await runCli(['query', 'summary', '--json'], { DATABASE_URL: db.url });
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out).sites).toHaveLength(2);
  });

  /** Runs the real command with DATABASE_URL, sampling its peak RSS (VmHWM) until it exits. */
  async function peakRss(args: string[]): Promise<{ code: number; lastLine: string; peakMb: number }> {
    const child = spawn(process.execPath, [cli, ...args], { cwd: scratchDir('amber-cli-'), env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url } });
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-200);
    });
    let peakKb = 0;
    const sample = setInterval(() => {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readProcStatus(child.pid!));
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    }, 20);
    const [code] = (await once(child, 'exit')) as [number];
    clearInterval(sample);
    return { code, lastLine: tail.trimEnd().split('\n').at(-1) ?? '', peakMb: peakKb / 1024 };
  }

  it('`sql` streams a million rows in about the memory of one (it buffered them all, then overflowed the stack)', async () => {
    const one = await peakRss(['query', 'sql', 'SELECT 1 AS n']);
    const million = await peakRss(['query', 'sql', 'SELECT generate_series(1, 1000000) AS n', '--timeout', '600']);
    expect(one).toMatchObject({ code: 0, lastLine: '(1 row)' });
    expect(million).toMatchObject({ code: 0, lastLine: '(1000000 rows)' });
    // What is left over is garbage V8 has not collected yet, not rows kept (they would need hundreds of MB).
    expect(million.peakMb - one.peakMb).toBeLessThan(40);
  }, 120_000);

  it('reports a bad DATABASE_URL and exits 1, without asking for Amber settings', async () => {
    const run = await runCli(['query', 'summary'], { DATABASE_URL: 'mysql://db' });
    expect(run.code).toBe(1);
    expect(run.err).toContain('DATABASE_URL: expected a postgres:// or postgresql:// URL');
    expect(run.err).not.toContain('AMBER_API_KEY');
  });
});
