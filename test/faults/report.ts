/**
 * The figures a fault run ends with: per scenario, how many trials ran and what they cost (intervals lost,
 * duplicated, wrong; crashes; the worst time to recover), printed as a table and saved as JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface TrialOutcome {
  /** Intervals the oracle checked at the end of the trial. */
  checked: number;
  lost: number;
  duplicated: number;
  wrong: number;
  /** The collector stopped when nobody asked it to (a non-zero exit, or runDaemon returning early). */
  unexpectedExits: number;
  /** Of those, the ones with no error or fatal line (or stderr) saying why. */
  crashesWithoutMessage: number;
  /** From the end of the fault to a complete database; null when it did not apply or never happened. */
  recoveryMs: number | null;
  /** Discrepancy samples and anything else worth reading when a figure is not zero. */
  notes?: string[];
}

export interface ScenarioFigures {
  scenario: string;
  trials: number;
  intervalsChecked: number;
  lost: number;
  duplicated: number;
  wrong: number;
  unexpectedExits: number;
  crashesWithoutMessage: number;
  /** null when no trial measured a recovery. */
  worstRecoveryMs: number | null;
  /** Trials that never reached a complete database. */
  unrecovered: number;
}

export const cleanOutcome = (checked: number, recoveryMs: number | null): TrialOutcome => ({
  checked,
  lost: 0,
  duplicated: 0,
  wrong: 0,
  unexpectedExits: 0,
  crashesWithoutMessage: 0,
  recoveryMs,
});

export class FaultReport {
  private readonly figures = new Map<string, ScenarioFigures & { notes: string[] }>();

  /** Adds one trial's outcome to its scenario's figures. */
  record(scenario: string, outcome: TrialOutcome, expectsRecovery = true): void {
    const figures = this.figures.get(scenario) ?? {
      scenario,
      trials: 0,
      intervalsChecked: 0,
      lost: 0,
      duplicated: 0,
      wrong: 0,
      unexpectedExits: 0,
      crashesWithoutMessage: 0,
      worstRecoveryMs: null,
      unrecovered: 0,
      notes: [],
    };
    figures.trials += 1;
    figures.intervalsChecked += outcome.checked;
    figures.lost += outcome.lost;
    figures.duplicated += outcome.duplicated;
    figures.wrong += outcome.wrong;
    figures.unexpectedExits += outcome.unexpectedExits;
    figures.crashesWithoutMessage += outcome.crashesWithoutMessage;
    if (outcome.recoveryMs !== null) figures.worstRecoveryMs = Math.max(figures.worstRecoveryMs ?? 0, outcome.recoveryMs);
    else if (expectsRecovery) figures.unrecovered += 1;
    figures.notes.push(...(outcome.notes ?? []));
    this.figures.set(scenario, figures);
  }

  rows(): ScenarioFigures[] {
    return [...this.figures.values()].map(({ notes: _notes, ...row }) => row);
  }

  notes(): Record<string, string[]> {
    return Object.fromEntries([...this.figures.values()].filter((f) => f.notes.length > 0).map((f) => [f.scenario, f.notes.slice(0, 20)]));
  }

  /** A fixed-width table for a terminal or a CI log. */
  render(title: string): string {
    const header = ['scenario', 'trials', 'checked', 'lost', 'dup', 'wrong', 'exits', 'silent', 'worst recovery', 'unrecovered'];
    const body = this.rows().map((r) => [
      r.scenario,
      String(r.trials),
      String(r.intervalsChecked),
      String(r.lost),
      String(r.duplicated),
      String(r.wrong),
      String(r.unexpectedExits),
      String(r.crashesWithoutMessage),
      r.worstRecoveryMs === null ? '—' : `${(r.worstRecoveryMs / 1000).toFixed(1)} s`,
      String(r.unrecovered),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
    const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
    const rule = '-'.repeat(widths.reduce((sum, w) => sum + w + 2, -2));
    const legend =
      'checked: intervals compared with the ground truth; dup: rows the ground truth lacks; exits: unexpected stops; ' +
      'silent: of those, with no message; worst recovery: end of the fault → database complete';
    return ['', title, rule, line(header), rule, ...body.map(line), rule, legend, ''].join('\n');
  }

  async write(path: string, title: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const json = { title, generatedAt: new Date().toISOString(), scenarios: this.rows(), notes: this.notes() };
    await writeFile(path, `${JSON.stringify(json, null, 2)}\n`);
  }
}
