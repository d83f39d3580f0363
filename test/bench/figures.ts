/**
 * What every benchmark section reports: figures, each with the baseline it was measured against in the same
 * run, their ratio, and the target it has to meet (if any). `npm run bench` prints them as one table and
 * writes them to `bench-results/bench.json`.
 */

export interface Target {
  /** What the target bounds: the figure itself, or its ratio to the baseline. */
  on: 'value' | 'ratio';
  comparator: '<=' | '>=';
  limit: number;
}

export interface Figure {
  section: string;
  name: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number } | null;
  /** `value / baseline.value`, or null without a baseline. */
  ratio: number | null;
  target: Target | null;
  /** Whether the target is met; null when there is none. */
  met: boolean | null;
  /** How it was measured, or what bounds it. */
  note?: string;
}

export interface FigureSpec {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  target?: Target;
  note?: string;
}

/** Builds a section's figures: fills in each ratio and whether its target is met. */
export function figuresOf(section: string, specs: readonly FigureSpec[]): Figure[] {
  return specs.map((spec) => {
    const baseline = spec.baseline ?? null;
    const ratio = baseline === null || baseline.value === 0 ? null : spec.value / baseline.value;
    const target = spec.target ?? null;
    return {
      section,
      name: spec.name,
      value: spec.value,
      unit: spec.unit,
      baseline,
      ratio,
      target,
      met: target === null ? null : meets(target, target.on === 'value' ? spec.value : ratio),
      ...(spec.note === undefined ? {} : { note: spec.note }),
    };
  });
}

function meets(target: Target, measured: number | null): boolean {
  if (measured === null || Number.isNaN(measured)) return false;
  return target.comparator === '<=' ? measured <= target.limit : measured >= target.limit;
}

/** The shorthand sections use for targets: `atMost(1.1, 'ratio')`, `atLeast(0.5, 'ratio')`. */
export function atMost(limit: number, on: Target['on'] = 'value'): Target {
  return { on, comparator: '<=', limit };
}

export function atLeast(limit: number, on: Target['on'] = 'value'): Target {
  return { on, comparator: '>=', limit };
}

/** Wall-clock and CPU seconds of some work: on a shared machine the CPU time is what the work itself costs. */
export async function measured<T>(work: () => T | Promise<T>): Promise<{ result: T; seconds: number; cpuSeconds: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { result, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Progress for the person waiting: stderr, so stdout stays the table. */
export function progress(message: string): void {
  process.stderr.write(`  … ${message}\n`);
}

// ---------------------------------------------------------------------------------------------------
// The table for people.

export function formatTable(figures: readonly Figure[]): string {
  const header = ['figure', 'value', 'baseline', 'ratio', 'target', 'ok'];
  const rows: string[][] = [];
  let section = '';
  for (const figure of figures) {
    if (figure.section !== section) {
      section = figure.section;
      rows.push([`[${section}]`, '', '', '', '', '']);
    }
    rows.push([
      `  ${figure.name}`,
      `${formatNumber(figure.value)} ${figure.unit}`.trim(),
      figure.baseline === null ? '' : `${formatNumber(figure.baseline.value)} (${figure.baseline.name})`,
      figure.ratio === null ? '' : `${formatNumber(figure.ratio, 3)}×`,
      figure.target === null ? '' : describeTarget(figure.target, figure.unit),
      figure.met === null ? '' : figure.met ? 'yes' : 'NO',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 1 || i === 3 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** How each noted figure was measured, one line each, under the table. */
export function formatNotes(figures: readonly Figure[]): string {
  return ['notes:', ...figures.filter((f) => f.note !== undefined).map((f) => `  ${f.name}: ${f.note}`)].join('\n');
}

function describeTarget(target: Target, unit: string): string {
  const limit = target.on === 'ratio' ? `${target.limit}×` : `${target.limit} ${unit}`.trim();
  return `${target.comparator === '<=' ? '≤' : '≥'} ${limit}`;
}

/** Three significant digits for small figures, thousands separators for large ones. */
function formatNumber(value: number, significant = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) || Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en');
  return Number(value.toPrecision(significant)).toString();
}
