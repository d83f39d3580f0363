/**
 * Replays the Dockerfile without Docker, to prove what can be proved on a machine with no engine:
 *
 *   1. the build context is what `.dockerignore` lets through;
 *   2. every stage runs its own COPY and RUN instructions, in order, in a directory of its own (system
 *      package installs such as `apk add` are skipped: they need the base image);
 *   3. the runtime stage's files (production node_modules, dist/, sql/, package.json) start with the
 *      image's ENTRYPOINT + CMD and ENV, as an unprivileged user when run as root, against a fresh
 *      database and the fake Amber server, with PORT set the way Railway sets it;
 *   4. /healthz answers, the image's HEALTHCHECK command passes, /readyz turns 200 (migrations found next to
 *      dist/, a backfill stored), /metrics answers, and SIGTERM stops it with exit code 0.
 *
 * Usage: node test/deploy/replay-build.ts   (needs the npm registry, or a warm npm cache, and PostgreSQL)
 * Environment: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); KEEP_REPLAY_DIR=1
 * keeps the temporary directory. Prints one line per step; the last line is `replay ok` (exit 0) or
 * `replay FAILED: ...` (exit 1).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { addDays, nemToday } from '../../src/domain/nem-time.ts';
import { startFakeAmber, type FakeAmber } from '../fake-amber/server.ts';
import { dockerignoreMatcher, parseDockerfile, stageEnv, type Stage } from './dockerfile.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const adminUrl = process.env['TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const startedAt = performance.now();

function step(message: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${seconds} s] ${message}\n`);
}

function fail(message: string): never {
  throw new Error(message);
}

// --- 1. the build context --------------------------------------------------------------------------------

function buildContext(into: string): number {
  const dockerignore = readFileSync(join(repo, '.dockerignore'), 'utf8');
  const ignored = dockerignoreMatcher(dockerignore);
  const reincluded = dockerignore.split('\n').filter((l) => l.trim().startsWith('!')).map((l) => l.trim().slice(1).replace(/^\/+|\/+$/g, ''));
  let files = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(repo, dir), { withFileTypes: true })) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        // An ignored folder is still entered when a `!` pattern may re-include something inside it.
        if (ignored(path) && !reincluded.some((p) => p.startsWith(`${path}/`))) continue;
        walk(path);
      } else if (!ignored(path)) {
        mkdirSync(join(into, dir), { recursive: true });
        cpSync(join(repo, path), join(into, path));
        files += 1;
      }
    }
  };
  walk('');
  return files;
}

// --- 2. the stages ---------------------------------------------------------------------------------------

interface BuiltStage {
  stage: Stage;
  root: string;
  workdir: string;
  env: Record<string, string>;
}

/** Docker's COPY: a folder's contents land in the destination; several sources need a folder destination. */
function copy(sources: string[], dest: string): void {
  const intoFolder = dest.endsWith('/') || sources.length > 1;
  for (const source of sources) {
    if (!existsSync(source)) fail(`COPY source ${source} does not exist`);
    const target = intoFolder && !statSync(source).isDirectory() ? join(dest, basename(source)) : dest;
    mkdirSync(statSync(source).isDirectory() ? target : dirname(target), { recursive: true });
    cpSync(source, target, { recursive: true, verbatimSymlinks: true });
  }
}

function runStage(stage: Stage, work: string, context: string, built: Map<string, BuiltStage>): BuiltStage {
  const root = join(work, 'stages', stage.name);
  const state: BuiltStage = { stage, root, workdir: '/', env: {} };
  for (const instruction of stage.instructions) {
    const here = join(root, state.workdir);
    switch (instruction.keyword) {
      case 'WORKDIR':
        state.workdir = instruction.words[0]!;
        mkdirSync(join(root, state.workdir), { recursive: true });
        break;
      case 'ENV':
        state.env = stageEnv({ ...stage, instructions: stage.instructions.filter((i) => i.keyword === 'ENV' && i.line <= instruction.line) });
        break;
      case 'COPY': {
        const from = instruction.flags['from'];
        const base = from === undefined ? context : (built.get(from) ?? fail(`COPY --from=${from}: no such stage`)).root;
        const sources = instruction.words.slice(0, -1).map((s) => join(base, from === undefined ? s : s.replace(/^\//, '')));
        const dest = instruction.words.at(-1)!;
        copy(sources, join(here, dest) + (dest.endsWith('/') ? '/' : ''));
        step(`  ${stage.name}: COPY ${from ? `--from=${from} ` : ''}${instruction.words.join(' ')}`);
        break;
      }
      case 'RUN': {
        if (/^(apk|apt-get) /.test(instruction.args)) {
          step(`  ${stage.name}: skipped (system package, needs the base image): RUN ${instruction.args}`);
          break;
        }
        const t0 = performance.now();
        const result = spawnSync('sh', ['-c', instruction.args], {
          cwd: here,
          env: { ...process.env, ...state.env },
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        if (result.status !== 0) fail(`${stage.name}: RUN ${instruction.args} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
        step(`  ${stage.name}: RUN ${instruction.args} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        break;
      }
      default:
        break;
    }
  }
  return state;
}

// --- 3 and 4. the runtime --------------------------------------------------------------------------------

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path, { withFileTypes: true }).reduce((total, entry) => {
    const child = join(path, entry.name);
    return total + (entry.isSymbolicLink() ? 0 : sizeOf(child));
  }, 0);
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** Docker runs the image's USER; as root here, run as `nobody` so a write outside Postgres would fail. */
function unprivileged(): { uid?: number; gid?: number; label: string } {
  return process.getuid?.() === 0 ? { uid: 65534, gid: 65534, label: 'nobody (uid 65534)' } : { label: `uid ${process.getuid?.()}` };
}

async function waitFor<T>(what: string, deadlineMs: number, probe: () => Promise<T | null>): Promise<T> {
  const giveUpAt = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > giveUpAt) fail(`${what}: not within ${deadlineMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  const stages = parseDockerfile(readFileSync(join(repo, 'Dockerfile'), 'utf8'));
  const work = mkdtempSync(join(tmpdir(), 'amber-replay-'));
  chmodSync(work, 0o755);
  let child: ChildProcess | null = null;
  let fake: FakeAmber | null = null;
  const database = `amber_replay_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    step(`replaying Dockerfile (${stages.map((s) => s.name).join(' → ')}) in ${work}`);
    const context = join(work, 'context');
    step(`build context: ${buildContext(context)} files pass .dockerignore`);
    if (existsSync(join(context, '.env')) || existsSync(join(context, 'node_modules'))) fail('.env or node_modules reached the build context');

    const built = new Map<string, BuiltStage>();
    for (const stage of stages) {
      step(`stage ${stage.name} (FROM ${stage.base})`);
      built.set(stage.name, runStage(stage, work, context, built));
    }
    const runtime = built.get(stages.at(-1)!.name)!;
    const app = join(runtime.root, runtime.workdir);
    const parts = readdirSync(app).map((name) => `${name} ${mb(sizeOf(join(app, name)))}`);
    const modules = readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.')).length;
    step(`runtime ${runtime.workdir}: ${mb(sizeOf(app))} on top of the base image (${parts.join(', ')}; ${modules} top-level packages)`);

    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
    fake = await startFakeAmber();
    const port = await freePort();
    const databaseUrl = new URL(adminUrl);
    databaseUrl.pathname = `/${database}`;

    const instructions = runtime.stage.instructions;
    const entrypoint = instructions.find((i) => i.keyword === 'ENTRYPOINT')?.words ?? [];
    const cmd = instructions.find((i) => i.keyword === 'CMD')?.words ?? fail('no CMD');
    const healthcheck = instructions.find((i) => i.keyword === 'HEALTHCHECK')?.words ?? fail('no HEALTHCHECK');
    // The init binary is installed by `apk add` in the image; use this machine's when it has one.
    const init = entrypoint[0] === undefined ? null : spawnSync('sh', ['-c', `command -v ${basename(entrypoint[0])}`], { encoding: 'utf8' }).stdout.trim() || null;
    const command = init ? [init, ...entrypoint.slice(1), ...cmd] : cmd;
    if (command[0] === 'node') command[0] = process.execPath;
    const user = unprivileged();
    const env = {
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      ...runtime.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl.toString(),
      AMBER_API_KEY: fake.apiKey,
      AMBER_API_BASE_URL: fake.url,
      HISTORICAL_START_DATE: addDays(nemToday(new Date()), -10),
      LOG_LEVEL: 'info',
    };
    step(`start: ${command.map((w) => relative(app, w).startsWith('..') ? w : relative(app, w)).join(' ')} as ${user.label}, PORT=${port}${init ? '' : ' (no init binary here: without the ENTRYPOINT)'}`);
    const launchedAt = performance.now();
    child = spawn(command[0]!, command.slice(1), { cwd: app, env, uid: user.uid, gid: user.gid, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Array<Record<string, unknown>> = [];
    let stderr = '';
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const alive = async (): Promise<void> => {
      if (child?.exitCode !== null) fail(`the collector exited ${child?.exitCode}:\n${stderr}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
    };

    const url = (path: string): string => `http://127.0.0.1:${port}${path}`;
    await waitFor('/healthz', 30_000, async () => {
      await alive();
      return (await fetch(url('/healthz'))).status === 200 ? true : null;
    });
    step(`/healthz 200 after ${((performance.now() - launchedAt) / 1000).toFixed(1)} s`);

    const probe = spawnSync(process.execPath, healthcheck.slice(1), { env, uid: user.uid, gid: user.gid, encoding: 'utf8' });
    if (probe.status !== 0) fail(`the HEALTHCHECK command exited ${probe.status}: ${probe.stderr}`);
    step('HEALTHCHECK command (node -e …) exited 0');

    const ready = await waitFor('/readyz 200', 90_000, async () => {
      await alive();
      const response = await fetch(url('/readyz'));
      return response.status === 200 ? ((await response.json()) as { checks: { migrations: { version: number } } }) : null;
    });
    const chunks = lines.filter((l) => l['message'] === 'backfill chunk stored').length;
    step(`/readyz 200 after ${((performance.now() - launchedAt) / 1000).toFixed(1)} s: schema version ${ready.checks.migrations.version}, ${chunks} backfill chunks stored`);

    const metrics = await (await fetch(url('/metrics'))).text();
    const inserted = metrics.split('\n').filter((l) => l.startsWith('amber_collector_rows_inserted_total'));
    if (inserted.length === 0) fail('/metrics has no amber_collector_rows_inserted_total');
    step(`/metrics: ${inserted.join('; ')}`);

    const stopAt = performance.now();
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    const stopSeconds = ((performance.now() - stopAt) / 1000).toFixed(1);
    if (code !== 0) fail(`SIGTERM: exit code ${code} (signal ${signal}) after ${stopSeconds} s\n${stderr}`);
    if (!lines.some((l) => l['message'] === 'stopped cleanly')) fail('no "stopped cleanly" log line');
    step(`SIGTERM: exit code 0 after ${stopSeconds} s ("stopped cleanly")`);
    const problems = lines.filter((l) => l['level'] === 'error' || l['level'] === 'fatal');
    if (problems.length > 0) fail(`error lines in the log:\n${problems.map((l) => JSON.stringify(l)).join('\n')}`);
    step(`replay ok (${((performance.now() - startedAt) / 1000).toFixed(0)} s)`);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await fake?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    await admin.end().catch(() => {});
    if (process.env['KEEP_REPLAY_DIR'] === '1') step(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  process.stdout.write(`replay FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
