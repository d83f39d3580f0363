/**
 * A hostile upstream cannot make rejected_intervals grow without bound: the real collector against the fake
 * Amber server poisoning every element keeps at most 50 new rows per response and 200 per site, data type and
 * day, counts every other refused element (status agrees), and keeps only the start of an oversized element.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/nem-time.ts';
import { readRejectedCounts } from '../../src/db/rejected-intervals.ts';
import { startHarness, type Harness } from '../helpers/collector-harness.ts';

const NOW = new Date('2025-11-21T03:00:00Z');
const FIVE_MINUTE_SITE = '01HQ7ZV3K8D4N5XWB2C9R6T1AE';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setup() {
  harness = await startHarness({ now: NOW });
  const collector = harness.newCollector();
  const sites = await collector.discoverSites(AbortSignal.timeout(20_000));
  const site = sites.find((s) => s.id === FIVE_MINUTE_SITE)!;
  return { h: harness, collector, site };
}

describe('rejected_intervals under a hostile upstream', () => {
  it('keeps at most 50 new rows per response and 200 per site, data type and day, and counts the rest', async () => {
    const { h, collector, site } = await setup();
    let refused = 0;
    // Six weekly responses, every element of them inconsistent and unique: 6 × 6,048 refused elements.
    for (let week = 0; week < 6; week++) {
      const endDate = addDays('2025-11-20', -7 * week);
      const days = Array.from({ length: 7 }, (_, i) => addDays(endDate, -i));
      h.fake.inject({ kind: 'inconsistent', endpoint: 'prices', fraction: 0, days });
      const result = await collector.collectDays(site, 'price', { startDate: days[6]!, endDate }, AbortSignal.timeout(20_000));
      expect(result.rejected).toBe(7 * 288 * 3);
      refused += result.rejected;
    }

    const perResponse = await h.pool.query<{ requested_from: string; rows: number }>(
      `SELECT requested_from::text, count(*)::int AS rows FROM rejected_intervals WHERE rule <> 'not-kept' GROUP BY requested_from ORDER BY requested_from DESC`,
    );
    // 50 from each of the first four responses; the day's 200 are reached, the last two add none.
    expect(perResponse.rows.map((r) => r.rows)).toEqual([50, 50, 50, 50]);
    const notKept = await h.pool.query<{ times_seen: number; rule: string; problems: string }>(`SELECT times_seen, rule, problems FROM rejected_intervals WHERE rule = 'not-kept'`);
    expect(notKept.rows).toHaveLength(1);
    expect(notKept.rows[0]!.times_seen).toBe(refused - 200);
    expect(notKept.rows[0]!.problems).toMatch(/beyond the caps.*counted in times_seen, not kept/);
    // Nothing lost from the count: status says every refused element.
    expect(await readRejectedCounts(h.pool)).toEqual([expect.objectContaining({ siteId: site.id, dataType: 'price', elements: refused })]);

    // Seen again, a kept element (the first response's first day) is counted on its row, not added.
    h.fake.inject({ kind: 'inconsistent', endpoint: 'prices', fraction: 0, days: ['2025-11-14'] });
    await collector.collectDays(site, 'price', { startDate: '2025-11-14', endDate: '2025-11-14' }, AbortSignal.timeout(20_000));
    const rows = await h.pool.query<{ n: number; seen_twice: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE times_seen = 2)::int AS seen_twice FROM rejected_intervals WHERE rule <> 'not-kept'`,
    );
    expect(rows.rows[0]!.n).toBe(200);
    expect(rows.rows[0]!.seen_twice).toBe(50);
  }, 120_000);

  it('keeps only the start of an oversized element, and a short problem text', async () => {
    const { h, collector, site } = await setup();
    h.fake.inject({ kind: 'bloated', endpoint: 'prices', characters: 20_000 });
    const result = await collector.collectDays(site, 'price', { startDate: '2025-11-18', endDate: '2025-11-18' }, AbortSignal.timeout(50_000));
    expect(result.rejected).toBe(288 * 3);
    const sizes = await h.pool.query<{ rows: number; largest_raw: number; largest_problems: number; truncated: number }>(
      `SELECT count(*)::int AS rows, max(octet_length(raw::text))::int AS largest_raw, max(length(problems))::int AS largest_problems,
              count(*) FILTER (WHERE raw->>'truncated' = 'true' AND (raw->>'characters')::int > 20000)::int AS truncated
       FROM rejected_intervals WHERE rule <> 'not-kept'`,
    );
    expect(sizes.rows[0]).toEqual({ rows: 50, largest_raw: expect.any(Number), largest_problems: expect.any(Number), truncated: 50 });
    expect(sizes.rows[0]!.largest_raw).toBeLessThan(4_096 + 200);
    expect(sizes.rows[0]!.largest_problems).toBeLessThanOrEqual(1_000);
    const total = await h.pool.query<{ bytes: number }>(`SELECT pg_total_relation_size('rejected_intervals')::int AS bytes`);
    expect(total.rows[0]!.bytes).toBeLessThan(2_000_000);
  }, 60_000);
});
