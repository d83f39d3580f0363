/**
 * The plans file of `amber-collector compare` (`--plans F`, COMPARE_PLANS_FILE): retail plans a person
 * describes, in YAML (JSON is YAML too), checked with zod. Every mistake is reported at once, each naming
 * the file, the plan and the field, so a file is fixed in one go. The format is in the README ("Would
 * another plan be cheaper?") and examples/compare-plans.yaml.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { isNemDate } from '../domain/nem-time.ts';
import { CollectorError } from '../errors.ts';
import { isTimeZone } from './local-time.ts';
import { periodGap, type PeriodSpec, type PlanSpec, type TariffSpec } from './tariff-rules.ts';

/** A plans file is a few kilobytes; anything far larger is the wrong file. */
const MAX_FILE_BYTES = 1_000_000;
const MAX_PLANS = 50;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const quote = (value: unknown) => JSON.stringify(value);

/** c/kWh incl. GST: a generous bound that still catches a rate typed in dollars ×100 twice. */
const rate = z.number({ error: (issue) => `expected c/kWh as a number, got ${quote(issue.input)}` }).min(-1000, { error: 'expected c/kWh from -1000 to 1000' }).max(1000, { error: 'expected c/kWh from -1000 to 1000' });

const time = z.string({ error: (issue) => `expected a time as "HH:MM", got ${quote(issue.input)}` }).transform((value, ctx) => {
  const match = /^(\d{2}):(\d{2})$/.exec(value.trim());
  const minutes = match === null ? Number.NaN : Number(match[1]) * 60 + Number(match[2]);
  if (match === null || Number(match[2]) > 59 || minutes > 1440) {
    ctx.addIssue({ code: 'custom', message: `expected a time as "HH:MM" from 00:00 to 24:00, got ${quote(value)}` });
    return z.NEVER;
  }
  return minutes;
});

const month = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const number = typeof value === 'number' ? value : MONTHS.indexOf(value.trim().slice(0, 3).toLowerCase()) + 1;
  const named = typeof value === 'string' && number > 0 && MONTHS[number - 1]!.startsWith(value.trim().slice(0, 3).toLowerCase()) && /^[a-z]+$/i.test(value.trim());
  if ((typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 12) || named) return number;
  ctx.addIssue({ code: 'custom', message: `expected a month as 1 to 12 or a name (jan, feb, …), got ${quote(value)}` });
  return z.NEVER;
});

const period = z
  .strictObject({
    name: z.string().trim().min(1).max(80).optional(),
    centsPerKwh: rate,
    days: z.enum(['all', 'weekdays', 'weekends'], { error: (issue) => `expected all, weekdays or weekends, got ${quote(issue.input)}` }).default('all'),
    months: z.array(month).min(1, { error: 'expected at least one month (leave months out for all year)' }).optional(),
    from: time.optional(),
    to: time.optional(),
  })
  .transform((p, ctx): PeriodSpec => {
    if ((p.from === undefined) !== (p.to === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give both from and to, or neither for all day', path: [p.from === undefined ? 'from' : 'to'] });
    } else if (p.from !== undefined && p.from % 1440 === p.to! % 1440) {
      ctx.addIssue({ code: 'custom', message: 'from and to are the same time: leave both out for all day', path: ['to'] });
    }
    return { name: p.name ?? null, centsPerKwh: p.centsPerKwh, days: p.days, months: p.months ?? null, from: p.from ?? null, to: p.to ?? null };
  });

const periods = z.array(period).min(1, { error: 'expected at least one period' });

/** A flat rate or a list of periods, told apart by the value's shape so each gets its own precise problems. */
const tariff = z.unknown().transform((value, ctx): TariffSpec => {
  if (typeof value !== 'number' && !Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: `expected a flat rate in c/kWh or a list of time-of-use periods, got ${quote(value)}` });
    return z.NEVER;
  }
  const result = (Array.isArray(value) ? periods : rate).safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

const dailyCents = z.number({ error: (issue) => `expected c/day as a number, got ${quote(issue.input)}` }).min(0, { error: 'expected c/day from 0 to 10000' }).max(10_000, { error: 'expected c/day from 0 to 10000' });

const plan = z.strictObject({
  name: z.string({ error: 'expected a name for the plan' }).trim().min(1, { error: 'expected a name for the plan' }).max(80, { error: 'expected a name of at most 80 characters' }),
  timeZone: z
    .string()
    .refine(isTimeZone, { error: (issue) => `expected an IANA time zone such as Australia/Sydney, got ${quote(issue.input)}` })
    .optional(),
  general: tariff,
  controlledLoad: tariff.optional(),
  feedIn: tariff.optional(),
  dailySupplyCents: dailyCents.default(0),
  controlledLoadDailySupplyCents: dailyCents.default(0),
  monthlyFeeDollars: z.number({ error: (issue) => `expected $/month as a number, got ${quote(issue.input)}` }).min(0, { error: 'expected $/month from 0 to 1000' }).max(1000, { error: 'expected $/month from 0 to 1000' }).default(0),
  holidays: z.array(z.string().refine(isNemDate, { error: (issue) => `expected a date as YYYY-MM-DD, got ${quote(issue.input)}` })).optional(),
});

const plansFile = z.strictObject({
  plans: z.array(plan, { error: 'expected a list of plans under "plans:"' }).min(1, { error: 'expected at least one plan under "plans:"' }).max(MAX_PLANS, { error: `expected at most ${MAX_PLANS} plans` }),
});

type ParsedPlan = z.output<typeof plan>;

/** Where a problem is: `plan "Name" (plans[1]): general[0].from`, or the file's top level. */
function place(path: readonly PropertyKey[], raw: unknown): string {
  if (path[0] !== 'plans' || typeof path[1] !== 'number') return path.length === 0 ? 'the file' : path.map(String).join('.');
  const index = path[1];
  const rawName = (raw as { plans?: Array<{ name?: unknown }> } | null)?.plans?.[index]?.name;
  const name = typeof rawName === 'string' && rawName.trim() !== '' ? `plan ${quote(rawName.trim())} (plans[${index}])` : `plans[${index}]`;
  const field = path
    .slice(2)
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
  return field === '' ? name : `${name}: ${field}`;
}

function invalid(file: string, problems: string[]): CollectorError<'CONFIG_INVALID'> {
  const lines = problems.map((problem) => `${file}: ${problem}`);
  return new CollectorError('CONFIG_INVALID', `invalid plans file:\n${lines.join('\n')}`, { details: { problems: lines } });
}

/** Mistakes zod cannot see: a name used twice, and time-of-use periods that leave part of a day without a rate. */
function crossChecks(plans: readonly ParsedPlan[], raw: unknown): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  plans.forEach((p, index) => {
    if (seen.has(p.name.toLowerCase())) problems.push(`${place(['plans', index, 'name'], raw)}: another plan has the same name`);
    seen.add(p.name.toLowerCase());
    for (const channel of ['general', 'controlledLoad', 'feedIn'] as const) {
      const spec = p[channel];
      if (spec === undefined || typeof spec === 'number') continue;
      const gap = periodGap(spec);
      if (gap !== null) problems.push(`${place(['plans', index, channel], raw)}: no period covers ${gap} (end the list with a period without from/to, days or months)`);
    }
  });
  return problems;
}

function toSpec(p: ParsedPlan): PlanSpec {
  const spec = (t: TariffSpec | undefined) => t ?? null;
  return {
    name: p.name,
    timeZone: p.timeZone ?? null,
    general: p.general,
    controlledLoad: spec(p.controlledLoad),
    feedIn: spec(p.feedIn),
    dailySupplyCents: p.dailySupplyCents,
    controlledLoadDailySupplyCents: p.controlledLoadDailySupplyCents,
    monthlyFeeDollars: p.monthlyFeeDollars,
    holidays: p.holidays ?? [],
  };
}

/** The plans of a file's text; `file` names it in every problem. */
export function parsePlans(text: string, file: string): PlanSpec[] {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const at = err.linePos?.[0];
      throw invalid(file, [`${at === undefined ? '' : `line ${at.line}, column ${at.col}: `}not valid YAML: ${err.message.split('\n')[0]}`]);
    }
    throw err;
  }
  const result = plansFile.safeParse(raw ?? {});
  if (!result.success) throw invalid(file, result.error.issues.map((issue) => `${place(issue.path, raw)}: ${issue.message}`));
  const problems = crossChecks(result.data.plans, raw);
  if (problems.length > 0) throw invalid(file, problems);
  return result.data.plans.map(toSpec);
}

/** Reads and checks a plans file; a missing, unreadable or oversized file is a problem naming it. */
export function loadPlans(file: string): PlanSpec[] {
  let text: string;
  try {
    if (statSync(file).size > MAX_FILE_BYTES) throw invalid(file, [`is larger than ${MAX_FILE_BYTES} bytes: is it the right file?`]);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CollectorError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw invalid(file, [code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code ?? String(err)})`]);
  }
  return parsePlans(text, file);
}
