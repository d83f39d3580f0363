/**
 * The plans file of `compare`: the shipped examples load, and each kind of mistake is refused with a problem
 * naming the file, the plan and the field, every mistake of a file at once.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCollectorError } from '../../src/errors.ts';
import { loadPlans, parsePlans } from '../../src/plans/plan-file.ts';
import { PlanPricer } from '../../src/plans/tariff-rules.ts';

const EXAMPLE = new URL('../../examples/compare-plans.yaml', import.meta.url).pathname;

function problems(text: string, file = 'plans.yaml'): string[] {
  try {
    parsePlans(text, file);
  } catch (err) {
    if (isCollectorError(err, 'CONFIG_INVALID')) return err.details.problems ?? [];
    throw err;
  }
  throw new Error('the file was accepted');
}

const plan = (body: string) => `plans:\n  - name: Cheap\n${body}`;

describe('the plans file', () => {
  it('the shipped examples load: a flat plan and a time-of-use plan, marked as examples', () => {
    const plans = loadPlans(EXAMPLE);
    expect(plans.map((p) => p.name)).toEqual(['Example flat rate', 'Example time of use']);
    expect(plans[0]).toMatchObject({ general: 30.5, controlledLoad: 17.6, feedIn: 4, dailySupplyCents: 105, timeZone: null });
    expect(Array.isArray(plans[1]!.general)).toBe(true);
    expect(plans[1]!.holidays).toContain('2025-12-25');
  });

  it('a time-of-use plan takes the first period that matches, in local time with daylight saving, holidays as weekends', () => {
    const [tou] = parsePlans(
      plan(`    general:
      - { centsPerKwh: 50, days: weekdays, months: [jan, 12], from: "14:00", to: "20:00" }
      - { centsPerKwh: 10, from: "22:00", to: "07:00" }
      - { centsPerKwh: 25 }
    holidays: [2026-01-01]
`),
      'plans.yaml',
    );
    const sydney = new PlanPricer(tou!, 'Australia/Sydney');
    const brisbane = new PlanPricer(tou!, 'Australia/Brisbane');
    // 2026-01-02 (a Friday) 03:30Z is 14:30 in Sydney (daylight time, +11) but 13:30 in Brisbane (+10).
    expect(sydney.rate('general', Date.parse('2026-01-02T03:30:00Z'))).toBe(50);
    expect(brisbane.rate('general', Date.parse('2026-01-02T03:30:00Z'))).toBe(25);
    expect(sydney.rate('general', Date.parse('2026-01-01T03:30:00Z'))).toBe(25); // a holiday
    expect(sydney.rate('general', Date.parse('2026-01-01T13:00:00Z'))).toBe(10); // 00:00 wraps past midnight
    expect(sydney.rate('feedIn', Date.parse('2026-01-02T03:30:00Z'))).toBe(0); // no feed-in tariff: nothing earned
    expect(sydney.cents('feedIn', 0, 2)).toBe(-0);
  });

  it.each([
    ['not YAML', 'plans: [\n  - name: x\n', /^plans\.yaml: line \d+, column \d+: not valid YAML/],
    ['no plans', 'something: 1\n', /^plans\.yaml: the file: Unrecognized key|^plans\.yaml: plans: expected a list of plans/],
    ['an empty list', 'plans: []\n', /^plans\.yaml: plans: expected at least one plan/],
    ['a plan without a name', 'plans:\n  - general: 20\n', /^plans\.yaml: plans\[0\]: name: expected a name for the plan/],
    ['a plan without a general rate', plan(''), /^plans\.yaml: plan "Cheap" \(plans\[0\]\): general: expected a flat rate in c\/kWh or a list/],
    ['a rate that is text', plan('    general: "thirty"\n'), /^plans\.yaml: plan "Cheap" \(plans\[0\]\): general: expected a flat rate/],
    ['an absurd rate', plan('    general: 3000\n'), /general: expected c\/kWh from -1000 to 1000|general: expected a flat rate/],
    ['a misspelt field', plan('    general: 20\n    dailySuply: 100\n'), /^plans\.yaml: plan "Cheap" \(plans\[0\]\): Unrecognized key: "dailySuply"/],
    ['a negative supply charge', plan('    general: 20\n    dailySupplyCents: -5\n'), /plan "Cheap" \(plans\[0\]\): dailySupplyCents: expected c\/day from 0 to 10000/],
    ['a monthly fee that is text', plan('    general: 20\n    monthlyFeeDollars: ten\n'), /monthlyFeeDollars: expected \$\/month as a number, got "ten"/],
    ['a time that is not one', plan('    general:\n      - { centsPerKwh: 30, from: "25:00", to: "06:00" }\n      - { centsPerKwh: 20 }\n'), /plan "Cheap" \(plans\[0\]\): general\[0\]\.from: expected a time as "HH:MM" from 00:00 to 24:00, got "25:00"/],
    ['from without to', plan('    general:\n      - { centsPerKwh: 30, from: "14:00" }\n      - { centsPerKwh: 20 }\n'), /general\[0\]\.to: give both from and to, or neither for all day/],
    ['from equal to to', plan('    general:\n      - { centsPerKwh: 30, from: "14:00", to: "14:00" }\n'), /general\[0\]\.to: from and to are the same time/],
    ['an unknown month', plan('    general:\n      - { centsPerKwh: 30, months: [smarch] }\n      - { centsPerKwh: 20 }\n'), /general\[0\]\.months\[0\]: expected a month as 1 to 12 or a name/],
    ['month 13', plan('    feedIn:\n      - { centsPerKwh: 3, months: [13] }\n      - { centsPerKwh: 1 }\n    general: 20\n'), /feedIn\[0\]\.months\[0\]: expected a month as 1 to 12/],
    ['unknown days', plan('    general:\n      - { centsPerKwh: 30, days: weekend }\n      - { centsPerKwh: 20 }\n'), /general\[0\]\.days: expected all, weekdays or weekends, got "weekend"/],
    ['periods that leave a gap', plan('    general:\n      - { centsPerKwh: 30, days: weekdays }\n'), /plan "Cheap" \(plans\[0\]\): general: no period covers weekends in Jan from 00:00 to 24:00/],
    ['a gap in the night', plan('    controlledLoad:\n      - { centsPerKwh: 15, from: "22:00", to: "07:00" }\n    general: 20\n'), /controlledLoad: no period covers weekdays in Jan from 07:00 to 22:00/],
    ['two plans with one name', 'plans:\n  - { name: Same, general: 20 }\n  - { name: same, general: 30 }\n', /plan "same" \(plans\[1\]\): name: another plan has the same name/],
    ['an unknown time zone', plan('    general: 20\n    timeZone: Australia/Springfield\n'), /timeZone: expected an IANA time zone such as Australia\/Sydney, got "Australia\/Springfield"/],
    ['a holiday that is no date', plan('    general: 20\n    holidays: [2025-02-30]\n'), /holidays\[0\]: expected a date as YYYY-MM-DD/],
  ])('refuses %s, naming the file, the plan and the field', (_kind, text, expected) => {
    const found = problems(text);
    expect(found.length).toBeGreaterThan(0);
    expect(found.some((problem) => expected.test(problem)), found.join('\n')).toBe(true);
  });

  it('reports every mistake of a file at once', () => {
    const found = problems('plans:\n  - { name: A, general: "x", dailySupplyCents: -1 }\n  - { name: B, general: 20, feedIn: [] }\n');
    expect(found).toEqual([
      expect.stringMatching(/^plans\.yaml: plan "A" \(plans\[0\]\): general: /),
      expect.stringMatching(/^plans\.yaml: plan "A" \(plans\[0\]\): dailySupplyCents: /),
      expect.stringMatching(/^plans\.yaml: plan "B" \(plans\[1\]\): feedIn: /),
    ]);
  });

  it('a missing file, a folder and an oversized file are problems naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plans-'));
    const name = (file: string) => {
      try {
        loadPlans(file);
      } catch (err) {
        if (isCollectorError(err, 'CONFIG_INVALID')) return err.details.problems;
      }
      return null;
    };
    expect(name(join(dir, 'none.yaml'))).toEqual([`${join(dir, 'none.yaml')}: no such file`]);
    mkdirSync(join(dir, 'folder'));
    expect(name(join(dir, 'folder'))).toEqual([`${join(dir, 'folder')}: is a folder, not a file`]);
    writeFileSync(join(dir, 'big.yaml'), `# ${'x'.repeat(1_100_000)}\n`);
    expect(name(join(dir, 'big.yaml'))).toEqual([expect.stringMatching(/big\.yaml: is larger than 1000000 bytes/)]);
  });
});
