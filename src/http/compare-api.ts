/**
 * `GET /api/compare?site=&from=&to=&months=`: the plan comparison of `amber-collector compare --json`, with
 * the plans of COMPARE_PLANS_FILE, read at each request so an edited file needs no restart. 404 when no
 * plans file is set, 500 naming every mistake when the file is invalid, 400 for bad parameters. With
 * `battery=1` (and the what-if's battery parameters) it is `compare --battery --json`: the schedules are
 * CPU work, so that comparison runs in the battery worker (http/battery-thread.ts), one at a time with the
 * what-if and the plans, not on this thread.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { z } from 'zod';
import type { BatteryParams } from '../domain/battery-limits.ts';
import type { FixedCharges } from '../domain/fixed-charges.ts';
import { addDays, nemToday } from '../domain/nem-time.ts';
import { isCollectorError } from '../errors.ts';
import { checkCompareRange, comparePlans, lastMonths } from '../plans/plan-comparison.ts';
import { checkWhatIfRange } from '../query/battery-analysis.ts';
import { loadPlans } from '../plans/plan-file.ts';
import type { PlanSpec } from '../plans/tariff-rules.ts';
import { selectSites } from '../query/site-selection.ts';
import { batteryFromQuery, batteryQuery } from './battery-api.ts';
import type { BatteryRunner } from './battery-thread.ts';
import { ReadGate } from './read-gate.ts';
import { badRequest, dateParam, gatedJsonRoute, siteParam } from './read-api.ts';
import { sendJson, type Route } from './server.ts';

export interface CompareApiDeps {
  pool: pg.Pool;
  /** COMPARE_PLANS_FILE; null: the route answers 404. */
  plansFile: string | null;
  /** Amber's fixed charges (FIXED_CHARGES_FILE, read at start-up); null: Amber's column is energy only. */
  fixedCharges?: FixedCharges | null;
  /** `battery=1`: the BATTERY_* defaults, and the runner the battery routes share. */
  battery: { defaults: BatteryParams; runner: BatteryRunner };
  now?: () => Date;
}

const DEFAULT_MONTHS = 12;

const compareQuery = z.strictObject({
  site: siteParam.optional(),
  from: dateParam.optional(),
  to: dateParam.optional(),
  months: z
    .string()
    .regex(/^\d{1,2}$/, { error: (issue) => `expected a whole number of months from 1 to 12, got ${JSON.stringify(issue.input)}`, abort: true })
    .transform(Number)
    .refine((months) => months >= 1 && months <= 12, { error: 'expected a whole number of months from 1 to 12' })
    .optional(),
  battery: z.enum(['0', '1'], { error: (issue) => `expected 1 (with the battery) or 0, got ${JSON.stringify(issue.input)}` }).optional(),
  ...batteryQuery,
});

const BATTERY_NAMES = Object.keys(batteryQuery) as Array<keyof typeof batteryQuery>;

export function compareRoutes(deps: CompareApiDeps): Route[] {
  const now = deps.now ?? (() => new Date());
  // A year of 5-minute usage is a few hundred thousand rows: one comparison at a time, two waiting.
  const gate = new ReadGate({ concurrency: 1, queueLength: 2, maxWaitMs: 2_000 });
  const plansOf = new WeakMap<URL, PlanSpec[]>();
  const inner = gatedJsonRoute('/api/compare', compareQuery, async (query, url) => {
    const problems: string[] = [];
    if (query.from !== undefined && query.months !== undefined) problems.push('months: give either from or months, not both');
    const withBattery = query.battery === '1';
    const batteryGiven = BATTERY_NAMES.filter((name) => query[name] !== undefined);
    if (!withBattery && batteryGiven.length > 0) problems.push(`${batteryGiven.join(', ')}: only with battery=1`);
    const battery = withBattery ? batteryFromQuery(query, deps.battery.defaults, problems) : null;
    const to = query.to ?? addDays(nemToday(now()), -1);
    const from = query.from ?? lastMonths(to, query.months ?? DEFAULT_MONTHS).from;
    // With the battery the work is the what-if's per tariff: its range bounds it the same way.
    if (problems.length === 0) problems.push(...(withBattery ? checkWhatIfRange(from, to, null, { from: 'from', to: 'to', day: 'day' }) : checkCompareRange(from, to, { from: 'from', to: 'to' })));
    if (problems.length > 0) throw badRequest(problems);
    const compare = async () => {
      const [site] = await selectSites(deps.pool, query.site ?? null);
      if (site === undefined) throw badRequest(['site: no sites are stored yet: the collector reads them from Amber when it first runs']);
      const args = { site, from, to, plans: plansOf.get(url)!, battery, fixedCharges: deps.fixedCharges ?? null };
      return battery === null ? comparePlans(deps.pool, args) : deps.battery.runner.run({ kind: 'compare', args });
    };
    // Without the battery the comparison reads on this thread through its own gate; with it, the runner is the gate.
    return withBattery ? compare() : gate.run(compare);
  });
  return [
    {
      ...inner,
      async handle(req: IncomingMessage, res: ServerResponse, url: URL) {
        if (deps.plansFile === null) {
          sendJson(res, 404, { error: 'no plans to compare: set COMPARE_PLANS_FILE to a YAML file of plans (see examples/compare-plans.yaml)' });
          return;
        }
        try {
          plansOf.set(url, loadPlans(deps.plansFile));
        } catch (err) {
          if (!isCollectorError(err, 'CONFIG_INVALID')) throw err;
          sendJson(res, 500, { error: 'COMPARE_PLANS_FILE is not a valid plans file', problems: err.details.problems ?? [err.message] });
          return;
        }
        await inner.handle(req, res, url);
      },
    },
  ];
}
