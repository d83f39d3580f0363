/**
 * The Kubernetes manifests under k8s/, checked without a cluster: every manifest parses and validates against
 * the Kubernetes API schemas, each kustomization resolves (and resolves as `kubectl kustomize` does, where
 * kubectl is installed), the collector runs the way its design needs (one writer, clean stop, probes,
 * least privilege, memory that fits the image's heap flags), and every variable the manifests set is one
 * the config module knows. The bundled PostgreSQL's role set-up runs for real, and the collector migrates
 * its schema as that role.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/config.ts';
import { CONFIG_VARIABLES } from '../../src/config/variables.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { isCollectorError } from '../../src/errors.ts';
import { silentLogger } from '../../src/logger.ts';
import { databaseUrl, quoteIdent, withAdmin } from '../helpers/database-admin.ts';
import { daemonNodeFlags, durationSeconds } from './dockerfile.ts';
import { kustomize, podSpecOf, readManifests, type Resource } from './kustomize.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const k8s = join(root, 'k8s');
const read = (name: string): string => readFileSync(join(root, name), 'utf8');
const compose = parseAllDocuments(read('docker-compose.yml'))[0]!.toJS() as any;

/** What users apply: the collector alone (existing database), with its own PostgreSQL, and the managed-database example. */
const ENTRY_POINTS = ['base', 'with-postgres', 'examples/managed-database'];
const NAMESPACE = 'amber';
/** Variables Node itself reads: the config module never sees them. */
const NODE_RUNTIME_VARIABLES = ['NODE_EXTRA_CA_CERTS'];

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? allFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}
const yamlFiles = allFiles(k8s).filter((path) => /\.ya?ml$/.test(path));
const manifestFiles = yamlFiles.filter((path) => !/kustomization\.ya?ml$/.test(path));
const kustomizationDirs = yamlFiles.filter((path) => /kustomization\.ya?ml$/.test(path)).map((path) => join(path, '..'));
const exampleSecrets = readManifests(join(k8s, 'secrets.example.yaml'));

function find(resources: Resource[], kind: string, name: string): Resource {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${resources.map((r) => `${r.kind}/${r.metadata.name}`).join(', ')}`);
  return found;
}

function collectorOf(resources: Resource[]): { deployment: Resource; pod: any; container: any; config: Record<string, string> } {
  const deployment = find(resources, 'Deployment', 'amber-collector');
  const pod = podSpecOf(deployment);
  const container = pod.containers.find((c: { name: string }) => c.name === 'collector');
  const configMapNames = (container.envFrom ?? []).map((source: any) => source.configMapRef?.name);
  const config = Object.assign({}, ...resources.filter((r) => r.kind === 'ConfigMap' && configMapNames.includes(r.metadata.name)).map((r) => r['data']));
  return { deployment, pod, container, config };
}

/** Mebibytes of a Kubernetes memory quantity (Mi, Gi, M, G or bytes). */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi|M|G)?$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  const factor = { Mi: 1, Gi: 1024, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 }[match[2] ?? ''] ?? 1 / 2 ** 20;
  return Number(match[1]) * factor;
}

/** The variables the config module reports as missing when nothing is set: the required ones. */
function requiredVariables(): string[] {
  try {
    parseConfig({});
  } catch (err) {
    if (!isCollectorError(err, 'CONFIG_INVALID')) throw err;
    return (err.details.problems ?? []).map((problem) => problem.split(':')[0]!);
  }
  throw new Error('an empty environment was accepted');
}

function available(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

describe('k8s/: every manifest', () => {
  it('parses, and validates against the Kubernetes API schemas (and the Prometheus operator\'s)', async () => {
    expect(manifestFiles.length).toBeGreaterThan(5);
    for (const file of manifestFiles) {
      const resources = readManifests(file);
      expect(resources.length, relative(root, file)).toBeGreaterThan(0);
      for (const resource of resources) {
        const where = `${relative(root, file)}: ${resource.kind}/${resource.metadata?.name}`;
        const [group, version] = resource.apiVersion.includes('/') ? resource.apiVersion.split('/') : ['v1', undefined];
        const module = group === 'monitoring.coreos.com'
          ? await import(`@kubernetes-models/prometheus-operator/${group}/${version}/${resource.kind}`)
          : await import(version ? `kubernetes-models/${group}/${version}/${resource.kind}` : `kubernetes-models/v1/${resource.kind}`);
        const Model = module[resource.kind];
        expect(() => new Model(resource).validate(), where).not.toThrow();
      }
    }
  });

  it('resolves every kustomization', () => {
    expect(kustomizationDirs.map((dir) => relative(k8s, dir)).sort()).toEqual(
      ['base', 'components/daily-backup', 'components/postgres', 'components/service-monitor', 'examples/managed-database', 'with-postgres'],
    );
    for (const entry of ENTRY_POINTS) expect(kustomize(join(k8s, entry)).length, entry).toBeGreaterThan(0);
  });

  it('carries no secret: the Secrets are an example with placeholders, outside every kustomization', () => {
    for (const entry of ENTRY_POINTS) expect(kustomize(join(k8s, entry)).filter((r) => r.kind === 'Secret'), entry).toEqual([]);
    expect(exampleSecrets.map((s) => s.metadata.name)).toEqual(['amber-collector', 'amber-postgres']);
    for (const secret of exampleSecrets) {
      for (const [key, value] of Object.entries(secret['stringData'] as Record<string, string>)) {
        expect(value, `${secret.metadata.name}.${key}`).toMatch(/replace_with/);
      }
    }
  });
});

describe.runIf(available('kubectl', ['kustomize', '--help']))('kubectl kustomize itself', () => {
  const key = (r: Resource) => `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
  const sorted = (resources: Resource[]) => JSON.parse(JSON.stringify([...resources].sort((a, b) => key(a).localeCompare(key(b)))));

  it.each(ENTRY_POINTS)('builds %s exactly as the test resolver does', (entry) => {
    const result = spawnSync('kubectl', ['kustomize', join(k8s, entry)], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const theirs = parseAllDocuments(result.stdout, { version: '1.1' }).map((doc) => doc.toJS() as Resource);
    expect(sorted(kustomize(join(k8s, entry)))).toEqual(sorted(theirs));
  });
});

describe.each(ENTRY_POINTS)('k8s/%s: the collector', (entry) => {
  const resources = kustomize(join(k8s, entry));
  const { deployment, pod, container, config } = collectorOf(resources);

  it('is exactly one replica, replaced with Recreate: one writer per database', () => {
    expect(deployment['spec'].replicas).toBe(1);
    expect(deployment['spec'].strategy).toEqual({ type: 'Recreate' });
    expect(resources.filter((r) => r.kind === 'HorizontalPodAutoscaler')).toEqual([]);
  });

  it('runs the image as built: a kustomize image, with its own entry point and heap flags', () => {
    const base = readKustomization('base');
    expect(base.images).toEqual([expect.objectContaining({ name: 'amber-collector' })]);
    expect(container.image).toBe(`amber-collector:${base.images[0].newTag}`);
    // No command or args: tini (SIGTERM forwarding) and `node <heap flags> dist/cli.js run` come from the image.
    expect(container.command).toBeUndefined();
    expect(container.args).toBeUndefined();
  });

  it('is unprivileged: non-root by number, read-only root, no escalation, no capabilities, RuntimeDefault seccomp', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    // Only /tmp is writable, and it is an emptyDir.
    const writable = container.volumeMounts.filter((m: { readOnly?: boolean }) => !m.readOnly);
    expect(writable.map((m: { mountPath: string }) => m.mountPath)).toEqual(['/tmp']);
    expect(pod.volumes.find((v: { name: string }) => v.name === writable[0].name).emptyDir).toBeDefined();
  });

  it('gives a SIGTERM at least the time compose gives the collector to stop cleanly', () => {
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(durationSeconds(compose.services.collector.stop_grace_period));
  });

  it('probes liveness on /healthz, readiness on /readyz and start-up on /healthz, on the port the config sets', () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const port = container.ports.find((p: { name: string }) => p.name === 'http');
    expect(port.containerPort).toBe(Number(config['HTTP_PORT']));
    expect(config['PORT']).toBeUndefined();
  });

  it('requests memory above the heap ceiling and limits it with room for what lives outside the heap', () => {
    const flag = daemonNodeFlags(read('Dockerfile')).find((f) => f.startsWith('--max-old-space-size='));
    const heapMb = Number(flag?.split('=')[1]);
    expect(heapMb).toBeGreaterThan(0);
    const { requests, limits } = container.resources;
    expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(heapMb);
    // The node binary's pages, young generation, code space and buffers (README, Memory: ~57 MB of the idle RSS).
    expect(mebibytes(limits.memory)).toBeGreaterThanOrEqual(2 * heapMb);
    expect(mebibytes(requests.memory)).toBeLessThanOrEqual(mebibytes(limits.memory));
    expect(requests.cpu).toBeDefined();
  });

  it('sets only variables the config module (or Node) reads, every required one, and secrets only from the Secret', () => {
    const known = new Set([...CONFIG_VARIABLES, ...NODE_RUNTIME_VARIABLES]);
    const names = [...Object.keys(config), ...container.env.map((v: { name: string }) => v.name)];
    for (const name of names) expect(known.has(name), `${name} is not a variable the collector reads`).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    for (const name of requiredVariables()) expect(names, `${name} is required`).toContain(name);

    const fromSecret = (name: string) => container.env.find((v: { name: string }) => v.name === name)?.valueFrom?.secretKeyRef;
    for (const name of ['AMBER_API_KEY', 'DATABASE_URL', 'HTTP_API_TOKEN', 'ALERT_WEBHOOK_URL']) {
      expect(config[name], `${name} must not be in a ConfigMap`).toBeUndefined();
      expect(fromSecret(name), name).toMatchObject({ name: 'amber-collector', key: name });
    }
    expect(fromSecret('HTTP_API_TOKEN').optional).toBe(true);
    expect(fromSecret('ALERT_WEBHOOK_URL').optional).toBe(true);
  });

  it('starts with these settings and the example Secret once its key is set: the config module accepts them', () => {
    const secret = find(exampleSecrets, 'Secret', 'amber-collector')['stringData'];
    // The example's placeholder key is refused until it is replaced, so a forgotten edit fails at once.
    expect(() => parseConfig({ ...config, ...secret })).toThrow(/AMBER_API_KEY: is still the placeholder/);
    const parsed = parseConfig({ ...config, ...secret, AMBER_API_KEY: 'psk_a_real_key' });
    expect(parsed.http.port).toBe(8080);
    expect(parsed.log.format).toBe('json');
  });

  it('is reachable through a Service on the named port, with Prometheus scrape annotations', () => {
    const service = find(resources, 'Service', 'amber-collector');
    expect(service['spec'].selector).toEqual(deployment['spec'].selector.matchLabels);
    for (const [label, value] of Object.entries(service['spec'].selector)) expect(deployment['spec'].template.metadata.labels[label]).toBe(value);
    expect(service['spec'].ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http' }]);
    expect(service.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': config['HTTP_PORT'],
      'prometheus.io/path': '/metrics',
    });
    // One pod: /metrics must stay scrapable while /readyz fails.
    expect(service['spec'].publishNotReadyAddresses).toBe(true);
  });

  it('accepts traffic on its port only, and reaches DNS, HTTPS and PostgreSQL only', () => {
    const policy = find(resources, 'NetworkPolicy', 'amber-collector');
    expect(policy['spec'].podSelector.matchLabels).toEqual(deployment['spec'].selector.matchLabels);
    expect(policy['spec'].policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy['spec'].ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    const egressPorts = policy['spec'].egress.flatMap((rule: any) => rule.ports.map((p: any) => `${p.port}/${p.protocol}`));
    expect(egressPorts.sort()).toEqual(['443/TCP', '53/TCP', '53/UDP', '5432/TCP']);
  });

  it('puts every resource in the amber namespace', () => {
    for (const resource of resources) expect(resource.metadata.namespace, `${resource.kind}/${resource.metadata.name}`).toBe(NAMESPACE);
  });
});

function readKustomization(dir: string): any {
  return readManifests(join(k8s, dir, 'kustomization.yaml'))[0];
}

describe('k8s/with-postgres and k8s/base: the database', () => {
  const bundled = kustomize(join(k8s, 'with-postgres'));
  const statefulSet = find(bundled, 'StatefulSet', 'amber-postgres');
  const pod = podSpecOf(statefulSet);
  const postgres = pod.containers[0];
  const env = Object.fromEntries(postgres.env.map((v: any) => [v.name, v]));

  it('base alone brings no database: it is for an existing or managed one', () => {
    const base = kustomize(join(k8s, 'base'));
    expect(base.map((r) => `${r.kind}/${r.metadata.name}`).filter((id) => id.includes('postgres'))).toEqual([]);
    expect(readKustomization('with-postgres').components).toEqual(['../components/postgres']);
  });

  it('runs PostgreSQL 17 like compose, one replica, its data on a claim from the StatefulSet', () => {
    expect(postgres.image).toBe(compose.services.postgres.image);
    expect(statefulSet['spec'].replicas).toBe(1);
    const [claim] = statefulSet['spec'].volumeClaimTemplates;
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(mebibytes(claim.spec.resources.requests.storage)).toBeGreaterThanOrEqual(1024);
    const dataMount = postgres.volumeMounts.find((m: { name: string }) => m.name === claim.metadata.name);
    expect(env['PGDATA'].value.startsWith(`${dataMount.mountPath}/`)).toBe(true);
  });

  it('probes readiness over TCP, and stops with a fast shutdown within its grace period', () => {
    for (const probe of [postgres.startupProbe, postgres.readinessProbe, postgres.livenessProbe]) {
      expect(probe.exec.command.slice(0, 3)).toEqual(['pg_isready', '-h', '127.0.0.1']);
    }
    expect(postgres.lifecycle.preStop.exec.command).toEqual(expect.arrayContaining(['pg_ctl', 'stop', '--mode=fast']));
    const timeout = Number(postgres.lifecycle.preStop.exec.command.find((a: string) => a.startsWith('--timeout=')).split('=')[1]);
    expect(timeout).toBeLessThan(pod.terminationGracePeriodSeconds);
  });

  it('runs every container of every workload unprivileged', () => {
    for (const workload of bundled.filter((r) => podSpecOf(r))) {
      const spec = podSpecOf(workload);
      expect(spec.securityContext.runAsNonRoot, workload.metadata.name).toBe(true);
      expect(spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect(container.securityContext, `${workload.metadata.name}/${container.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('reaches PostgreSQL at the Service, port and role the example DATABASE_URL names', () => {
    const service = find(bundled, 'Service', 'amber-postgres');
    expect(service['spec'].selector).toEqual(statefulSet['spec'].selector.matchLabels);
    expect(statefulSet['spec'].serviceName).toBe(service.metadata.name);
    const url = new URL(find(exampleSecrets, 'Secret', 'amber-collector')['stringData'].DATABASE_URL);
    expect(url.hostname).toBe(service.metadata.name);
    expect(Number(url.port)).toBe(service['spec'].ports[0].port);
    expect(url.username).toBe('amber');
    expect(url.pathname).toBe('/amber');
    expect(decodeURIComponent(url.password)).toBe(find(exampleSecrets, 'Secret', 'amber-postgres')['stringData'].COLLECTOR_PASSWORD);
    expect(env['COLLECTOR_PASSWORD'].valueFrom.secretKeyRef).toEqual({ name: 'amber-postgres', key: 'COLLECTOR_PASSWORD' });
  });

  it('admits only the collector to PostgreSQL, and lets the database connect nowhere', () => {
    const policy = find(bundled, 'NetworkPolicy', 'amber-postgres');
    expect(policy['spec'].podSelector.matchLabels).toEqual(statefulSet['spec'].selector.matchLabels);
    expect(policy['spec'].ingress).toEqual([
      { from: [{ podSelector: { matchLabels: collectorOf(bundled).deployment['spec'].selector.matchLabels } }], ports: [{ port: 'postgres', protocol: 'TCP' }] },
    ]);
    expect(policy['spec'].egress).toEqual([]);
  });

  it('mounts the role set-up script where the image runs it on first initialisation', () => {
    const mount = postgres.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/docker-entrypoint-initdb.d');
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
    const configMap = find(bundled, 'ConfigMap', volume.configMap.name);
    expect(Object.keys(configMap['data'])).toEqual(['init-collector-role.sh']);
  });
});

describe('k8s/components/service-monitor: an overlay of your own', () => {
  it('adds a ServiceMonitor that selects the collector\'s Service and port, beside a new image and start date', () => {
    const dir = mkdtempSync(join(tmpdir(), 'amber-overlay-'));
    try {
      // The overlay the README shows, pointing at this checkout.
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'namespace: amber',
          `resources: [${relative(dir, join(k8s, 'with-postgres'))}]`,
          `components: [${relative(dir, join(k8s, 'components/service-monitor'))}]`,
          'images: [{ name: amber-collector, newName: registry.example.com/amber-collector, newTag: "1.2.3" }]',
          'configMapGenerator: [{ name: amber-collector-config, behavior: merge, literals: [HISTORICAL_START_DATE=2024-01-01] }]',
        ].join('\n'),
      );
      const resources = kustomize(dir);
      const { container, config } = collectorOf(resources);
      expect(container.image).toBe('registry.example.com/amber-collector:1.2.3');
      expect(config['HISTORICAL_START_DATE']).toBe('2024-01-01');
      const monitor = find(resources, 'ServiceMonitor', 'amber-collector');
      const service = find(resources, 'Service', 'amber-collector');
      for (const [label, value] of Object.entries(monitor['spec'].selector.matchLabels)) expect(service.metadata.labels?.[label]).toBe(value);
      expect(monitor['spec'].endpoints).toEqual([expect.objectContaining({ port: service['spec'].ports[0].name, path: '/metrics' })]);
      expect(monitor.metadata.namespace).toBe(NAMESPACE);
      if (available('kubectl', ['kustomize', '--help'])) {
        const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
        expect(result.status, result.stderr).toBe(0);
        expect(result.stdout).toContain('image: registry.example.com/amber-collector:1.2.3');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Builds an overlay of your own (a folder outside k8s/, `lines` after its header) and hands it to `check`. */
function withOverlay<T>(lines: (relativeTo: (path: string) => string) => string[], check: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'amber-overlay-'));
  try {
    const header = ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'namespace: amber'];
    writeFileSync(join(dir, 'kustomization.yaml'), [...header, ...lines((path) => relative(dir, join(k8s, path)))].join('\n'));
    return check(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The README's emptyDir alternative to the claim, as a patch in the overlay. */
const EMPTY_DIR_PATCH = [
  'patches:',
  '  - target: { kind: Deployment, name: amber-collector }',
  '    patch: |-',
  '      - op: replace',
  '        path: /spec/template/spec/volumes/1',
  '        value: { name: backups, emptyDir: { sizeLimit: 1Gi } }',
];

describe('k8s/components/daily-backup: daily backups on a volume of their own', () => {
  const build = (entry: string, extra: string[] = []) =>
    withOverlay((to) => [`resources: [${to(entry)}]`, `components: [${to('components/daily-backup')}]`, ...extra], (dir) => {
      const resources = kustomize(dir);
      if (available('kubectl', ['kustomize', '--help'])) {
        const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
        expect(result.status, result.stderr).toBe(0);
        const key = (r: Resource) => `${r.kind}/${r.metadata.name}`;
        const theirs = parseAllDocuments(result.stdout, { version: '1.1' }).map((doc) => doc.toJS() as Resource);
        expect(JSON.parse(JSON.stringify(resources.sort((a, b) => key(a).localeCompare(key(b)))))).toEqual(theirs.sort((a, b) => key(a).localeCompare(key(b))));
      }
      return resources;
    });

  it.each(['base', 'with-postgres'])('on %s: BACKUP_DIR is a writable claim mounted into the collector, owned by its group', (entry) => {
    const resources = build(entry);
    const { pod, container, config } = collectorOf(resources);
    expect(config['BACKUP_DIR']).toBe('/backups');
    const parsed = parseConfig({ ...config, AMBER_API_KEY: 'psk_a_real_key', DATABASE_URL: 'postgres://amber@db/amber' });
    expect(parsed.backup.dir).toBe('/backups');
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === config['BACKUP_DIR']);
    expect(mount, 'a volume at BACKUP_DIR: the root filesystem is read-only').toBeDefined();
    expect(mount.readOnly).toBeFalsy();
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
    const claim = find(resources, 'PersistentVolumeClaim', volume.persistentVolumeClaim.claimName);
    expect(claim.metadata.namespace).toBe(NAMESPACE);
    expect(claim['spec'].accessModes).toEqual(['ReadWriteOnce']);
    // BACKUP_KEEP files of ~35 MB a year of data each (README): room for several years.
    expect(mebibytes(claim['spec'].resources.requests.storage)).toBeGreaterThanOrEqual(Number(config['BACKUP_KEEP']) * 35 * 4);
    // A new volume is root's: the collector's group must own it to write there.
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
    // Nothing else of the pod changes: still unprivileged, /tmp still its emptyDir.
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.volumeMounts.filter((m: { readOnly?: boolean }) => !m.readOnly).map((m: { mountPath: string }) => m.mountPath).sort()).toEqual(['/backups', '/tmp']);
  });

  it('or, as the README shows, an emptyDir instead of the claim: still a writable volume at BACKUP_DIR', () => {
    const resources = build('with-postgres', EMPTY_DIR_PATCH);
    const { pod, container, config } = collectorOf(resources);
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === config['BACKUP_DIR']);
    expect(pod.volumes.find((v: { name: string }) => v.name === mount.name)).toEqual({ name: 'backups', emptyDir: { sizeLimit: '1Gi' } });
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(EMPTY_DIR_PATCH.join('\n'));
  });

  it('is needed: no entry point sets BACKUP_DIR without a volume there', () => {
    for (const entry of ENTRY_POINTS) {
      const { container, config } = collectorOf(kustomize(join(k8s, entry)));
      if (config['BACKUP_DIR'] !== undefined) expect(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath), entry).toContain(config['BACKUP_DIR']);
    }
  });
});

describe.runIf(available('psql', ['--version']) && available('bash', ['--version']))('the bundled PostgreSQL\'s collector role', () => {
  it('is created by the init script as a non-superuser that owns its database, and the collector migrates as it', async () => {
    const serverUrl = new URL(inject('databaseUrl'));
    // A name of this run instead of `amber`: roles are global to the server.
    const name = `${inject('templateDatabase').replace(/_tmpl$/, '')}_k8s_${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const script = read('k8s/components/postgres/init-collector-role.sh').replace(/\bamber\b(?=[ ;])/g, name);
    expect(script).toContain(`CREATE ROLE ${name} LOGIN`);
    const scratch = mkdtempSync(join(tmpdir(), 'amber-initdb-'));
    try {
      // As the image's entrypoint does: sourced, under `set -Eeo pipefail`.
      const scriptFile = join(scratch, 'init-collector-role.sh');
      writeFileSync(scriptFile, script);
      const run = (collectorPassword: string) =>
        spawnSync('bash', ['--norc', '--noprofile', '-c', 'set -Eeo pipefail; . "$0"; echo done', scriptFile], {
          encoding: 'utf8',
          env: {
            PATH: process.env['PATH'] ?? '',
            PGHOST: serverUrl.hostname,
            PGPORT: serverUrl.port || '5432',
            PGPASSWORD: decodeURIComponent(serverUrl.password),
            POSTGRES_USER: decodeURIComponent(serverUrl.username),
            COLLECTOR_PASSWORD: collectorPassword,
          },
        });
      const refused = run('');
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('has no COLLECTOR_PASSWORD');
      const created = run(password);
      expect(created.stderr).toBe('');
      expect(created.stdout.trim().split('\n').at(-1)).toBe('done');

      const role = await withAdmin(serverUrl.toString(), (admin) =>
        admin.query('SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = $1', [name]),
      );
      expect(role.rows).toEqual([{ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false }]);

      const asCollector = new URL(databaseUrl(serverUrl.toString(), name));
      asCollector.username = name;
      asCollector.password = password;
      const pool = createPool({ url: asCollector.toString(), ssl: false }, silentLogger(), { max: 2 });
      try {
        const { applied } = await migrate(pool, silentLogger());
        expect(applied.length).toBeGreaterThan(0);
        await expect(pool.query("COPY (SELECT 1) TO PROGRAM 'true'")).rejects.toMatchObject({ code: '42501' });
      } finally {
        await pool.end();
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      await withAdmin(serverUrl.toString(), async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
        await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(name)}`);
      });
    }
  });
});
