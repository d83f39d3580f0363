/**
 * The daemon against a fake Amber whose responses carry random elements the spec allows (its
 * `randomElements` mode): it keeps collecting every real interval, stores nothing that breaks a rule, meets
 * no database error, and counts and keeps what it refuses.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.ts';
import { runDaemon } from '../src/daemon.ts';
import { addDays, nemToday } from '../src/domain/nem-time.ts';
import { readRejectedCounts } from '../src/db/rejected-intervals.ts';
import { isReplacedByRandom } from './fake-amber/random-elements.ts';
import { captureLogger } from './helpers/capture-logger.ts';
import { databaseForTest } from './helpers/database.ts';
import { fakeAmberForTest } from './helpers/fake-amber.ts';
import { diffPrices, diffUsage } from './helpers/ground-truth.ts';
import { brokenRowsSql } from './helpers/interval-rules-sql.ts';

const FRACTION = 0.02;
const SEED = 1;
const CYCLES = 3;

describe('the daemon against random spec-valid elements inside real responses', () => {
  it(`collects every real interval over ${CYCLES} cycles, stores nothing inconsistent, and counts and keeps the rest`, async () => {
    const fake = await fakeAmberForTest({ seed: SEED, randomElements: FRACTION });
    const db = await databaseForTest();
    const today = nemToday(new Date());
    const start = addDays(today, -6);
    const config = parseConfig({
      AMBER_API_KEY: fake.apiKey,
      AMBER_API_BASE_URL: fake.url,
      DATABASE_URL: db.url,
      HISTORICAL_START_DATE: start,
      AMBER_RATE_LIMIT: '1000;w=1',
      HTTP_PORT: '0',
    });
    const log = captureLogger();
    const stop = new AbortController();
    const running = runDaemon(config, log.logger, stop.signal, { cycleCron: '* * * * * *' });
    const port = (await log.waitFor('HTTP server listening'))['port'] as number;
    await log.waitFor('backfill finished', 60_000);
    const cyclesBefore = log.lines.filter((l) => l['message'] === 'cycle finished').length;
    while (log.lines.filter((l) => l['message'] === 'cycle finished').length < cyclesBefore + CYCLES) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    stop.abort();
    await running;

    // No stream failed and the database refused nothing.
    expect(log.lines.filter((l) => l['message'] === 'stream failed; it will be retried next cycle')).toEqual([]);
    expect(log.lines.filter((l) => String(l['message']).startsWith('the database refused'))).toEqual([]);
    expect(log.lines.filter((l) => l['message'] === 'Amber response has elements that failed validation').length).toBeGreaterThan(0);

    // Nothing stored breaks a rule.
    const range = { from: start, to: today };
    expect((await db.pool.query(brokenRowsSql('price_data', range))).rows).toEqual([]);
    expect((await db.pool.query(brokenRowsSql('usage_data', range))).rows).toEqual([]);

    // Every real interval is stored; the missing ones are exactly those the fake replaced.
    const sites = await db.pool.query<{ id: string; status: string }>(`SELECT id, status FROM sites WHERE status = 'active'`);
    expect(sites.rows.length).toBeGreaterThan(0);
    let replaced = 0;
    for (const { id } of sites.rows) {
      const yesterday = addDays(today, -1);
      const prices = await diffPrices(db.pool, fake, id, start, yesterday);
      const replacedPrices = fake.expectedPrices(id, start, yesterday).filter((row) => isReplacedByRandom(row, FRACTION, SEED));
      expect({ extra: prices.extra, wrong: prices.wrong, missing: prices.missing.length }).toEqual({ extra: [], wrong: [], missing: replacedPrices.length });
      const lastUsage = addDays(today, -2);
      const usage = await diffUsage(db.pool, fake, id, start, lastUsage);
      const replacedUsage = fake.expectedUsage(id, start, lastUsage).filter((row) => isReplacedByRandom(row, FRACTION, SEED));
      expect({ extra: usage.extra, wrong: usage.wrong, missing: usage.missing.length }).toEqual({ extra: [], wrong: [], missing: replacedUsage.length });
      replaced += replacedPrices.length + replacedUsage.length;
    }
    expect(replaced).toBeGreaterThan(0);

    // What was refused is kept, once per element, up to the caps (50 new rows per response), and counted:
    // the elements beyond them in a not-kept row per day.
    const kept = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM rejected_intervals WHERE data_type IN ('price', 'usage') AND rule <> 'not-kept'`);
    expect(kept.rows[0]!.n).toBeGreaterThan(0);
    const elements = (await readRejectedCounts(db.pool)).filter((c) => c.dataType !== 'forecast').reduce((n, c) => n + c.elements, 0);
    expect(elements).toBeGreaterThanOrEqual(replaced);
    const counted = [...metrics.matchAll(/^amber_collector_rejected_elements_total\{data_type="(?:price|usage)"\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(counted).toBeGreaterThanOrEqual(replaced);
  }, 180_000);
});
