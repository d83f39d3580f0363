/**
 * Reads and checks FIXED_CHARGES_FILE, the small YAML (or JSON) file of each site's supply charges,
 * membership and other fees with the dates they apply from (format in the README, example in
 * examples/fixed-charges.yaml). Every mistake is reported at once, each naming the file, the site and the field.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { FixedChargePeriod, FixedCharges } from '../domain/fixed-charges.ts';
import { isNemDate } from '../domain/nem-time.ts';
import { CollectorError } from '../errors.ts';

/** Far above any real charge: a value past it is a slip (dollars typed as cents), not a tariff. */
const MAX_CENTS_PER_DAY = 100_000;
const MAX_DOLLARS_PER_MONTH = 10_000;

const amount = (max: number, unit: string) =>
  z.number({ error: (issue) => `expected a number of ${unit}, got ${JSON.stringify(issue.input)}` }).min(0, { error: `expected ${unit} ≥ 0` }).max(max, { error: `expected at most ${max} ${unit}` });
const centsPerDay = amount(MAX_CENTS_PER_DAY, 'cents per day');
const dollarsPerMonth = amount(MAX_DOLLARS_PER_MONTH, 'dollars per month');

const period = z.strictObject({
  // YAML reads 2026-11-01 as text in its core schema; a date typed without quotes stays a string here.
  from: z.string({ error: 'expected the first NEM day it applies, YYYY-MM-DD' }).refine(isNemDate, { error: (issue) => `expected a date as YYYY-MM-DD, got ${JSON.stringify(issue.input)}` }),
  supplyCentsPerDay: z.record(z.string().regex(/^[A-Za-z0-9]{1,8}$/, { error: 'expected a meter channel such as E1, E2 or B1' }), centsPerDay).default({}),
  membershipDollarsPerMonth: dollarsPerMonth.default(0),
  otherFees: z
    .array(
      z.union([z.strictObject({ name: z.string().trim().min(1).max(80), centsPerDay }), z.strictObject({ name: z.string().trim().min(1).max(80), dollarsPerMonth })], {
        error: 'expected { name, centsPerDay } or { name, dollarsPerMonth }',
      }),
    )
    .default([]),
});

const fileSchema = z.strictObject({
  sites: z.record(
    z.string().trim().min(1),
    z
      .array(period)
      .min(1, { error: 'expected at least one period' })
      .refine((periods) => new Set(periods.map((p) => p.from)).size === periods.length, { error: 'two periods start on the same day' }),
  ),
});

/** FIXED_CHARGES_FILE as the statement reads it; null path (unset) gives null: figures are energy only. */
export function loadFixedCharges(path: string | null): FixedCharges | null {
  if (path === null) return null;
  return parseFixedCharges(readText(path), path);
}

/** The file's text checked against the format; `path` names it in every problem. */
export function parseFixedCharges(text: string, path: string): FixedCharges {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw invalid(path, [`not YAML or JSON: ${(err as Error).message.split('\n')[0]}`]);
  }
  const result = fileSchema.safeParse(document);
  if (!result.success) {
    throw invalid(
      path,
      result.error.issues.map((issue) => {
        const [top, site, index, ...field] = issue.path.map(String);
        if (top !== 'sites' || site === undefined) return `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`;
        const where = index === undefined ? '' : ` period ${Number(index) + 1}`;
        return `site ${site}${where}${field.length > 0 ? `, ${field.join('.')}` : ''}: ${issue.message}`;
      }),
    );
  }
  const sites = new Map<string, readonly FixedChargePeriod[]>();
  for (const [siteId, periods] of Object.entries(result.data.sites)) sites.set(siteId, [...periods].sort((a, b) => a.from.localeCompare(b.from)));
  return sites;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(path, [`cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
}

function invalid(path: string, problems: string[]): CollectorError {
  const named = problems.map((problem) => `FIXED_CHARGES_FILE (${path}): ${problem}`);
  return new CollectorError('CONFIG_INVALID', `invalid fixed charges:\n${named.join('\n')}`, { details: { problems: named } });
}
