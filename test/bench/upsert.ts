/**
 * Upsert throughput of `upsertPriceIntervals`, in absolute rows per second and against two baselines fed
 * into the very same INSERT … ON CONFLICT … WHERE-changed statement (`upsertSql`):
 *
 * - unnest: one array parameter per column, the textbook bulk upsert (our first design; the jsonb batch
 *   parameter replaced it because it measured faster, see src/db/upsert.ts);
 * - COPY: `COPY … FROM STDIN` into a temporary table, then one INSERT … SELECT from it (`copy-in.ts`).
 *
 * Cases: one 7-day chunk of 5-minute prices on 3 channels (6,048 rows, what the collector stores per API
 * call) and 100,000 rows in a single call; each as a fresh insert into an empty table and as an identical
 * re-upsert (the steady state of trailing re-fetches). Targets: ≥ 25,000 rows/s fresh, ≥ 0.5× COPY.
 *
 * A section of `npm run bench` (name `upsert`), or on its own: `node test/bench/upsert.ts`. Either way the
 * figures also go to `bench-results/upsert.json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import type { PriceInterval } from '../../src/domain/models.ts';
import type { Queryable } from '../../src/db/pool.ts';
import { upsertPriceIntervals } from '../../src/db/prices.ts';
import { priceSeries } from '../helpers/intervals.ts';
import { atLeast, figuresOf, formatTable, median, progress, type Figure } from './figures.ts';
import { copyMergeUpsert, openPriceWriteBench, timed, unnestUpsert } from './price-writes.ts';
import type { Benchmark } from './run.ts';

const SECTION = 'upsert: rows/s, fresh and identical';
const CHANNELS = ['general', 'controlledLoad', 'feedIn'] as const;
const FRESH_TARGET_ROWS_PER_SECOND = 25_000;
const COPY_RATIO_TARGET = 0.5;
const RESULTS_FILE = 'bench-results/upsert.json';

type Loader = 'ours' | 'unnest' | 'copy';
type Load = (pool: pg.Pool, siteId: string, rows: readonly PriceInterval[]) => Promise<void>;

const LOADERS: Record<Loader, Load> = {
  ours: async (pool, siteId, rows) => {
    await upsertPriceIntervals(pool, siteId, rows);
  },
  unnest: unnestUpsert,
  copy: copyMergeUpsert,
};

interface Case {
  label: string;
  rows: readonly PriceInterval[];
  repetitions: number;
  loaders: readonly Loader[];
}

export const upsertBenchmark: Benchmark = { name: 'upsert', run };

async function run(): Promise<Figure[]> {
  const { db, plain, siteId, close } = await openPriceWriteBench('upsert');
  try {
    const cases: Case[] = [
      {
        label: '7-day chunk',
        rows: priceSeries({ startDate: '2025-01-01', days: 7, duration: 5, channelTypes: CHANNELS }),
        repetitions: 7,
        loaders: ['ours', 'unnest', 'copy'],
      },
      {
        label: '100k rows',
        rows: priceSeries({ startDate: '2024-01-01', days: 116, duration: 5, channelTypes: CHANNELS }).slice(0, 100_000),
        repetitions: 3,
        loaders: ['ours', 'copy'],
      },
    ];
    const figures: Figure[] = [];
    for (const benchCase of cases) {
      const rates = await measure(db.pool, plain, siteId, benchCase);
      figures.push(...figuresFor(benchCase, rates));
    }
    figures.push(
      ...figuresOf(SECTION, [
        { name: 'statements per chunk', value: await statementsPerChunk(db.pool, siteId, cases[0]!.rows), unit: '', note: 'whatever its size' },
      ]),
    );
    await mkdir('bench-results', { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify({ ranAt: new Date().toISOString(), figures }, null, 2)}\n`);
    return figures;
  } finally {
    await close();
  }
}

interface Rates {
  fresh: Partial<Record<Loader, number>>;
  identical: Partial<Record<Loader, number>>;
}

/** Median rows/s of each loader, fresh (into an empty table) and re-upserting the same rows. */
async function measure(pool: pg.Pool, plain: pg.Pool, siteId: string, benchCase: Case): Promise<Rates> {
  const fresh: Partial<Record<Loader, number[]>> = {};
  const identical: Partial<Record<Loader, number[]>> = {};
  // Interleaved repetitions, so drift on a busy machine hits every loader alike.
  for (let rep = 0; rep < benchCase.repetitions; rep++) {
    for (const loader of benchCase.loaders) {
      const target = loader === 'ours' ? pool : plain;
      await pool.query('TRUNCATE price_data');
      (fresh[loader] ??= []).push(await timed(() => LOADERS[loader](target, siteId, benchCase.rows)));
      (identical[loader] ??= []).push(await timed(() => LOADERS[loader](target, siteId, benchCase.rows)));
    }
    progress(`upsert, ${benchCase.label}: repetition ${rep + 1} of ${benchCase.repetitions}`);
  }
  const rate = (samples: number[] | undefined) => benchCase.rows.length / (median(samples ?? []) / 1000);
  const rates: Rates = { fresh: {}, identical: {} };
  for (const loader of benchCase.loaders) {
    rates.fresh[loader] = rate(fresh[loader]);
    rates.identical[loader] = rate(identical[loader]);
  }
  return rates;
}

function figuresFor(benchCase: Case, rates: Rates): Figure[] {
  const { label } = benchCase;
  const ours = rates.fresh.ours ?? NaN;
  return figuresOf(SECTION, [
    { name: `${label}, fresh insert`, value: ours, unit: 'rows/s', target: atLeast(FRESH_TARGET_ROWS_PER_SECOND) },
    {
      name: `${label}, fresh insert vs COPY + merge`,
      value: ours,
      unit: 'rows/s',
      baseline: { name: 'COPY', value: rates.fresh.copy ?? NaN },
      target: atLeast(COPY_RATIO_TARGET, 'ratio'),
    },
    {
      name: `${label}, identical re-upsert vs COPY + merge`,
      value: rates.identical.ours ?? NaN,
      unit: 'rows/s',
      baseline: { name: 'COPY', value: rates.identical.copy ?? NaN },
    },
    ...(rates.fresh.unnest === undefined
      ? []
      : [{ name: `${label}, fresh insert vs unnest arrays`, value: ours, unit: 'rows/s', baseline: { name: 'unnest', value: rates.fresh.unnest } }]),
  ]);
}

/** Counts the statements `upsertPriceIntervals` sends for one chunk. */
async function statementsPerChunk(pool: pg.Pool, siteId: string, rows: readonly PriceInterval[]): Promise<number> {
  let statements = 0;
  const counting = {
    query: (...args: Parameters<pg.Pool['query']>) => {
      statements += 1;
      return pool.query(...args);
    },
  } as unknown as Queryable;
  await upsertPriceIntervals(counting, siteId, rows);
  return statements;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await run();
  process.stdout.write(`${formatTable(figures)}\nwritten to ${RESULTS_FILE}\n`);
}
