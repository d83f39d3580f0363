/**
 * `amber-collector query forecast-accuracy` over the hand-worked archive (accuracy-seed.ts): the table a
 * person reads, the JSON a script reads (the same figures as the read model), and flag mistakes refused
 * before the database is opened.
 */
import { describe, expect, it } from 'vitest';
import { queryCommand } from '../../src/commands/query.ts';
import { memoryOutput } from '../../src/commands/output/output.ts';
import { forecastAccuracy } from '../../src/query/forecast-accuracy.ts';
import { nemDayStart } from '../../src/domain/nem-time.ts';
import { databaseForFile } from '../helpers/database.ts';
import { ACCURACY_SITE, seedHandWorkedArchive } from './accuracy-seed.ts';

const db = databaseForFile({ seed: seedHandWorkedArchive });
const NOW = new Date('2025-11-21T02:00:00Z');

/** Runs the command in process on the file's database. */
async function query(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const [out, err] = [memoryOutput(), memoryOutput()];
  const code = await queryCommand.run(args, { out, err, now: NOW, openDatabase: async () => ({ pool: db.pool, close: async () => {} }) });
  return { code, out: out.text, err: err.text };
}

describe('query forecast-accuracy', () => {
  it('a table: one row per channel and lead bucket, then the settled spikes', async () => {
    const run = await query(['forecast-accuracy', '--from', '2025-11-20', '--to', '2025-11-20']);
    expect(run.code).toBe(0);
    expect(run.out).toContain(`Forecast accuracy of site ${ACCURACY_SITE.id}, NEM days 2025-11-20 to 2025-11-20`);
    expect(run.out).toMatch(/general\s+0-5m\s+2\s+6\.00\s+-4\.00\s+3\.00\s+-2\.00\s+50\.0%\s+1\s+0\s+0/);
    expect(run.out).toMatch(/general\s+2-6h\s+1\s+10\.00\s+10\.00\s+5\.00\s+5\.00\s+100\.0%\s+0\s+0\s+1/);
    expect(run.out).toMatch(/feedIn\s+5-30m\s+1\s+1\.00\s+1\.00\s+-\s+-\s+-\s+0\s+0\s+0/);
    expect(run.out).toMatch(/general\s+1\s+1\s+60\s+60/);
  });

  it('--json carries the read model\'s figures; --channel narrows them', async () => {
    const run = await query(['forecast-accuracy', '--site', ACCURACY_SITE.id, '--from', '2025-11-20', '--to', '2025-11-20', '--channel', 'feedIn', '--json']);
    expect(run.code).toBe(0);
    const expected = await forecastAccuracy(db.pool, { siteId: ACCURACY_SITE.id, from: nemDayStart('2025-11-20'), to: nemDayStart('2025-11-21'), channels: ['feedIn'] });
    expect(JSON.parse(run.out)).toEqual({ siteId: ACCURACY_SITE.id, from: '2025-11-20', to: '2025-11-20', unit: 'c/kWh', ...expected });
    expect(expected.buckets.map((b) => b.channelType)).toEqual(['feedIn']);
  });

  it('--by time-of-day adds the error per NEM hour of the interval start, as the read model has it', async () => {
    const range = { siteId: ACCURACY_SITE.id, from: nemDayStart('2025-11-20'), to: nemDayStart('2025-11-21'), channels: null, byTimeOfDay: true };
    const expected = await forecastAccuracy(db.pool, range);
    // Every seeded interval starts between 10:00 and 11:00 NEM time (00:00–01:00Z).
    const general = expected.buckets.filter((b) => b.channelType === 'general').reduce((sum, b) => sum + b.forecasts, 0);
    expect(expected.timeOfDay!.filter((h) => h.channelType === 'general')).toMatchObject([{ hour: 10, forecasts: general }]);
    const table = await query(['forecast-accuracy', '--from', '2025-11-20', '--to', '2025-11-20', '--by', 'time-of-day']);
    expect(table.out).toContain('By time of day');
    expect(table.out).toMatch(new RegExp(`general\\s+10:00\\s+${general}\\s`));
    const json = await query(['forecast-accuracy', '--from', '2025-11-20', '--to', '2025-11-20', '--by', 'time-of-day', '--json']);
    expect(JSON.parse(json.out).timeOfDay).toEqual(expected.timeOfDay);
    expect((await query(['forecast-accuracy', '--from', '2025-11-20', '--to', '2025-11-20'])).out).not.toContain('By time of day');
  });

  it('a range with no forecasts says so', async () => {
    const run = await query(['forecast-accuracy', '--from', '2025-10-01', '--to', '2025-10-02']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('No archived forecast of a settled interval in this range.');
  });

  it.each([
    [['forecast-accuracy', '--channel', 'spot'], /--channel takes channel types/],
    [['forecast-accuracy', '--channel', ','], /--channel takes channel types/],
    [['forecast-accuracy', '--by', 'hour'], /--by takes lead or time-of-day/],
    [['prices', '--by', 'time-of-day'], /--by does not apply to "prices"/],
    [['forecast-accuracy', '--from', '2024-01-01', '--to', '2025-11-20'], /at most 366 days/],
    [['forecast-accuracy', '--from', 'yesterday'], /--from must be a date/],
    [['forecast-accuracy', 'extra'], /takes no arguments/],
    [['forecast-accuracy', '--type', 'usage'], /--type does not apply/],
    [['prices', '--channel', 'general'], /--channel does not apply to "prices"/],
  ])('%j is a usage error', async (args, problem) => {
    const run = await query(args);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(problem);
  });
});
