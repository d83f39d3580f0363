/**
 * What the collector does with bad API data, end to end against the fake Amber server: poisoned text is
 * stored with U+FFFD and nothing is lost; inconsistent intervals are kept in rejected_intervals, not
 * stored; a row the database refuses anyway costs that row only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { judge, renderStatus } from '../../src/commands/status.ts';
import { queryCommand } from '../../src/commands/query.ts';
import type { Site } from '../../src/domain/models.ts';
import { readRoutes } from '../../src/http/read-api.ts';
import { startHttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { buildStatusReport, type StatusReport } from '../../src/query/collection-status.ts';
import { memoryOutput } from '../../src/commands/output/output.ts';
import { DEFAULT_STATUS_SETTINGS } from '../helpers/status-settings.ts';
import { readIncompleteDays } from '../../src/db/coverage-ledger.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { diffPrices } from '../helpers/ground-truth.ts';

// 13:00 NEM time on 2025-11-21.
const NOW = new Date('2025-11-21T03:00:00Z');
const DAY = '2025-11-18';
const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE';
const HALF_HOUR_SITE = '01JB2WXYZ3M4N5P6Q7R8S9T0VA';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setup() {
  const h = await startHarness({ now: NOW });
  harness = h;
  const log = captureLogger();
  const collector = h.newCollector({ logger: log.logger });
  return { h, log, collector };
}

function siteOf(sites: readonly Site[], id: string): Site {
  const site = sites.find((s) => s.id === id);
  if (!site) throw new Error(`no site ${id}`);
  return site;
}

interface RejectedRow {
  data_type: string;
  requested_from: string;
  requested_to: string;
  rule: string;
  problems: string;
  raw: Record<string, unknown>;
  times_seen: number;
}

async function rejectedRows(h: Harness): Promise<RejectedRow[]> {
  const { rows } = await h.pool.query<RejectedRow>(
    `SELECT data_type, to_char(requested_from, 'YYYY-MM-DD') AS requested_from, to_char(requested_to, 'YYYY-MM-DD') AS requested_to,
            rule, problems, raw, times_seen
     FROM rejected_intervals ORDER BY raw->>'endTime', raw->>'channelType'`,
  );
  return rows;
}

describe('poisoned text (NUL) from the API', () => {
  it('is stored as U+FFFD in columns and raw, logged once per response, and no site or interval is lost', async () => {
    const { h, log, collector } = await setup();
    h.fake.inject({ kind: 'nul', endpoint: 'sites' });
    h.fake.inject({ kind: 'nul', endpoint: 'prices' });

    const sites = await collector.discoverSites(AbortSignal.timeout(20_000));
    expect(sites).toHaveLength(4);
    const stored = await h.pool.query<{ network: string; raw: Record<string, unknown>; channels: Array<{ tariff: string }> }>(
      'SELECT network, raw, channels FROM sites ORDER BY id',
    );
    expect(stored.rows).toHaveLength(4);
    for (const row of stored.rows) {
      expect(row.network).toMatch(/\uFFFDx$/);
      expect(row.raw['note\uFFFD']).toBe('a\uFFFDb');
      expect(row.channels[0]?.tariff).toMatch(/\uFFFD$/);
    }

    const site = siteOf(sites, FIVE_MINUTE_SITE);
    const result = await collector.collectDays(site, 'price', { startDate: DAY, endDate: DAY }, AbortSignal.timeout(20_000));
    expect(result.rejected).toBe(0);
    expect(await diffPrices(h.pool, h.fake, site.id, DAY, DAY)).toMatchObject({ missing: [], extra: [], wrong: [] });
    const descriptors = await h.pool.query<{ descriptor: string; note: string }>(
      `SELECT DISTINCT right(descriptor, 1) AS descriptor, raw->>'note\uFFFD' AS note FROM price_data WHERE site_id = $1`,
      [site.id],
    );
    expect(descriptors.rows).toEqual([{ descriptor: '\uFFFD', note: 'a\uFFFDb' }]);

    const warnings = log.lines.filter((l) => typeof l['message'] === 'string' && l['message'].startsWith('Amber sent text PostgreSQL cannot store'));
    expect(warnings.map((w) => w['endpoint'])).toEqual(['sites', 'prices']);
    expect(warnings[1]).toMatchObject({ level: 40, site: site.id, startDate: DAY, endDate: DAY });
    // Per interval: the descriptor, and the key and value of the extra field.
    expect(warnings[1]?.['replaced']).toBe(3 * 288 * 3);
    expect(warnings[1]?.['sample']).toContain('\uFFFD');
  });
});

describe('inconsistent intervals', () => {
  it('are kept in rejected_intervals with the rule, counted, logged once per chunk, and the rest is stored', async () => {
    const { h, log, collector } = await setup();
    const site = siteOf(await collector.discoverSites(AbortSignal.timeout(20_000)), FIVE_MINUTE_SITE);
    h.fake.inject({ kind: 'inconsistent', endpoint: 'prices', fraction: 0.02, times: 2 });

    const first = await collector.collectDays(site, 'price', { startDate: DAY, endDate: DAY }, AbortSignal.timeout(20_000));
    const second = await collector.collectDays(site, 'price', { startDate: DAY, endDate: DAY }, AbortSignal.timeout(20_000));
    expect(first.rejected).toBeGreaterThan(0);
    expect(second.rejected).toBe(first.rejected);

    const rejected = await rejectedRows(h);
    // The same bad element on every fetch is one row, seen twice.
    expect(rejected).toHaveLength(first.rejected);
    for (const row of rejected) {
      expect(row).toMatchObject({ data_type: 'price', requested_from: DAY, requested_to: DAY, rule: 'nem-time-is-end-time', times_seen: 2 });
      expect(row.problems).toContain(String(row.raw['nemTime']));
    }
    const diff = await diffPrices(h.pool, h.fake, site.id, DAY, DAY);
    expect(diff).toMatchObject({ extra: [], wrong: [] });
    expect(diff.missing).toHaveLength(first.rejected);

    const warnings = log.lines.filter((l) => l['message'] === 'Amber response has elements that failed validation');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ site: site.id, endpoint: 'prices', rejected: first.rejected, rules: { 'nem-time-is-end-time': first.rejected } });
    expect(String((warnings[0]?.['sample'] as { element: string }).element).length).toBeLessThanOrEqual(501);
  });

  it('leave a day whose only data were rejected incomplete in the coverage ledger', async () => {
    const { h, collector } = await setup();
    const site = siteOf(await collector.discoverSites(AbortSignal.timeout(20_000)), FIVE_MINUTE_SITE);
    h.fake.inject({ kind: 'inconsistent', endpoint: 'prices', fraction: 0, days: [DAY] });

    const result = await collector.collectDays(site, 'price', { startDate: DAY, endDate: DAY }, AbortSignal.timeout(20_000));
    expect(result.rejected).toBe(3 * 288);
    expect(result.inserted).toBe(0);
    const incomplete = await readIncompleteDays(h.pool, { siteId: site.id, dataType: 'price', from: DAY, through: DAY });
    expect(incomplete).toEqual([expect.objectContaining({ date: DAY, fetched: true, expected: 3 * 288, stored: 0 })]);
  });
});

describe('a row the database refuses although it passed validation', () => {
  it('costs that row only: the chunk is stored row by row and the row is kept as rejected (rule database)', async () => {
    const { h, log, collector } = await setup();
    const site = siteOf(await collector.discoverSites(AbortSignal.timeout(20_000)), HALF_HOUR_SITE);
    const rows = site.channels.length * 48;
    // Stands in for a check the edge is missing: the database refuses one interval of the day.
    const refusedEnd = '2025-11-18T05:00:00Z';
    await h.pool.query(`ALTER TABLE price_data ADD CONSTRAINT refuse_one CHECK (nem_time <> '${refusedEnd}' OR channel_type <> 'general')`);

    const result = await collector.collectDays(site, 'price', { startDate: DAY, endDate: DAY }, AbortSignal.timeout(20_000));
    expect(result).toMatchObject({ inserted: rows - 1, rejected: 1 });
    const diff = await diffPrices(h.pool, h.fake, site.id, DAY, DAY);
    expect(diff).toMatchObject({ missing: [`general|${new Date(refusedEnd).toISOString()}|30`], extra: [], wrong: [] });
    const rejected = await rejectedRows(h);
    expect(rejected).toEqual([expect.objectContaining({ rule: 'database', problems: expect.stringMatching(/^SQLSTATE 23514: .*refuse_one/) })]);
    expect(rejected[0]?.raw['endTime']).toBe(refusedEnd);
    expect(log.lines.find((l) => l['level'] === 50)).toMatchObject({
      message: 'the database refused a row that passed validation (a bug); storing the chunk row by row',
      site: site.id,
      code: '23514',
    });
  });
});

describe('users see the rejected elements', () => {
  it('in status (per stream), /api/status, and `query rejected`, with the rule, the range and a sample', async () => {
    const { h, collector } = await setup();
    const site = siteOf(await collector.discoverSites(AbortSignal.timeout(20_000)), FIVE_MINUTE_SITE);
    h.fake.inject({ kind: 'inconsistent', endpoint: 'prices', fraction: 0.01 });
    const result = await collector.collectDays(site, 'price', { startDate: DAY, endDate: DAY }, AbortSignal.timeout(20_000));
    expect(result.rejected).toBeGreaterThan(0);

    const report = await buildStatusReport(h.pool, DEFAULT_STATUS_SETTINGS, NOW);
    const price = report.streams.find((s) => s.siteId === site.id && s.dataType === 'price');
    expect(price?.rejected).toEqual({ elements: result.rejected, lastSeenAt: expect.any(String) });
    expect(report.streams.find((s) => s.siteId === site.id && s.dataType === 'usage')?.rejected.elements).toBe(0);
    const text = renderStatus(report, judge(report, NOW, { ignoreUnavailable: false }), NOW);
    expect(text).toContain(`rejected       ${result.rejected} elements the API sent failed validation`);
    expect(text).toContain(`amber-collector query rejected --site ${site.id}`);

    const server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      routes: readRoutes({ pool: h.pool, status: DEFAULT_STATUS_SETTINGS, now: () => NOW }),
      apiToken: null,
      logger: silentLogger(),
    });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/api/status`);
      const body = (await response.json()) as StatusReport;
      expect(body.streams.find((s) => s.siteId === site.id && s.dataType === 'price')?.rejected.elements).toBe(result.rejected);
    } finally {
      await server.close();
    }

    const query = async (args: string[]) => {
      const out = memoryOutput();
      const err = memoryOutput();
      const code = await queryCommand.run(args, { out, err, now: NOW, openDatabase: async () => ({ pool: h.pool, close: async () => {} }) });
      return { code, out: out.text, err: err.text };
    };
    const listed = await query(['rejected', '--site', site.id]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`price\\s+${DAY}\\s+nem-time-is-end-time\\s+1\\s+\\{"`));
    expect(listed.out.match(/nem-time-is-end-time/g)?.length).toBeGreaterThanOrEqual(result.rejected);
    expect(listed.out).toContain('is not the instant endTime');
    const json = JSON.parse((await query(['rejected', '--json'])).out) as { rejected: Array<{ rule: string; raw: unknown }> };
    expect(json.rejected).toHaveLength(result.rejected);
    expect(json.rejected[0]).toMatchObject({ rule: 'nem-time-is-end-time', siteId: site.id, dataType: 'price', requestedFrom: DAY, timesSeen: 1 });
    expect((await query(['rejected', '--since', '2025-11-22'])).out).toContain('nem-time-is-end-time');
    expect((await query(['rejected', '--since', '2099-01-01'])).out).toContain('No rejected elements');
    expect(await query(['rejected', '--since', 'yesterday'])).toMatchObject({ code: 2 });
  });
});

describe('the forecast archive', () => {
  it('keeps refused /prices/current elements as rejected (data type forecast), and prunes rejected rows not seen for 90 days', async () => {
    const { h } = await setup();
    const collector = h.newCollector({ forecastCompactAfterDays: 7 });
    await collector.discoverSites(AbortSignal.timeout(20_000));
    await h.pool.query(
      `INSERT INTO rejected_intervals (site_id, data_type, raw_hash, requested_from, requested_to, rule, problems, raw, first_seen_at, last_seen_at)
       VALUES ($1, 'price', 'old', '2025-08-01', '2025-08-01', 'schema', 'x', '{}', now() - interval '100 days', $2),
              ($1, 'price', 'recent', '2025-08-01', '2025-08-01', 'schema', 'x', '{}', now() - interval '100 days', $3)`,
      [FIVE_MINUTE_SITE, new Date(NOW.getTime() - 91 * 24 * 3600_000), new Date(NOW.getTime() - 89 * 24 * 3600_000)],
    );
    h.fake.inject({ kind: 'inconsistent', endpoint: 'currentPrices', fraction: 0.05, siteId: FIVE_MINUTE_SITE });

    await collector.runCycle(AbortSignal.timeout(30_000));

    const rows = await h.pool.query<{ raw_hash: string; data_type: string; rule: string }>(
      'SELECT raw_hash, data_type, rule FROM rejected_intervals ORDER BY data_type, raw_hash',
    );
    const forecasts = rows.rows.filter((r) => r.data_type === 'forecast');
    expect(forecasts.length).toBeGreaterThan(0);
    expect(new Set(forecasts.map((r) => r.rule))).toEqual(new Set(['nem-time-is-end-time']));
    expect(rows.rows.filter((r) => r.data_type === 'price').map((r) => r.raw_hash)).toEqual(['recent']);
  });
});
