/**
 * The shape of `src/`, checked on every run so it stays the way the README's architecture section says:
 * no import cycles (type-only imports count: they couple the files just the same), no file too long to
 * read in one sitting, one reader of the environment, SQL only in the data layers, the data layers
 * independent of the Amber API client, every command built with the shared frame, and one process exit hook.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const MAX_LINES = 400;

interface SourceFile {
  /** Relative to the repository root, with forward slashes: `src/amber/client.ts`. */
  path: string;
  text: string;
}

function sourceFiles(): SourceFile[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(SRC, name))
    .map((file) => ({ path: relative(ROOT, file).split('\\').join('/'), text: readFileSync(file, 'utf8') }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Relative `.ts` imports, re-exports and lazy `import()`s of one file, as repository paths; `import type` included. */
function importsOf(file: SourceFile): string[] {
  const declared = [...file.text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+\.ts)'/gms)];
  const lazy = [...file.text.matchAll(/\bimport\(\s*'(\.{1,2}\/[^']+\.ts)'\s*\)/g)];
  const specifiers = [...declared, ...lazy].map((m) => m[1]!);
  return specifiers.map((specifier) => join(dirname(file.path), specifier).split('\\').join('/'));
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan's algorithm). */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let member = stack.pop()!; ; member = stack.pop()!) {
      onStack.delete(member);
      component.push(member);
      if (member === node) break;
    }
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

const files = sourceFiles();
const graph = new Map(files.map((file) => [file.path, importsOf(file)]));

describe('the shape of src/', () => {
  test('the cycle check finds cycles through type-only imports, re-exports and lazy imports', () => {
    const fixture: SourceFile[] = [
      { path: 'src/a.ts', text: "import { b } from './b.ts';" },
      { path: 'src/b.ts', text: "import type { C } from './sub/c.ts';\nexport const b = 1;" },
      { path: 'src/sub/c.ts', text: "import {\n  a,\n  type A,\n} from '../a.ts';" },
      { path: 'src/d.ts', text: "import { a } from './a.ts';" },
      { path: 'src/e.ts', text: "const load = async () => (await import('./f.ts')).f;" },
      { path: 'src/f.ts', text: "export { e } from './e.ts';" },
    ];
    const fixtureGraph = new Map(fixture.map((file) => [file.path, importsOf(file)]));
    expect(importCycles(fixtureGraph)).toEqual([['src/a.ts', 'src/b.ts', 'src/sub/c.ts'], ['src/e.ts', 'src/f.ts']]);
    expect(importCycles(new Map([['src/x.ts', ['src/y.ts']], ['src/y.ts', []]]))).toEqual([]);
  });

  test('the import graph is read from every file', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(graph.get('src/daemon.ts')).toContain('src/config/config.ts');
  });

  test('no import cycle, type-only imports included', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  test('no two source files share a name, so a search for a file lands once', () => {
    const byName = new Map<string, string[]>();
    for (const file of files) {
      const name = file.path.split('/').at(-1)!;
      byName.set(name, [...(byName.get(name) ?? []), file.path]);
    }
    const shared = [...byName.values()].filter((paths) => paths.length > 1);
    expect(shared).toEqual([]);
  });

  test(`no source file is longer than ${MAX_LINES} lines`, () => {
    const long = files.map((file) => ({ path: file.path, lines: file.text.split('\n').length - 1 })).filter((file) => file.lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  test('only src/config/config.ts reads environment variables', () => {
    // Passing the whole environment on to a child process (`{ ...process.env }`) is not reading a setting.
    const readers = files.filter((file) => /(?<!\.\.\.)\bprocess\.env\b/.test(file.text)).map((file) => file.path);
    expect(readers).toEqual(['src/config/config.ts']);
  });

  test('SQL runs in db/ and query/ only: not in the HTTP server, the commands, the collector or the alerts', () => {
    const outside = files
      .filter((file) => /^src\/(http|commands|collector|alerts)\/|^src\/daemon\.ts$/.test(file.path))
      .filter((file) => /\.query\s*[<(]/.test(file.text))
      .map((file) => file.path);
    expect(outside).toEqual([]);
  });

  test("the README's architecture section names every folder of src/ and only files that exist", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('\n## ', readme.indexOf('## Architecture') + 1));
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(folders.filter((folder) => !section.includes(`\`${folder}/\``))).toEqual([]);
    const basenames = new Set(files.map((file) => file.path.split('/').at(-1)));
    const named = [...section.matchAll(/`([\w./-]+\.ts)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((name) => !(name.includes('/') ? existsSync(join(ROOT, name)) || existsSync(join(SRC, name)) : basenames.has(name)))).toEqual([]);
  });

  test('query/ reads through db/ and domain/ only: no collector, no Amber client, nothing that writes to a terminal', () => {
    // The battery engine is pure code over arrays and the configuration and errors sit below everything.
    const allowed = /^src\/(query|db|domain|battery|config)\/|^src\/errors\.ts$/;
    const edges = [...graph]
      .filter(([from]) => from.startsWith('src/query/'))
      .flatMap(([from, targets]) => targets.filter((target) => !allowed.test(target)).map((target) => `${from} → ${target}`));
    expect(edges).toEqual([]);
  });

  test('the configuration sits at the bottom: it imports the domain and nothing of a feature', () => {
    const allowed = /^src\/(config|domain)\/|^src\/errors\.ts$/;
    const edges = [...graph]
      .filter(([from]) => from.startsWith('src/config/'))
      .flatMap(([from, targets]) => targets.filter((target) => !allowed.test(target)).map((target) => `${from} → ${target}`));
    expect(edges).toEqual([]);
  });

  test('every file of commands/ is a command built with the shared frame, and cli.ts loads each', async () => {
    const { isCommand } = await import('../src/commands/frame/define-command.ts');
    const cli = readFileSync(join(SRC, 'cli.ts'), 'utf8');
    const commandFiles = files.filter((file) => /^src\/commands\/[^/]+\.ts$/.test(file.path)).map((file) => file.path);
    expect(commandFiles.length).toBeGreaterThanOrEqual(9);
    const unframed: string[] = [];
    for (const path of commandFiles) {
      const exported = Object.values(await import(join(ROOT, path)));
      if (exported.filter(isCommand).length !== 1) unframed.push(`${path}: not exactly one defineCommand result`);
      if (!cli.includes(`import('./${path.slice('src/'.length)}')`)) unframed.push(`${path}: not in cli.ts's table`);
    }
    expect(unframed).toEqual([]);
    expect(isCommand({ run: async () => 0, main: async () => 0 })).toBe(false);
  });

  test("only cli.ts's main hooks the process's exit: importing or starting anything else adds no exit listener", () => {
    const hooks = files.filter((file) => /\bprocess\.(on|once|addListener|prependListener)\(\s*'exit'/.test(file.text)).map((file) => file.path);
    expect(hooks).toEqual(['src/cli.ts']);
  });

  test('the domain, the configuration and the database layer do not depend on the Amber API client', () => {
    const edges = [...graph]
      .filter(([from]) => /^src\/(domain|db|config)\//.test(from))
      .flatMap(([from, targets]) => targets.filter((target) => target.startsWith('src/amber/')).map((target) => `${from} → ${target}`));
    expect(edges).toEqual([]);
  });
});
