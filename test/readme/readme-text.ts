/**
 * The README read the way its tests need it: the commands it tells a reader to type, its settings examples, its
 * SQL and its command table, each as written. The tests run or check these, so a command edited in the README is
 * a command tested as edited.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './newcomer.ts';

export const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The text of a `## ` or `### ` section, up to the next heading of the same or a higher level. */
export function section(heading: string): string {
  const match = new RegExp(`^(#{2,3}) ${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(readme);
  if (!match) throw new Error(`README has no section "${heading}"`);
  const level = match[1]!.length;
  const rest = readme.slice(match.index + match[0].length);
  const next = new RegExp(`^#{2,${level}} `, 'm').exec(rest);
  return readme.slice(match.index, match.index + match[0].length + (next?.index ?? rest.length));
}

interface Fence {
  readonly language: string;
  readonly lines: readonly string[];
}

/** The fenced blocks of a text, indented ones (inside list items) included. */
function fences(text: string): Fence[] {
  const found: Fence[] = [];
  let open: { language: string; lines: string[] } | null = null;
  for (const line of text.split('\n')) {
    const marker = /^\s*```(\w*)\s*$/.exec(line);
    if (marker && open === null) open = { language: marker[1]!, lines: [] };
    else if (marker && open !== null) {
      found.push(open);
      open = null;
    } else open?.lines.push(line.trim());
  }
  return found;
}

/** A shell line without its trailing comment: a `#` after a blank, outside quotes (`'^#'` is no comment). */
function withoutComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote !== null) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && /\s/.test(line[i - 1] ?? ' ')) return line.slice(0, i).trim();
  }
  return line.trim();
}

/** The `sh` blocks of a text, each as its lines: continuations joined, comments and blank lines left out. */
export function shellBlocks(text: string = readme): string[][] {
  return fences(text)
    .filter((f) => f.language === 'sh')
    .map((fence) => {
      const lines: string[] = [];
      let pending = '';
      for (const raw of fence.lines) {
        if (raw === '' || raw.startsWith('#')) continue;
        const line = withoutComment(raw);
        if (line.endsWith('\\')) pending += `${line.slice(0, -1).trim()} `;
        else {
          lines.push(pending + line);
          pending = '';
        }
      }
      return lines;
    });
}

/** The lines of a text's `sh` blocks, one list. */
export function shellLines(text: string = readme): string[] {
  return shellBlocks(text).flat();
}

/** An `sh` block line that is a setting for `.env` (`NAME=value`), not a command. */
export function isSetting(line: string): boolean {
  return /^[A-Z][A-Z0-9_]*=/.test(line) && !line.includes('$(');
}

/** The programs whose inline mentions (`` `docker compose ps` ``) are commands for the reader to type. */
const PROGRAMS = ['amber-collector', 'node', 'npm', 'docker', 'psql', 'createdb', 'curl', 'kubectl', 'railway', 'git', 'openssl'];

/** Inline code spans that run one of those programs with arguments; a span may wrap onto the next line. */
export function inlineCommands(text: string = readme): string[] {
  const prose = text.replace(/^\s*```\w*\s*\n[\s\S]*?^\s*```\s*$/gm, '');
  return [...prose.matchAll(/`([^`\n]+(?:\n[^`\n]+)?)`/g)]
    .map((m) => m[1]!.replace(/\s+/g, ' ').trim())
    .filter((span) => PROGRAMS.includes(span.split(' ')[0]!) && span.includes(' ') && !/^\S+:\S+$/.test(span));
}

/** The rows of "The command line" table, as the commands they document. */
export function commandTable(): string[] {
  return [...section('The command line').matchAll(/^\| `([^`]+)` \|/gm)].map((m) => `amber-collector ${m[1]!.replace(/\\\|/g, '|')}`);
}

/** Every command the README shows: its `sh` blocks, its inline commands and its command table. */
export function everyCommand(): string[] {
  return [...new Set([...shellLines().filter((line) => !isSetting(line)), ...inlineCommands(), ...commandTable()])];
}

/** The statements of a text's `sql` blocks, without their comment lines. */
export function sqlStatements(text: string = readme): string[] {
  return fences(text)
    .filter((f) => f.language === 'sql')
    .flatMap((f) => f.lines.filter((line) => !line.startsWith('--')).join('\n').split(';'))
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}
