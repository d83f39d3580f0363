/**
 * `npm run bench`: how close the collector runs to the limits that bound it (the API's rate budget, the
 * database write path, memory, start-up, disk), each figure measured next to its baseline in the same run.
 * Prints one table and writes every figure to `bench-results/bench.json`. Figures only: the process exits 0
 * whether or not a target is met (the table's `ok` column says).
 *
 * `npm run bench -- write-path remote-db` runs only the named sections; `first-contact` (a fresh clone's first
 * minute, downloads included) runs only when named. The database server is
 * BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local PostgreSQL; each section creates and drops
 * its own database.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import pg from 'pg';
import { backfillPacingBenchmark } from './backfill-pacing.ts';
import { backupBenchmark } from './backup.ts';
import { batteryBenchmark } from './battery.ts';
import { batteryAccuracyBenchmark } from './battery-accuracy.ts';
import { batteryWorkerBenchmark } from './battery-worker.ts';
import { benchServerUrl, serverVersion } from './bench-database.ts';
import { daemonProcessBenchmark } from './daemon-process.ts';
import { embeddedPostgresBenchmark } from './embedded.ts';
import { firstContactBenchmark } from './first-contact.ts';
import { formatNotes, formatTable, type Figure } from './figures.ts';
import { forecastAccuracyBenchmark } from './forecast-accuracy.ts';
import { pacingBenchmark } from './pacing.ts';
import { readLoadBenchmark } from './read-load.ts';
import { remoteDatabaseBenchmark } from './remote-db.ts';
import { upsertBenchmark } from './upsert.ts';
import { writePathBenchmark } from './write-path.ts';

export interface Benchmark {
  /** What `npm run bench -- <name>` selects. */
  name: string;
  /** Runs only when named (it downloads from the npm registry): `npm run bench -- first-contact`. */
  onlyWhenNamed?: boolean;
  run(): Promise<Figure[]>;
}

const BENCHMARKS: Benchmark[] = [
  pacingBenchmark,
  backfillPacingBenchmark,
  writePathBenchmark,
  upsertBenchmark,
  remoteDatabaseBenchmark,
  daemonProcessBenchmark,
  readLoadBenchmark,
  embeddedPostgresBenchmark,
  batteryBenchmark,
  batteryAccuracyBenchmark,
  firstContactBenchmark,
  backupBenchmark,
  batteryWorkerBenchmark,
  forecastAccuracyBenchmark,
];

const RESULTS_FILE = 'bench-results/bench.json';

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !BENCHMARKS.some((b) => b.name === name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}

const started = performance.now();
const figures: Figure[] = [];
const sections: Array<{ name: string; seconds: number }> = [];
for (const benchmark of BENCHMARKS.filter((b) => (wanted.length === 0 && !b.onlyWhenNamed) || wanted.includes(b.name))) {
  process.stderr.write(`== ${benchmark.name}\n`);
  const sectionStarted = performance.now();
  figures.push(...(await benchmark.run()));
  sections.push({ name: benchmark.name, seconds: round((performance.now() - sectionStarted) / 1000) });
}
const seconds = round((performance.now() - started) / 1000);

const environment = await describeEnvironment();
process.stdout.write(`\n${environment.summary}\n\n${formatTable(figures)}\n\n${formatNotes(figures)}\n\n`);
const missed = figures.filter((f) => f.met === false);
process.stdout.write(`${figures.filter((f) => f.met === true).length} targets met, ${missed.length} missed; ${seconds} s in all\n`);
await mkdir('bench-results', { recursive: true });
await writeFile(
  RESULTS_FILE,
  `${JSON.stringify({ ranAt: new Date().toISOString(), ...environment.details, seconds, sections, figures }, null, 2)}\n`,
);
process.stdout.write(`written to ${RESULTS_FILE}\n`);

async function describeEnvironment() {
  const admin = new pg.Pool({ connectionString: benchServerUrl(), max: 1 });
  const postgres = await serverVersion(admin).finally(() => admin.end());
  const machine = { cores: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem() };
  const summary = `${machine.cores} cores (${machine.cpuModel}), ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; ${postgres}`;
  return { summary, details: { machine, node: process.version, postgres } };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
