/**
 * Reading the deployment files without Docker: a Dockerfile parser (stages and instructions, enough for
 * this project's Dockerfile), a `.dockerignore` matcher with Docker's rules, and Compose-style variable
 * interpolation. Shared by the wiring test and the build replay script.
 */

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  /** `--from=build` and the like, for COPY and FROM. */
  flags: Record<string, string>;
  /** The arguments after the flags: JSON-array form decoded, shell form split on whitespace. */
  words: string[];
  /** True when the arguments were written in exec (JSON array) form. */
  execForm: boolean;
  line: number;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const start = index;
    let logical = lines[index]!;
    if (logical.trim() === '' || logical.trim().startsWith('#')) continue;
    while (logical.trimEnd().endsWith('\\') && index + 1 < lines.length) {
      index += 1;
      const next = lines[index]!;
      // Comment lines inside a continuation are dropped, as Docker does.
      if (next.trim().startsWith('#')) continue;
      logical = `${logical.trimEnd().slice(0, -1)} ${next.trim()}`;
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(logical);
    if (!match) throw new Error(`Dockerfile line ${start + 1}: cannot read "${logical}"`);
    const instruction = toInstruction(match[1]!.toUpperCase(), match[2]!.trim(), start + 1);
    if (instruction.keyword === 'FROM') {
      const [base = '', as, name] = instruction.words;
      stages.push({ name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length), base, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile line ${start + 1}: ${instruction.keyword} before any FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

function toInstruction(keyword: string, args: string, line: number): Instruction {
  const flags: Record<string, string> = {};
  let rest = args;
  // HEALTHCHECK options come before its own CMD; other keywords' options come first too.
  for (let flag = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest); flag; flag = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest)) {
    flags[flag[1]!] = flag[2] ?? 'true';
    rest = rest.slice(flag[0].length);
  }
  if (keyword === 'HEALTHCHECK' && rest.startsWith('CMD ')) rest = rest.slice(4).trim();
  const execForm = rest.startsWith('[');
  const words = execForm ? (JSON.parse(rest) as string[]) : rest.split(/\s+/).filter((w) => w !== '');
  return { keyword, args, flags, words, execForm, line };
}

/** `ENV A=1 B=2` (or the old `ENV A 1`) of a stage, in order. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    if (!instruction.args.includes('=')) {
      const [key = '', ...value] = instruction.words;
      env[key] = value.join(' ');
      continue;
    }
    for (const pair of instruction.words) {
      const [key = '', ...value] = pair.split('=');
      env[key] = value.join('=').replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

/**
 * The node options the image runs the daemon with: the words of the last stage's exec-form CMD between
 * `node` and the script (`CMD ["node", "--a", "--b", "dist/cli.js", "run"]` gives `["--a", "--b"]`).
 */
export function daemonNodeFlags(dockerfile: string): string[] {
  const cmd = parseDockerfile(dockerfile).at(-1)?.instructions.find((i) => i.keyword === 'CMD');
  if (!cmd?.execForm || cmd.words[0] !== 'node') throw new Error('the runtime stage has no exec-form CMD starting with node');
  const script = cmd.words.findIndex((word, index) => index > 0 && !word.startsWith('-'));
  return cmd.words.slice(1, script === -1 ? undefined : script);
}

// ---------------------------------------------------------------------------------------------------
// .dockerignore

interface IgnoreRule {
  negate: boolean;
  regex: RegExp;
}

/**
 * Docker's rules: patterns are paths relative to the context root, `*` and `?` stay within one path
 * segment, `**` spans any number, a pattern that matches a directory matches everything in it, and the
 * last matching pattern decides (`!` re-includes).
 */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const rules: IgnoreRule[] = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = (negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      return { negate, regex: globToRegex(pattern) };
    });
  return (path: string): boolean => {
    const segments = path.split('/').filter((s) => s !== '');
    const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) ignored = !rule.negate;
    }
    return ignored;
  };
}

function globToRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more whole segments; a trailing `**` matches anything.
      source += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

// ---------------------------------------------------------------------------------------------------
// Compose interpolation

/**
 * `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}` and `$$`, as
 * Compose resolves them from the project's `.env` and the shell. Throws the `?` message when required.
 */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare)!;
    const current = env[name];
    const unset = op?.startsWith(':') ? current === undefined || current === '' : current === undefined;
    if (op?.endsWith('-')) return unset ? (arg ?? '') : current!;
    if (op?.endsWith('?')) {
      if (unset) throw new Error(`required variable ${name} is missing a value: ${arg}`);
      return current!;
    }
    return current ?? '';
  });
}

/**
 * Values docker-compose 1.x interpolates differently from Compose v2: its pattern for a default or error
 * text (`${VAR:-...}`, `${VAR:?...}`) first tries to run to a later `}}` (meant for a nested `${B}` inside
 * the default), so any `}}` after such an operator swallows text that v2 would keep.
 */
export function v1InterpolationHazard(value: string): boolean {
  const withoutEscapes = value.replace(/\$\$/g, '');
  for (const operator of withoutEscapes.matchAll(/\$\{[A-Za-z_][A-Za-z0-9_]*:?[-?]/g)) {
    if (withoutEscapes.slice(operator.index + operator[0].length).includes('}}')) return true;
  }
  return false;
}

/** Every string in a parsed YAML document, with its path. */
export function* stringsIn(node: unknown, path = ''): Generator<[string, string]> {
  if (typeof node === 'string') yield [path, node];
  else if (Array.isArray(node)) for (const [i, child] of node.entries()) yield* stringsIn(child, `${path}[${i}]`);
  else if (node !== null && typeof node === 'object') {
    for (const [key, child] of Object.entries(node)) yield* stringsIn(child, path === '' ? key : `${path}.${key}`);
  }
}

/** Go-style durations as Compose accepts them: `30s`, `1m30s`, `500ms`. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`not a duration: ${text}`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * units[unit!]!, 0);
}
