/**
 * Every command the README shows is exercised by a test. The commands come from the README itself (its `sh`
 * blocks, inline commands and command table), so a command added or edited there without a test fails here.
 *
 * Most run for real (quick-start.test.ts, without-docker.test.ts). Docker, Kubernetes and Railway need an engine,
 * a cluster or an account that a test machine does not have: their commands are checked against the files they
 * act on, here and in test/deploy/, so each names a service, resource, key, user or database that exists.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { kustomize, podSpecOf, readManifests, type Resource } from '../deploy/kustomize.ts';
import { parseDockerfile } from '../deploy/dockerfile.ts';
import { root } from './newcomer.ts';
import { everyCommand, readme, section } from './readme-text.ts';

interface Exercise {
  /** The README commands this covers. */
  readonly commands: RegExp;
  /** The test file, and a test or describe title in it, that runs or checks them. */
  readonly file: string;
  readonly test: string;
}

const EXERCISES: readonly Exercise[] = [
  // Run as written, in a copy of the project (npm ci: the dependencies already installed; CI's clone runs it).
  { commands: /^(cp \.env\.example \.env|npm start)$/, file: 'test/readme/quick-start.test.ts', test: 'Node without Docker: with the key and start date set' },
  { commands: /^(npm run cli -- status|psql "\$\(cat data\/database-url\)")$/, file: 'test/readme/quick-start.test.ts', test: 'What the README offers next, as written' },
  { commands: /^(npm ci|npm run build)$/, file: 'test/launcher.test.ts', test: 'dist/cli.js, as systemd runs it' },
  { commands: /^npm run demo$/, file: 'test/readme/quick-start.test.ts', test: 'npm run demo: prints the dashboard address' },
  { commands: /^npm test$/, file: 'test/readme/quick-start.test.ts', test: 'the test command is exactly what CI runs on a fresh clone' },
  { commands: /^npm test -- test\/config\.test\.ts$/, file: 'test/readme/without-docker.test.ts', test: 'runs one test file' },
  { commands: /^(git clone .*|git pull)$/, file: 'test/readme/without-docker.test.ts', test: '`git clone` then `cp .env.example .env`' },
  { commands: /^(createdb amber|echo 'DATABASE_URL=.*' >> \.env|npm run fake-amber|npm run dev)$/, file: 'test/readme/without-docker.test.ts', test: 'README, without Docker: a PostgreSQL of your own' },
  { commands: /^amber-collector (run|status|backfill|query|bill) ?/, file: 'test/readme/without-docker.test.ts', test: 'every command of "The command line" runs as written' },
  { commands: /^amber-collector battery /, file: 'test/readme/without-docker.test.ts', test: 'battery what-if and plan run as the README shows them' },
  { commands: /^amber-collector compare /, file: 'test/plans/compare.test.ts', test: 'compare runs as the README shows it' },
  { commands: /^amber-collector (backup|restore)( |$)/, file: 'test/backup/backup-command.test.ts', test: 'backup and restore run as the README shows them' },
  { commands: /^amber-collector alerts test$/, file: 'test/readme/without-docker.test.ts', test: '`alerts test` reaches an ntfy and a Discord target' },
  { commands: /^amber-collector home-assistant (check|sync)/, file: 'test/home-assistant/home-assistant-daemon.test.ts', test: 'check and sync run as the README shows them' },
  { commands: /^curl -s localhost:8080\//, file: 'test/readme/without-docker.test.ts', test: 'the curl checks answer from the running daemon' },
  { commands: /^curl -s 'http:\/\/localhost:8080\/api\/feeds\/emhass/, file: 'test/http/feeds-api.test.ts', test: 'runs as written: the feed, piped through jq, is what EMHASS receives' },
  { commands: /openssl rand -hex/, file: 'test/readme/without-docker.test.ts', test: 'the openssl passwords are letters and digits only' },
  { commands: /^npm run (lint|typecheck)$/, file: 'test/lint.test.ts', test: 'npm run lint' },
  { commands: /^kubectl kustomize$/, file: 'test/deploy/kubernetes.test.ts', test: "kubectl', ['kustomize'" },
  // Checked against the files they act on (no engine, cluster or account here).
  { commands: /^npm run (test:faults|bench)/, file: 'test/readme/commands.test.ts', test: 'the npm scripts it names exist' },
  { commands: /^docker /, file: 'test/readme/commands.test.ts', test: 'the Docker commands name services, users and paths' },
  { commands: /^kubectl /, file: 'test/readme/commands.test.ts', test: 'the kubectl commands name resources, keys and paths' },
  { commands: /^railway /, file: 'test/readme/commands.test.ts', test: 'Railway builds the Dockerfile' },
];

/** Inline mentions that name a program or a form of command rather than a command to type. */
const MENTIONS = [
  'amber-collector starting', // a log message
  'amber-collector <command>',
  'npm run cli -- <command>',
  'npm ci --omit=dev', // what the launcher runs
  'docker compose exec collector node dist/cli.js <command>',
  'docker compose exec collector …',
  'kubectl apply -k',
  'kubectl exec',
];

const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, any> };
const commands = everyCommand().filter((command) => !MENTIONS.includes(command));

describe('README commands', () => {
  it('each is exercised by a test', () => {
    const exercised = (command: string): boolean => EXERCISES.some((exercise) => exercise.commands.test(command));
    // `a && b` is covered as a whole, or part by part.
    const unexercised = commands.filter((command) => !exercised(command) && !command.split(' && ').every(exercised));
    expect(unexercised).toEqual([]);
  });

  it('every test named for them exists, and covers at least one README command', () => {
    for (const exercise of EXERCISES) {
      expect(readFileSync(join(root, exercise.file), 'utf8'), exercise.file).toContain(exercise.test);
      expect(commands.some((command) => exercise.commands.test(command)), String(exercise.commands)).toBe(true);
    }
    for (const mention of MENTIONS) expect(everyCommand()).toContain(mention);
  });

  it('the npm scripts it names exist, and the bench sections it names are ones `npm run bench` knows', () => {
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const benchDir = join(root, 'test/bench');
    const bench = readdirSync(benchDir).map((file) => readFileSync(join(benchDir, file), 'utf8')).join('\n');
    for (const command of commands.flatMap((line) => line.split(' && ')).filter((line) => line.startsWith('npm run '))) {
      const [, , name, separator, ...args] = command.split(' ');
      expect(scripts, command).toHaveProperty([name!]);
      if (name === 'bench' && separator === '--') for (const arg of args) expect(bench, command).toContain(`name: '${arg}'`);
    }
  });

  it('the Docker commands name services, users and paths that docker-compose.yml and the Dockerfile define', () => {
    const runtime = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8')).at(-1)!;
    const workdir = runtime.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)!.args;
    const copiesDist = runtime.instructions.some((i) => i.keyword === 'COPY' && / \.\/dist$/.test(i.args));
    for (const command of commands.filter((line) => line.startsWith('docker compose '))) {
      const words = command.split(' ');
      const profile = words.indexOf('--profile');
      if (profile >= 0) expect(Object.values(compose.services).some((s) => s.profiles?.includes(words[profile + 1])), command).toBe(true);
      const sub = words.findIndex((word, i) => i > 1 && ['exec', 'logs', 'up', 'ps', 'stop', 'down'].includes(word) && words[i - 1] !== '--profile');
      const service = words.slice(sub + 1).find((word) => !word.startsWith('-'));
      if (words[sub] === 'exec' || words[sub] === 'logs') expect(compose.services, command).toHaveProperty([service!]);
      const program = words.slice(words.indexOf(service!) + 1);
      if (program[0] === 'psql' || program[0] === 'pg_dump') {
        // `-U amber amber` (or `-d amber`): the superuser and database compose creates.
        const environment = compose.services[service!].environment;
        expect(program[program.indexOf('-U') + 1], command).toBe(environment.POSTGRES_USER);
        expect(program.includes(`-d`) ? program[program.indexOf('-d') + 1] : program[program.indexOf('-U') + 2], command).toBe(environment.POSTGRES_DB);
      }
      if (program[0] === 'node') {
        expect(program[1], command).toBe('dist/cli.js');
        expect({ workdir, copiesDist }).toEqual({ workdir: '/app', copiesDist: true });
      }
    }
    // `docker build … .` and `docker save amber-collector:0.1.0`: the root Dockerfile, under the image name the
    // manifests use.
    expect(readme).toMatch(/`docker save amber-collector:0\.1\.0 -o amber\.tar`/);
    const base = kustomize(join(root, 'k8s/base'));
    expect(podSpecOf(base.find((r) => r.kind === 'Deployment')!).containers[0].image).toBe('amber-collector:0.1.0');
  });

  it('the kubectl commands name resources, keys and paths that the manifests define', () => {
    const overlay = mkdtempSync(join(tmpdir(), 'amber-k8s-'));
    try {
      // The overlay the README shows, as written, beside a checkout called amber-collector.
      const text = /```yaml\n([\s\S]*?)```/.exec(section('Kubernetes'))![1]!;
      writeFileSync(join(overlay, 'kustomization.yaml'), text.replaceAll('../amber-collector/', `${relative(overlay, root)}/`));
      const resources = kustomize(overlay);
      const named = (kind: string, name: string): Resource | undefined => resources.find((r) => r.kind === kind && r.metadata.name === name);
      const kinds: Record<string, string> = { deploy: 'Deployment', svc: 'Service', statefulset: 'StatefulSet' };
      // Per Secret, the keys the workloads read: required ones, and optional ones (the collector's alert URL).
      const secretKeys = new Map<string, { required: string[]; optional: string[] }>();
      for (const r of resources.filter((r) => r.kind === 'Deployment' || r.kind === 'StatefulSet')) {
        for (const container of podSpecOf(r).containers) {
          for (const variable of container.env ?? []) {
            const ref = variable.valueFrom?.secretKeyRef;
            if (!ref) continue;
            const keys = secretKeys.get(ref.name) ?? { required: [], optional: [] };
            (ref.optional === true ? keys.optional : keys.required).push(ref.key);
            secretKeys.set(ref.name, keys);
          }
        }
      }
      // `-n amber` reaches everything: the overlay puts every resource there.
      for (const r of resources) expect(r.metadata.namespace, `${r.kind}/${r.metadata.name}`).toBe('amber');
      const databaseUrl = commands.find((line) => line.includes('DATABASE_URL="postgres://'))!;
      for (const command of commands.filter((line) => line.startsWith('kubectl '))) {
        const words = command.split(' ');
        if (words.includes('-n')) expect(words[words.indexOf('-n') + 1], command).toBe('amber');
        for (const word of words) {
          const ref = /^(deploy|svc)\/(\S+)$/.exec(word);
          if (ref) expect(named(kinds[ref[1]!]!, ref[2]!), command).toBeDefined();
        }
        if (words[3] === 'scale') expect(named(kinds[words[4]!]!, words[5]!), command).toBeDefined();
        const pod = words.find((word) => /-\d+$/.test(word));
        if (pod) expect(named('StatefulSet', pod.replace(/-\d+$/, '')), command).toBeDefined();
        if (words.includes('port-forward')) {
          const service = named('Service', words.at(-2)!.split('/')[1]!)!;
          expect(service['spec'].ports.map((p: { port: number }) => String(p.port)), command).toContain(words.at(-1));
        }
        if (words.includes('secret')) {
          const name = words[words.indexOf('generic') + 1]!;
          const given = words.filter((word) => word.startsWith('--from-literal=')).map((word) => word.slice('--from-literal='.length).split('=')[0]);
          // Every key a workload needs, and none that nothing reads.
          const keys = secretKeys.get(name);
          expect(keys, command).toBeDefined();
          expect(given, command).toEqual(expect.arrayContaining(keys!.required));
          for (const key of given) expect([...keys!.required, ...keys!.optional], command).toContain(key);
        }
        const client = words.findIndex((word, i) => i > words.indexOf('--') && (word === 'psql' || word === 'pg_dump'));
        if (words.includes('--') && client > 0) {
          // `-U amber amber`: the collector's role and database, which own the data (the init script creates both;
          // kubernetes.test.ts checks it against this URL), over the pod's local socket.
          const url = new URL(/DATABASE_URL="([^"]+)"/.exec(databaseUrl)![1]!.replace('$COLLECTOR_PASSWORD', 'x'));
          expect(words.slice(client + 1, client + 4), command).toEqual(['-U', url.username, url.pathname.slice(1)]);
        }
        if (words.includes('configmap')) {
          const example = readFileSync(join(root, 'k8s/examples/managed-database/kustomization.yaml'), 'utf8');
          const [name, file] = [words[words.indexOf('configmap') + 1]!, words.find((w) => w.startsWith('--from-file='))!.split('=')[1]!];
          expect(example, command).toContain(`name: ${name}`);
          expect(example, command).toContain(`/${file}`);
        }
      }
      // The collector's Secret: DATABASE_URL points at the bundled database's Service, port and role.
      const example = readManifests(join(root, 'k8s/secrets.example.yaml')).find((r) => r.metadata.name === 'amber-collector')!;
      const [given, expected] = [/DATABASE_URL="([^"]+)"/.exec(databaseUrl)![1]!.replace('$COLLECTOR_PASSWORD', 'x'), example['stringData'].DATABASE_URL as string].map((u) => new URL(u));
      expect([given!.username, given!.host, given!.pathname]).toEqual([expected!.username, expected!.host, expected!.pathname]);
      expect(named('Service', 'amber-postgres')!['spec'].ports[0].port).toBe(5432);
      expect(named('ConfigMap', resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name.startsWith('amber-collector-config'))!.metadata.name)!['data'].HISTORICAL_START_DATE).toBe('2024-01-01');
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });

  it('Railway builds the Dockerfile with nothing else in the repository, and the collector listens on its PORT', () => {
    const railway = section('Deploying on Railway');
    expect(railway).toContain('Railway builds the `Dockerfile` in the repository root');
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).toMatch(/^FROM /m);
    expect(() => readFileSync(join(root, 'railway.json'))).toThrow();
    expect(() => readFileSync(join(root, 'railway.toml'))).toThrow();
    // PORT winning over HTTP_PORT, and the HEALTHCHECK on PORT, are tested in config.test.ts and wiring.test.ts.
    expect(readFileSync(join(root, 'test/config.test.ts'), 'utf8')).toContain('lets PORT (set by hosting platforms) win over HTTP_PORT');
  });
});
