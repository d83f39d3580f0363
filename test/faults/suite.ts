/**
 * Declares the fault suite for vitest at one size: one test per scenario running all its trials, every
 * figure recorded whether or not it passes, and the table printed and saved once all have run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { killLeftoverProcesses } from './child-rig.ts';
import { FaultReport } from './report.ts';
import { configuration, uncoveredVariables } from './scenarios/configuration.ts';
import { databaseFaults } from './scenarios/database.ts';
import { processKills } from './scenarios/kills.ts';
import { pauses } from './scenarios/pauses.ts';
import { malformedPayloads } from './scenarios/payloads.ts';
import { rateLimiting } from './scenarios/rate-limiting.ts';
import { serverFaults } from './scenarios/server-faults.ts';
import { twoCollectorsScenario } from './scenarios/two-collectors.ts';
import type { Scenario, Size } from './trial.ts';

const SCENARIOS: readonly Scenario[] = [
  rateLimiting,
  serverFaults,
  malformedPayloads,
  databaseFaults,
  processKills,
  twoCollectorsScenario,
  pauses,
  configuration,
];

export function defineFaultSuite(size: Size, reportPath: string, scenarios: readonly Scenario[] = SCENARIOS): void {
  const report = new FaultReport();
  const title = `amber-collector fault injection (${size})`;

  afterAll(async () => {
    killLeftoverProcesses();
    process.stdout.write(report.render(title));
    await report.write(reportPath, title);
  });

  describe(title, () => {
    for (const scenario of scenarios) {
      it(scenario.name, async () => {
        const problems: string[] = [];
        for (const trial of scenario.trials(size)) {
          try {
            const result = await trial.run();
            report.record(scenario.name, { ...result.outcome, notes: [...(result.outcome.notes ?? []), ...result.problems] }, result.expectsRecovery ?? true);
            problems.push(...result.problems.map((p) => `${trial.label}: ${p}`));
            const { lost, duplicated, wrong, crashesWithoutMessage, unexpectedExits, recoveryMs } = result.outcome;
            if (lost + duplicated + wrong + unexpectedExits > 0 || (recoveryMs === null && result.expectsRecovery !== false)) {
              problems.push(
                `${trial.label}: lost ${lost}, duplicated ${duplicated}, wrong ${wrong}, exits ${unexpectedExits} (silent ${crashesWithoutMessage}), ` +
                  `${recoveryMs === null ? 'never recovered' : `recovered in ${recoveryMs} ms`}; ${(result.outcome.notes ?? []).slice(0, 4).join(' | ')}`,
              );
            }
          } catch (err) {
            killLeftoverProcesses();
            // The trial itself broke (a wait timed out): that is a failure of the collector to do what was expected.
            report.record(scenario.name, { checked: 0, lost: 0, duplicated: 0, wrong: 0, unexpectedExits: 0, crashesWithoutMessage: 0, recoveryMs: null, notes: [`${trial.label}: ${String(err)}`] });
            problems.push(`${trial.label}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        if (scenario === configuration) problems.push(...uncoveredVariables().map((name) => `${name} has no bad value in the table`));
        expect(problems).toEqual([]);
      }, size === 'short' ? 120_000 : 60 * 60_000);
    }
  });
}
