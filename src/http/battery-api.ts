/**
 * The battery routes on the daemon's HTTP server, protected like the read API:
 *
 *   GET  /api/battery/what-if     what a battery would have saved (?site, from, to, day, soc, capacity, power,
 *                                 chargePower, dischargePower, efficiency, reserve, exportLimit; dates are NEM
 *                                 days, `to` inclusive; soc in kWh or a percentage such as 50%)
 *   GET  /api/optimize/{siteId}   a schedule over the latest archived forecast (?capacity, power, chargePower,
 *                                 dischargePower, efficiency, reserve, exportLimit, soc, horizon; BATTERY_* defaults)
 *   POST /api/optimize            the same from a JSON body: {site, battery: {capacityKwh, powerKw, chargeKw,
 *                                 dischargeKw, efficiency, reserve, exportLimitKw}, socKwh or socPercent, horizonHours}
 *
 * The work is CPU-bound (a year of 5-minute intervals takes tens of seconds), so it runs in a worker thread
 * (http/battery-thread.ts) with a deadline and a heap of its own: health checks, metrics, the read API and
 * collection never wait on it, and past the deadline (a 504) or the heap (a 503) the thread is stopped. One
 * runs at a time and a request that finds one running gets a 503 to retry, instead of a queue a flood of
 * requests could grow.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { z } from 'zod';
import { batteryParamsFrom, parseDecimal, parseStartCharge, startChargeKwh, type BatteryParams, type StartCharge } from '../domain/battery-limits.ts';
import { addDays, nemToday } from '../domain/nem-time.ts';
import type { DatabaseConnection } from '../config/database.ts';
import { checkWhatIfRange, MAX_HORIZON_HOURS } from '../query/battery-analysis.ts';
import { batteryRunner, type BatteryRunner, type BatteryThreadLimits } from './battery-thread.ts';
import { selectSites } from '../query/site-selection.ts';
import { answerFailure, badRequest, dateParam, gatedJsonRoute, siteParam } from './read-api.ts';
import { sendJson, type Route } from './server.ts';

export interface BatteryApiDeps {
  /** The read pool (see daemon.ts). */
  pool: pg.Pool;
  /** BATTERY_* defaults. */
  defaults: BatteryParams;
  /** The clock for default ranges and "now"; tests pin it. */
  now?: () => Date;
  /** The runner the daemon's battery work shares (one at a time). Default: one of this route's own. */
  runner?: BatteryRunner;
  /** Without a runner: the database the calculation's thread connects to on its own. Default: the pool's. */
  connection?: DatabaseConnection;
  /** Without a runner: default two minutes, and a 96 MB heap (tests shorten the deadline). */
  limits?: BatteryThreadLimits;
}

/** A JSON body larger than this is refused unread: a plan request is a few hundred bytes. */
export const MAX_BODY_BYTES = 16 * 1024;
const DEFAULT_WHAT_IF_DAYS = 30;

const QUERY_NAMES = {
  capacityKwh: 'capacity',
  powerKw: 'power',
  chargeKw: 'chargePower',
  dischargeKw: 'dischargePower',
  efficiency: 'efficiency',
  reserve: 'reserve',
  exportLimitKw: 'exportLimit',
} as const;
const BODY_NAMES = {
  capacityKwh: 'battery.capacityKwh',
  powerKw: 'battery.powerKw',
  chargeKw: 'battery.chargeKw',
  dischargeKw: 'battery.dischargeKw',
  efficiency: 'battery.efficiency',
  reserve: 'battery.reserve',
  exportLimitKw: 'battery.exportLimitKw',
} as const;

/** The battery's query parameters, as /api/battery/what-if, /api/optimize and /api/compare take them. */
export const batteryQuery = {
  capacity: z.string().optional(),
  power: z.string().optional(),
  chargePower: z.string().optional(),
  dischargePower: z.string().optional(),
  efficiency: z.string().optional(),
  reserve: z.string().optional(),
  exportLimit: z.string().optional(),
};

const whatIfQuery = z.strictObject({
  site: siteParam.optional(),
  from: dateParam.optional(),
  to: dateParam.optional(),
  day: dateParam.optional(),
  soc: z.string().optional(),
  ...batteryQuery,
});
const optimizeQuery = z.strictObject({ soc: z.string().optional(), horizon: z.string().optional(), ...batteryQuery });

const finite = z.number({ error: (issue) => `expected a number, got ${JSON.stringify(issue.input) ?? String(issue.input)}` });
const optimizeBody = z.strictObject({
  site: z.string({ error: 'expected a site id' }).trim().min(1, { error: 'expected a site id' }).max(200),
  battery: z
    .strictObject({
      capacityKwh: finite.optional(),
      powerKw: finite.optional(),
      chargeKw: finite.optional(),
      dischargeKw: finite.optional(),
      efficiency: finite.optional(),
      reserve: finite.optional(),
      exportLimitKw: finite.nullable().optional(),
    })
    .optional(),
  socKwh: finite.optional(),
  socPercent: finite.optional(),
  horizonHours: finite.optional(),
});

export type BatteryQuery = z.infer<z.ZodObject<typeof batteryQuery>>;

/** The battery of the query's parameters over the BATTERY_* defaults; its mistakes are added to `problems`. */
export function batteryFromQuery(query: BatteryQuery, defaults: BatteryParams, problems: string[]): BatteryParams {
  const checked = batteryParamsFrom(
    {
      capacityKwh: query.capacity,
      powerKw: query.power,
      chargeKw: query.chargePower,
      dischargeKw: query.dischargePower,
      efficiency: query.efficiency,
      reserve: query.reserve,
      exportLimitKw: query.exportLimit,
    },
    QUERY_NAMES,
    defaults,
  );
  problems.push(...checked.problems);
  return checked.params;
}

export function batteryRoutes(deps: BatteryApiDeps): Route[] {
  const { pool, defaults } = deps;
  const now = deps.now ?? (() => new Date());
  // One calculation at a time and none waiting: a second request meanwhile gets a 503 with Retry-After.
  const runner = deps.runner ?? batteryRunner({ pool, connection: deps.connection, limits: deps.limits });
  const battery = (query: BatteryQuery, problems: string[]) => batteryFromQuery(query, defaults, problems);

  /** `soc=` as kWh or a percentage; null when not given, and when it is wrong (its problem is added). */
  const socParam = (raw: string | undefined, problems: string[]): StartCharge | null => {
    if (raw === undefined) return null;
    const given = parseStartCharge(raw);
    if (given === null) problems.push(`soc: expected kWh or a percentage of the capacity such as 50%, got ${JSON.stringify(raw.slice(0, 40))}`);
    return given;
  };

  /** The starting charge in kWh once the battery is valid; null when none was given. */
  const startSoc = (given: StartCharge | null, params: BatteryParams, name: string, problems: string[]): number | null => {
    if (given === null || problems.length > 0) return null;
    const checked = startChargeKwh(given, params, name);
    if ('kwh' in checked) return checked.kwh;
    problems.push(checked.problem);
    return null;
  };

  const plan = async (args: { siteId: string; params: BatteryParams; soc: StartCharge | null; horizonHours: number | null }, problems: string[], names: { soc: string; horizon: string }) => {
    const socKwh = startSoc(args.soc, args.params, names.soc, problems);
    if (args.horizonHours !== null && !(args.horizonHours > 0 && args.horizonHours <= MAX_HORIZON_HOURS)) {
      problems.push(`${names.horizon}: expected hours greater than 0 and at most ${MAX_HORIZON_HOURS}, got ${args.horizonHours}`);
    }
    if (problems.length > 0) throw badRequest(problems);
    const [site] = await selectSites(pool, args.siteId);
    return runner.run({ kind: 'plan', args: { site: site!, params: args.params, socKwh, horizonHours: args.horizonHours, now: now() } });
  };

  return [
    gatedJsonRoute('/api/battery/what-if', whatIfQuery, async (query) => {
      const problems: string[] = [];
      const params = battery(query, problems);
      const startSocKwh = startSoc(socParam(query.soc, problems), params, 'soc', problems);
      const to = query.to ?? addDays(nemToday(now()), -1);
      const from = query.from ?? addDays(to, -(DEFAULT_WHAT_IF_DAYS - 1));
      problems.push(...checkWhatIfRange(from, to, query.day ?? null, { from: 'from', to: 'to', day: 'day' }));
      if (problems.length > 0) throw badRequest(problems);
      const [site] = await selectSites(pool, query.site ?? null);
      if (site === undefined) throw badRequest(['site: no sites are stored yet']);
      return runner.run({ kind: 'what-if', args: { site, from, to, params, day: query.day ?? null, startSocKwh } });
    }),
    gatedJsonRoute('/api/optimize/*', optimizeQuery, async (query, url) => {
      const problems: string[] = [];
      const siteId = decodeURIComponent(url.pathname.slice('/api/optimize/'.length));
      if (siteId === '' || siteId.includes('/')) throw badRequest(['siteId: expected /api/optimize/{siteId}']);
      const params = battery(query, problems);
      const number = (name: string, raw: string | undefined) => {
        if (raw === undefined) return null;
        const value = parseDecimal(raw);
        if (value === null) problems.push(`${name}: expected a number, got ${JSON.stringify(raw.slice(0, 40))}`);
        return value;
      };
      const soc = socParam(query.soc, problems);
      const horizonHours = number('horizon', query.horizon);
      return plan({ siteId, params, soc, horizonHours }, problems, { soc: 'soc', horizon: 'horizon' });
    }),
    {
      method: 'POST',
      path: '/api/optimize',
      protected: true,
      async handle(req: IncomingMessage, res: ServerResponse) {
        try {
          const body = await readJsonBody(req, res);
          if (body === undefined) return;
          const parsed = optimizeBody.safeParse(body);
          if (!parsed.success) {
            throw badRequest(parsed.error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message)));
          }
          const { site, socKwh, socPercent, horizonHours } = parsed.data;
          // An explicit null export limit means none, whatever the default.
          const { exportLimitKw, ...given } = parsed.data.battery ?? {};
          const checked = batteryParamsFrom({ ...given, exportLimitKw: exportLimitKw ?? undefined }, BODY_NAMES, defaults);
          const params = { ...checked.params, exportLimitKw: exportLimitKw === null ? null : checked.params.exportLimitKw };
          const problems = [...checked.problems];
          if (socKwh !== undefined && socPercent !== undefined) problems.push('socKwh/socPercent: give the starting charge one way, not both');
          const soc = socPercent !== undefined ? { percent: socPercent } : socKwh !== undefined ? { kwh: socKwh } : null;
          const result = await plan({ siteId: site, params, soc, horizonHours: horizonHours ?? null }, problems, {
            soc: socPercent !== undefined ? 'socPercent' : 'socKwh',
            horizon: 'horizonHours',
          });
          sendJson(res, 200, result);
        } catch (err) {
          answerFailure(res, err, 'invalid request');
        }
      },
    },
  ];
}

/**
 * The request's JSON body, or undefined once a 413 (too large), 415 (not JSON) or 400 (not parseable) has
 * been sent. A body over the limit is not read any further.
 */
async function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
    sendJson(res, 415, { error: 'the body must be JSON (content-type: application/json)' });
    return undefined;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return tooLarge(req, res);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return tooLarge(req, res);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    sendJson(res, 400, { error: 'invalid request', problems: ['body: not valid JSON'] });
    return undefined;
  }
}

function tooLarge(req: IncomingMessage, res: ServerResponse): undefined {
  res.setHeader('connection', 'close');
  sendJson(res, 413, { error: `the body may be at most ${MAX_BODY_BYTES} bytes` });
  req.destroy();
  return undefined;
}
