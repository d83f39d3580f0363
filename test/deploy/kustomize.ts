/**
 * A small kustomize, enough for the kustomizations under k8s/: `resources` (files and directories),
 * `components`, `namespace`, `images`, `configMapGenerator` (envs, files, literals; create or merge) with
 * kustomize's name hash and the references to generated names, and `patches` in JSON 6902 form. Anything
 * else in a kustomization is an error, so a manifest cannot quietly rely on a feature this does not model;
 * the tests compare its output with `kubectl kustomize` where kubectl is installed.
 *
 * Manifests are read as YAML 1.1, as Kubernetes reads them (`0444` is octal, `on` is true).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

/** Every document of a manifest file, as Kubernetes parses it; empty documents are skipped. */
export function readManifests(path: string): Resource[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { version: '1.1' });
  return docs.flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Resource | null;
    return value === null ? [] : [value];
  });
}

/** `kubectl kustomize dir`: the resources the kustomization in `dir` produces. */
export function kustomize(dir: string): Resource[] {
  const build = buildTarget(resolve(dir), 'Kustomization');
  return build.resources.map((resource) => renameGenerated(resource, build.generated));
}

interface Build {
  resources: Resource[];
  /** Generated ConfigMaps (by object identity) that get a content hash suffix at the end. */
  generated: Set<Resource>;
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'components', 'configMapGenerator', 'images', 'patches']);

function readKustomization(dir: string, expectedKind: 'Kustomization' | 'Component'): any {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((name) => join(dir, name)).find((path) => existsSync(path));
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const [kustomization] = readManifests(file) as any[];
  if (kustomization.kind !== expectedKind) throw new Error(`${file}: expected kind ${expectedKind}, got ${kustomization.kind}`);
  for (const field of Object.keys(kustomization)) {
    if (!KNOWN_FIELDS.has(field)) throw new Error(`${file}: \`${field}\` is not modelled by this resolver`);
  }
  return kustomization;
}

function buildTarget(dir: string, kind: 'Kustomization' | 'Component', into: Build = { resources: [], generated: new Set() }): Build {
  const kustomization = readKustomization(dir, kind);
  for (const entry of [...(kustomization.resources ?? []), ...(kustomization.components ?? [])] as string[]) {
    if (isAbsolute(entry)) throw new Error(`${dir}: kustomize refuses the absolute path ${entry}`);
  }
  for (const entry of (kustomization.resources ?? []) as string[]) {
    const path = resolve(dir, entry);
    if (statSync(path).isDirectory()) {
      const base = buildTarget(path, 'Kustomization');
      into.resources.push(...base.resources);
      for (const resource of base.generated) into.generated.add(resource);
    } else {
      into.resources.push(...readManifests(path));
    }
  }
  // A component works on everything accumulated so far, as kustomize applies it.
  for (const entry of (kustomization.components ?? []) as string[]) buildTarget(resolve(dir, entry), 'Component', into);
  for (const generator of kustomization.configMapGenerator ?? []) generateConfigMap(dir, generator, into);
  for (const patch of kustomization.patches ?? []) applyPatch(dir, patch, into.resources);
  if (kustomization.namespace) {
    for (const resource of into.resources) if (!CLUSTER_SCOPED.has(resource.kind)) resource.metadata.namespace = kustomization.namespace;
  }
  for (const image of kustomization.images ?? []) setImage(into.resources, image);
  return into;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass', 'PriorityClass']);

// ---------------------------------------------------------------------------------------------------
// configMapGenerator

function generateConfigMap(dir: string, generator: any, into: Build): void {
  const data: Record<string, string> = {};
  for (const envFile of generator.envs ?? []) Object.assign(data, parseEnvFile(readFileSync(resolve(dir, envFile), 'utf8')));
  for (const file of generator.files ?? []) {
    const [key, path] = String(file).includes('=') ? String(file).split('=', 2) : [basename(file), file];
    data[key!] = readFileSync(resolve(dir, path!), 'utf8');
  }
  for (const literal of generator.literals ?? []) {
    const [key, ...value] = String(literal).split('=');
    data[key!] = value.join('=');
  }
  const behavior = generator.behavior ?? 'create';
  const existing = into.resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name === generator.name && into.generated.has(r));
  if (behavior === 'merge' || behavior === 'replace') {
    if (!existing) throw new Error(`configMapGenerator ${generator.name}: behavior ${behavior} but no such generated ConfigMap`);
    existing['data'] = behavior === 'merge' ? { ...existing['data'], ...data } : data;
    return;
  }
  if (existing) throw new Error(`configMapGenerator ${generator.name}: generated twice`);
  const configMap: Resource = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data };
  into.resources.push(configMap);
  into.generated.add(configMap);
}

/** kustomize's env-file rules: `KEY=VALUE` per line; blank lines and lines starting with # are skipped. */
function parseEnvFile(text: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const equals = line.indexOf('=');
    if (equals <= 0) throw new Error(`env file line ${index + 1}: expected KEY=VALUE, got "${line}"`);
    data[line.slice(0, equals).trimStart()] = line.slice(equals + 1);
  }
  return data;
}

/**
 * kustomize's suffix: sha256 of the JSON `{"data":…,"kind":"ConfigMap","name":""}` as Go marshals it (keys
 * sorted; `<`, `>` and `&` escaped; the name is still empty when kustomize hashes), its first 10 hex digits
 * with 0, 1, 3, a, e mapped to g, h, k, m, t.
 */
function configMapHash(data: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const json = JSON.stringify({ data: sorted, kind: 'ConfigMap', name: '' }).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const hex = createHash('sha256').update(json).digest('hex');
  const letters: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex.slice(0, 10)].map((c) => letters[c] ?? c).join('');
}

function renameGenerated(resource: Resource, generated: Set<Resource>): Resource {
  const names = new Map([...generated].map((cm) => [cm.metadata.name, `${cm.metadata.name}-${configMapHash(cm['data'])}`]));
  if (generated.has(resource)) return { ...resource, metadata: { ...resource.metadata, name: names.get(resource.metadata.name)! } };
  const podSpec = podSpecOf(resource);
  if (!podSpec) return resource;
  const rename = (ref: { name?: string } | undefined) => {
    if (ref?.name && names.has(ref.name)) ref.name = names.get(ref.name)!;
  };
  for (const container of [...(podSpec.containers ?? []), ...(podSpec.initContainers ?? [])]) {
    for (const source of container.envFrom ?? []) rename(source.configMapRef);
    for (const variable of container.env ?? []) rename(variable.valueFrom?.configMapKeyRef);
  }
  for (const volume of podSpec.volumes ?? []) {
    rename(volume.configMap);
    for (const source of volume.projected?.sources ?? []) rename(source.configMap);
  }
  return resource;
}

/** The pod spec of a workload (Deployment, StatefulSet, DaemonSet, Job), or undefined. */
export function podSpecOf(resource: Resource): any {
  return resource['spec']?.template?.spec;
}

// ---------------------------------------------------------------------------------------------------
// images and patches

function setImage(resources: Resource[], image: { name: string; newName?: string; newTag?: string; digest?: string }): void {
  for (const resource of resources) {
    const podSpec = podSpecOf(resource);
    for (const container of [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])]) {
      const match = /^([^@]+?)(?::([^:/@]+))?(?:@(.+))?$/.exec(container.image);
      if (match?.[1] !== image.name) continue;
      const name = image.newName ?? match[1];
      if (image.digest) container.image = `${name}@${image.digest}`;
      else if (image.newTag) container.image = `${name}:${image.newTag}`;
      else container.image = `${name}${match[2] ? `:${match[2]}` : ''}${match[3] ? `@${match[3]}` : ''}`;
    }
  }
}

function applyPatch(dir: string, patch: any, resources: Resource[]): void {
  const text: string = patch.patch ?? readFileSync(resolve(dir, patch.path), 'utf8');
  const [operations] = parseAllDocuments(text, { version: '1.1' }).map((doc) => doc.toJS());
  if (!Array.isArray(operations)) throw new Error('only JSON 6902 patches (a list of operations) are modelled');
  const targets = resources.filter(
    (r) => (!patch.target?.kind || r.kind === patch.target.kind) && (!patch.target?.name || r.metadata.name === patch.target.name),
  );
  if (targets.length === 0) throw new Error(`patch target ${JSON.stringify(patch.target)} matches nothing`);
  for (const target of targets) for (const operation of operations) applyOperation(target, operation);
}

function applyOperation(document: any, operation: { op: string; path: string; value?: unknown }): void {
  const keys = operation.path.split('/').slice(1).map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop()!;
  const parent = keys.reduce((node, key) => {
    if (node?.[key] === undefined) throw new Error(`patch path ${operation.path}: no ${key}`);
    return node[key];
  }, document);
  if (operation.op === 'add' && Array.isArray(parent)) {
    parent.splice(last === '-' ? parent.length : Number(last), 0, operation.value);
  } else if (operation.op === 'add' || operation.op === 'replace') {
    parent[last] = operation.value;
  } else if (operation.op === 'remove') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    throw new Error(`patch operation ${operation.op} is not modelled`);
  }
}
