/**
 * `npm run bench -- backup`: a year of one 5-minute site, generated in SQL (prices on three channels and usage
 * on two, each row with an API-sized `raw`; the forecast archive at its compacted density, 6 snapshots per
 * interval and channel; a year of coverage), backed up and restored by the real commands as processes, the
 * backup under the daemon's heap flags. Figures: the file's size, both times, the commands' peak RSS, and
 * whether every table of the restored database is identical to the original's.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { benchServerUrl, createBenchDatabase, type BenchDatabase } from './bench-database.ts';
import { figuresOf, type Figure } from './figures.ts';
import { openScratchDatabase } from '../helpers/database-admin.ts';
import type { Benchmark } from './run.ts';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
const YEAR_START = "timestamptz '2025-01-01 00:05+10'";
const YEAR_END = "timestamptz '2026-01-01 00:00+10'";

/** A year of one 5-minute site, in SQL. */
async function generateYear(pool: pg.Pool): Promise<void> {
  await pool.query(`INSERT INTO sites (id, nmi, network, status, interval_length, channels, raw)
    VALUES ('S1', '4103827719', 'Ausgrid', 'active', 5,
      '[{"identifier":"E1","type":"general","tariff":"A100"},{"identifier":"E2","type":"controlledLoad","tariff":"A200"},{"identifier":"B1","type":"feedIn","tariff":"N1"}]', '{"id":"S1"}')`);
  await pool.query(`SET statement_timeout = 0`);
  await pool.query(
    `INSERT INTO price_data (site_id, channel_type, nem_time, duration, start_time, end_time, nem_date, per_kwh, spot_per_kwh, renewables, spike_status,
                             descriptor, tariff_period, interval_type, raw)
     SELECT 'S1', c, t, 5, t - interval '299 seconds', t, (t - interval '10 hours 1 second')::date, p, s, r, 'none', 'neutral', 'offPeak', 'ActualInterval',
            jsonb_build_object('type', 'ActualInterval', 'date', (t - interval '10 hours 1 second')::date, 'duration', 5, 'startTime', t - interval '299 seconds',
              'endTime', t, 'nemTime', t, 'perKwh', p, 'renewables', r, 'spotPerKwh', s, 'channelType', c, 'spikeStatus', 'none',
              'tariffInformation', jsonb_build_object('period', 'offPeak'), 'descriptor', 'neutral', 'estimate', false)
       FROM generate_series(${YEAR_START}, ${YEAR_END}, interval '5 minutes') AS t,
            unnest(ARRAY['general', 'controlledLoad', 'feedIn']) AS c,
            LATERAL (SELECT round((20 + 15 * sin(extract(epoch FROM t) / 7000) + random())::numeric, 5) AS p,
                            round((8 + 6 * cos(extract(epoch FROM t) / 9000))::numeric, 5) AS s, round((30 + 20 * random())::numeric, 2) AS r) v`,
  );
  await pool.query(
    `INSERT INTO usage_data (site_id, channel_id, channel_type, nem_time, duration, start_time, end_time, nem_date, kwh, cost, quality, per_kwh, spot_per_kwh,
                             renewables, spike_status, descriptor, raw)
     SELECT 'S1', ch, ty, t, 5, t - interval '299 seconds', t, (t - interval '10 hours 1 second')::date, k, round(k * 25.1, 5), 'billable', 25.1, 8.2, 41.5, 'none', 'neutral',
            jsonb_build_object('type', 'Usage', 'channelIdentifier', ch, 'channelType', ty, 'kwh', k, 'cost', round(k * 25.1, 5), 'quality', 'billable',
              'nemTime', t, 'startTime', t - interval '299 seconds', 'endTime', t, 'duration', 5, 'perKwh', 25.1, 'spotPerKwh', 8.2, 'renewables', 41.5)
       FROM generate_series(${YEAR_START}, ${YEAR_END}, interval '5 minutes') AS t,
            (VALUES ('E1', 'general'), ('B1', 'feedIn')) AS x (ch, ty),
            LATERAL (SELECT round((random() * 0.4)::numeric, 4) AS k) v`,
  );
  // The compacted archive: 6 snapshots per interval and channel, fetched from 36 h to 5 min before it.
  await pool.query(
    `INSERT INTO price_forecasts (site_id, channel_type, nem_time, duration, fetched_at, nem_date, interval_type, per_kwh, spot_per_kwh, renewables, spike_status,
                                  descriptor, range_min, range_max, advanced_low, advanced_predicted, advanced_high)
     SELECT 'S1', c, t, 5, t - lead, (t - interval '10 hours 1 second')::date, 'ForecastInterval', round((20 + random() * 5)::numeric, 5), 8.1, 40, 'none', 'neutral',
            18.2, 27.9, 19.1, 22.4, 26.3
       FROM generate_series(${YEAR_START}, ${YEAR_END}, interval '5 minutes') AS t,
            unnest(ARRAY['general', 'controlledLoad', 'feedIn']) AS c,
            unnest(ARRAY[interval '36 hours', interval '12 hours', interval '4 hours', interval '1 hour', interval '30 minutes', interval '10 minutes']) AS lead`,
  );
  await pool.query(`SELECT count(*) FROM recount_coverage('S1', 'price', '2025-01-01', '2025-12-31')`);
  await pool.query(`SELECT count(*) FROM recount_coverage('S1', 'usage', '2025-01-01', '2025-12-31')`);
  await pool.query(`RESET statement_timeout`);
}

/** Runs `amber-collector <args>` with the daemon's heap flags; its duration and peak RSS (VmHWM). */
async function command(args: string[], databaseUrl: string, cwd: string): Promise<{ seconds: number; peakRssBytes: number; stdout: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--max-semi-space-size=1', '--max-old-space-size=128', CLI, ...args], {
    cwd,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let peakRssBytes = 0;
  const sampler = setInterval(() => {
    readFile(`/proc/${child.pid}/status`, 'utf8')
      .then((status) => {
        const kilobytes = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
        peakRssBytes = Math.max(peakRssBytes, kilobytes * 1024);
      })
      .catch(() => undefined);
  }, 50);
  const [code] = (await once(child, 'close')) as [number | null];
  clearInterval(sampler);
  if (code !== 0) throw new Error(`amber-collector ${args.join(' ')} exited ${code}`);
  return { seconds: (performance.now() - started) / 1000, peakRssBytes, stdout };
}

/** Every table's rows, ordered, hashed: equal fingerprints mean identical tables. */
async function fingerprint(pool: pg.Pool): Promise<Record<string, string>> {
  const tables = await pool.query<{ name: string }>(`SELECT relname AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname <> 'schema_migrations' ORDER BY 1`);
  const result: Record<string, string> = {};
  for (const { name } of tables.rows) {
    const row = await pool.query<{ f: string }>(`SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') AS f FROM "${name}" t`);
    result[name] = row.rows[0]!.f;
  }
  return result;
}

export const backupBenchmark: Benchmark = {
  name: 'backup',
  async run(): Promise<Figure[]> {
    const folder = await mkdtemp(join(tmpdir(), 'amber-bench-backup-'));
    let source: BenchDatabase | undefined;
    const target = await openScratchDatabase(benchServerUrl(), `amber_bench_restore_${process.pid}`, 'template0', 'amber-bench-restore');
    try {
      source = await createBenchDatabase('backup');
      await source.pool.query('SET statement_timeout = 0');
      await generateYear(source.pool);
      const rows = await source.pool.query<{ n: string }>(
        `SELECT ((SELECT count(*) FROM price_data) + (SELECT count(*) FROM usage_data) + (SELECT count(*) FROM price_forecasts) + (SELECT count(*) FROM coverage))::text AS n`,
      );
      const size = await source.pool.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes');
      const backup = await command(['backup', '--file', 'year.backup'], source.url, folder);
      const fileBytes = (await stat(join(folder, 'year.backup'))).size;
      const restore = await command(['restore', 'year.backup'], target.url, folder);
      const [before, after] = [await fingerprint(source.pool), await fingerprint(target.pool)];
      const identical = JSON.stringify(before) === JSON.stringify(after) ? 1 : 0;
      const note = `${rows.rows[0]!.n} rows (prices 3 ch, usage 2 ch, forecasts 6 per interval, coverage); database ${(Number(size.rows[0]!.bytes) / 1e6).toFixed(0)} MB`;
      return figuresOf('backup', [
        { name: 'a year of 5-minute data: backup file size', value: Math.round(fileBytes / 1e5) / 10, unit: 'MB', note },
        { name: 'backup time (the command, --max-old-space-size=128)', value: Math.round(backup.seconds * 10) / 10, unit: 's' },
        { name: 'restore time (the command, into an empty database)', value: Math.round(restore.seconds * 10) / 10, unit: 's' },
        { name: 'backup peak RSS', value: Math.round(backup.peakRssBytes / 1e6), unit: 'MB', target: { on: 'value', comparator: '<=', limit: 256 } },
        { name: 'restore peak RSS', value: Math.round(restore.peakRssBytes / 1e6), unit: 'MB', target: { on: 'value', comparator: '<=', limit: 256 } },
        { name: 'restored tables identical to the original', value: identical, unit: '(1 = yes)', target: { on: 'value', comparator: '>=', limit: 1 } },
      ]);
    } finally {
      await source?.drop();
      await target.drop();
      await rm(folder, { recursive: true, force: true });
    }
  },
};
