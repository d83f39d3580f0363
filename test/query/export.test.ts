/**
 * The streamed export: keyset pages that neither skip nor repeat rows, exact numeric digits, and output
 * that waits for a slow consumer instead of buffering. Also the database-only configuration the query
 * command reads.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseDatabaseConfig } from '../../src/config/config.ts';
import { upsertPriceIntervals } from '../../src/db/prices.ts';
import { isCollectorError } from '../../src/errors.ts';
import { exportRows } from '../../src/commands/output/export-writer.ts';
import { memoryOutput, streamOutput } from '../../src/commands/output/output.ts';
import { databaseForFile } from '../helpers/database.ts';
import { buildFixture, loadFixture, SITE_30, SITE_5 } from './fixtures.ts';

const BOTH = [SITE_5.id, SITE_30.id];
const db = databaseForFile({ seed: loadFixture });
/** What the database holds: the expected figures are recomputed from these objects. */
const fixture = buildFixture();

async function exportText(options: Partial<Parameters<typeof exportRows>[1]>): Promise<{ text: string; count: number }> {
  const output = memoryOutput();
  const count = await exportRows(db.pool, { type: 'usage', siteIds: BOTH, from: '2025-11-19', to: '2025-11-20', format: 'ndjson', raw: false, ...options }, output);
  return { text: output.text, count };
}

describe('exportRows', () => {
  it('pages of 7 rows give exactly the rows of one big page: none skipped, none repeated, in key order', async () => {
    const small = await exportText({ pageSize: 7 });
    const big = await exportText({ pageSize: 100_000 });
    const expected = [...fixture.usage.values()].flat().length;
    expect(small.count).toBe(expected);
    expect(small.text).toBe(big.text);
    const keys = small.text.trimEnd().split('\n').map((line) => {
      const row = JSON.parse(line) as Record<string, string>;
      return `${row['site_id']}|${row['channel_id']}|${row['nem_time']}`;
    });
    expect(new Set(keys).size).toBe(expected);
    expect(keys).toEqual([...keys].sort());
  });

  it('keeps the exact digits the API sent, and writes an empty range as a valid empty document', async () => {
    const [first] = fixture.prices.get(SITE_30.id)!;
    await upsertPriceIntervals(db.pool, SITE_30.id, [{ ...first!, date: '2025-11-10', nemTime: '2025-11-10T00:30:00+10:00', startTime: '2025-11-09T14:00:01Z', endTime: '2025-11-09T14:30:00Z', perKwh: 31.185000000000002 }]);
    const { text } = await exportText({ type: 'price', from: '2025-11-10', to: '2025-11-10', format: 'json' });
    expect(text).toContain('"per_kwh":31.185000000000002');
    expect(JSON.parse(text)).toHaveLength(1);
    expect(JSON.parse((await exportText({ from: '2020-01-01', to: '2020-01-02', format: 'json' })).text)).toEqual([]);
    expect((await exportText({ from: '2020-01-01', to: '2020-01-02', format: 'csv' })).text).toMatch(/^site_id,channel_id,.*\r\n$/);
  });

  it('waits for a slow consumer (drain) and still delivers every byte', async () => {
    let received = '';
    let drains = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, done) {
        received += chunk.toString();
        setImmediate(done);
      },
    });
    slow.on('drain', () => (drains += 1));
    const count = await exportRows(db.pool, { type: 'usage', siteIds: BOTH, from: '2025-11-19', to: '2025-11-20', format: 'csv', raw: false, pageSize: 500 }, streamOutput(slow));
    await new Promise<void>((resolve) => slow.end(resolve));
    expect(drains).toBeGreaterThan(0);
    expect(received.trimEnd().split('\r\n')).toHaveLength(count + 1);
  });
});

describe('parseDatabaseConfig', () => {
  it('needs only DATABASE_URL, and applies DATABASE_SSL', () => {
    expect(parseDatabaseConfig({ DATABASE_URL: 'postgres://u:p@db:5432/amber' })).toEqual({ url: 'postgres://u:p@db:5432/amber', ssl: false });
    expect(parseDatabaseConfig({ DATABASE_URL: 'postgres://u:p@db/amber?sslmode=require' })).toMatchObject({ ssl: { rejectUnauthorized: false } });
    expect(parseDatabaseConfig({ DATABASE_URL: 'postgres://db/amber', DATABASE_SSL: 'verify' })).toMatchObject({ ssl: { rejectUnauthorized: true } });
  });

  it('without DATABASE_URL, names the embedded database in DATA_DIR', () => {
    expect(parseDatabaseConfig({})).toEqual({ url: null, dataDir: 'data' });
    expect(parseDatabaseConfig({ DATA_DIR: '/srv/amber' })).toEqual({ url: null, dataDir: '/srv/amber' });
  });

  it('reports a malformed URL the way readConfig does, without echoing it', () => {
    for (const [env, message] of [
      [{ DATABASE_URL: 'mysql://secret@db' }, 'DATABASE_URL: expected a postgres:// or postgresql:// URL'],
    ] as const) {
      let caught: unknown;
      try {
        parseDatabaseConfig(env);
      } catch (err) {
        caught = err;
      }
      expect(isCollectorError(caught, 'CONFIG_INVALID')).toBe(true);
      expect((caught as Error).message).toContain(message);
      expect((caught as Error).message).not.toContain('secret');
    }
  });
});
