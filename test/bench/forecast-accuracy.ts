/**
 * The forecast-accuracy report over a year of a 5-minute site (test/helpers/forecast-archive-sql.ts: ~1.6M
 * archived forecasts at the README's densities): computed directly from the archive, against the same report
 * once the daily roll-up (db/accuracy-rollup.ts) holds the year, and the time the collector spends rolling
 * the year up, slice by slice. `npm run bench -- forecast-accuracy`.
 */
import pg from 'pg';
import { rollUpForecastAccuracy } from '../../src/db/accuracy-rollup.ts';
import { addDays, nemDayStart } from '../../src/domain/nem-time.ts';
import { forecastAccuracy, type AccuracyFilter } from '../../src/query/forecast-accuracy.ts';
import { ARCHIVE_SITE, seedForecastArchive } from '../helpers/forecast-archive-sql.ts';
import { createBenchDatabase } from './bench-database.ts';
import { figuresOf, measured, type Figure } from './figures.ts';
import type { Benchmark } from './run.ts';

const FIRST_DAY = '2025-01-01';
const LAST_DAY = '2025-12-31';

export const forecastAccuracyBenchmark: Benchmark = {
  name: 'forecast-accuracy',
  async run(): Promise<Figure[]> {
    const db = await createBenchDatabase('accuracy');
    // A plain pool without the collector's statement timeout: seeding a year is one long INSERT.
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const rows = await seedForecastArchive(pool, FIRST_DAY, LAST_DAY);
      await pool.query('VACUUM ANALYZE');
      const year: AccuracyFilter = { siteId: ARCHIVE_SITE.id, from: nemDayStart(FIRST_DAY), to: nemDayStart(addDays(LAST_DAY, 1)), channels: null, byTimeOfDay: true };
      const direct = await measured(() => forecastAccuracy(pool, { ...year, direct: true }));
      let slices = 0;
      const rollUp = await measured(async () => {
        // Everything is final: the roll-up covers the year a slice (a month) at a time, as cycles would.
        while ((await rollUpForecastAccuracy(pool, ARCHIVE_SITE.id, nemDayStart(addDays(LAST_DAY, 2)), false)) !== null) slices += 1;
      });
      const rolled = await measured(() => forecastAccuracy(pool, year));
      if (JSON.stringify(rolled.result) !== JSON.stringify(direct.result)) throw new Error('the rolled-up report differs from the direct one');
      const month: AccuracyFilter = { ...year, from: nemDayStart('2025-12-02') };
      const monthDirect = await measured(() => forecastAccuracy(pool, { ...month, direct: true }));
      const monthRolled = await measured(() => forecastAccuracy(pool, month));
      return figuresOf('forecast-accuracy', [
        {
          name: 'a year of a 5-minute site, rolled up',
          value: rolled.seconds,
          unit: 's',
          baseline: { name: 'computed directly from the archive', value: direct.seconds },
          target: { on: 'value', comparator: '<=', limit: 3 },
          note: `${rows} archived forecasts; by lead bucket and by time of day; identical answers`,
        },
        {
          name: 'the last 30 days (the newest week uncompacted), rolled up',
          value: monthRolled.seconds,
          unit: 's',
          baseline: { name: 'computed directly from the archive', value: monthDirect.seconds },
        },
        { name: 'rolling the year up', value: rollUp.seconds, unit: 's', note: `${slices} slices of at most a month, one per cycle` },
      ]);
    } finally {
      await pool.end();
      await db.drop();
    }
  },
};
