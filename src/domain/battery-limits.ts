/**
 * The rules battery parameters obey wherever they come from (BATTERY_* variables, command options, query
 * parameters, a JSON body), so every surface refuses the same values with the same words.
 */
/** A battery as the model (battery/model.ts) and every surface that takes one describe it. */
export interface BatteryParams {
  capacityKwh: number;
  /** Most power drawn at the meter to charge, kW. */
  chargeKw: number;
  /** Most power delivered at the meter when discharging, kW (inverters often differ: 3 kW in, 5 kW out). */
  dischargeKw: number;
  /** Round trip, in (0, 1]; each direction is its square root. */
  efficiency: number;
  /** Share of the capacity kept in reserve, in [0, 1). */
  reserve: number;
  /** Most kW the battery may add to the export; null for no limit. */
  exportLimitKw: number | null;
}

/**
 * What a surface may give: every parameter, and `powerKw`, the shorthand for a charge and a discharge power
 * that are the same (what `--power`, `power`, `battery.powerKw` and BATTERY_POWER_KW always meant). A
 * direction given on its own wins over the shorthand.
 */
export type BatteryField = keyof BatteryParams | 'powerKw';

interface Rule {
  ok(value: number): boolean;
  /** What is expected, as in "expected a number greater than 0 (kWh)". */
  expected: string;
}

const MIN_EFFICIENCY = 0.5;
/**
 * The most power per kWh of capacity (2 kW per kWh: full in half an hour; home batteries take one to three
 * hours). Beyond it each interval may cross the whole state grid, and a year's what-if takes minutes.
 */
const MAX_POWER_PER_KWH = 2;

/**
 * Generous bounds: beyond them a value is a typo (kW for W) or no battery anyone sells, and the work of a
 * calculation grows without bound. An efficiency near 0 makes each move cost next to nothing, so the state
 * grid takes thousands of levels and moves (0.0001 took minutes); no battery loses half of what it stores.
 */
const POWER_RULE: Rule = { ok: (v) => v > 0 && v <= 10_000, expected: 'a number of kW greater than 0 and at most 10000' };
const BATTERY_RULES: Readonly<Record<BatteryField, Rule>> = {
  capacityKwh: { ok: (v) => v > 0 && v <= 10_000, expected: 'a number of kWh greater than 0 and at most 10000' },
  powerKw: POWER_RULE,
  chargeKw: POWER_RULE,
  dischargeKw: POWER_RULE,
  efficiency: { ok: (v) => v >= MIN_EFFICIENCY && v <= 1, expected: `a round-trip efficiency from ${MIN_EFFICIENCY} to 1` },
  reserve: { ok: (v) => v >= 0 && v < 1, expected: 'a share of the capacity from 0 up to (not including) 1' },
  exportLimitKw: { ok: (v) => v >= 0 && v <= 10_000, expected: 'a number of kW from 0 to 10000' },
};

const DECIMAL = /^-?(\d+\.?\d*|\.\d+)$/;

/** A number given as text (an option, a query parameter or a variable): plain decimal notation only. */
export function parseDecimal(raw: string): number | null {
  const text = raw.trim();
  return DECIMAL.test(text) ? Number(text) : null;
}

/**
 * Checks a value against its rule: the number, or what was expected (the caller names the parameter as it
 * calls it). `raw` is text (options, query parameters, variables) or what a JSON body held.
 */
export function checkBatteryValue(field: BatteryField, raw: unknown): { value: number } | { problem: string } {
  const rule = BATTERY_RULES[field];
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseDecimal(raw) : null;
  if (value === null || !Number.isFinite(value) || !rule.ok(value)) return { problem: `expected ${rule.expected}, got ${describe(raw)}` };
  return { value };
}

function describe(raw: unknown): string {
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * The battery parameters a request gives (`raw`, by field; undefined takes the default), each checked and
 * named as that surface calls it (`--capacity`, `capacity`, `battery.capacityKwh`). `powerKw` sets both
 * directions; `chargeKw` or `dischargeKw` given as well win for their direction. Every problem is listed.
 */
export function batteryParamsFrom(
  raw: Partial<Record<BatteryField, unknown>>,
  names: Readonly<Record<BatteryField, string>>,
  defaults: BatteryParams,
): { params: BatteryParams; problems: string[] } {
  const params = { ...defaults };
  const problems: string[] = [];
  const checkedValue = (field: BatteryField): number | undefined => {
    if (raw[field] === undefined) return undefined;
    const checked = checkBatteryValue(field, raw[field]);
    if ('value' in checked) return checked.value;
    problems.push(`${names[field]}: ${checked.problem}`);
    return undefined;
  };
  const power = checkedValue('powerKw');
  if (power !== undefined) params.chargeKw = params.dischargeKw = power;
  for (const field of ['capacityKwh', 'chargeKw', 'dischargeKw', 'efficiency', 'reserve', 'exportLimitKw'] as const) {
    const value = checkedValue(field);
    if (value !== undefined) params[field] = value;
  }
  if (problems.length > 0) return { params, problems };
  for (const direction of ['chargeKw', 'dischargeKw'] as const) {
    if (params[direction] <= MAX_POWER_PER_KWH * params.capacityKwh) continue;
    // Named as the request gave it: the direction or the shorthand when given, else the capacity that made the default too strong.
    const given = raw[direction] !== undefined ? direction : raw.powerKw !== undefined ? 'powerKw' : null;
    const name = given === null && raw.capacityKwh !== undefined ? names.capacityKwh : names[given ?? direction];
    problems.push(
      `${name}: the power may be at most ${MAX_POWER_PER_KWH} kW per kWh of capacity (${MAX_POWER_PER_KWH * params.capacityKwh} kW for ${params.capacityKwh} kWh), got ${params[direction]} kW`,
    );
    break;
  }
  return { params, problems };
}

/**
 * The battery as a report echoes it: both directions, and `powerKw` as well (the one power when both are
 * the same, null when they differ) so readers of the single power keep working.
 */
export function batteryEcho(params: BatteryParams): BatteryParams & { powerKw: number | null } {
  const { capacityKwh, chargeKw, dischargeKw, efficiency, reserve, exportLimitKw } = params;
  return { capacityKwh, powerKw: chargeKw === dischargeKw ? chargeKw : null, chargeKw, dischargeKw, efficiency, reserve, exportLimitKw };
}

/** A starting charge as given: kWh, or a percentage of the capacity. */
export type StartCharge = { kwh: number } | { percent: number };

/**
 * A starting charge written as text (`--soc`, `soc=`): kWh (`6.75`) or a percentage of the capacity
 * (`50%`); null when it is neither.
 */
export function parseStartCharge(raw: string): StartCharge | null {
  const text = raw.trim();
  const percent = text.endsWith('%') ? parseDecimal(text.slice(0, -1)) : null;
  if (percent !== null) return { percent };
  const kwh = parseDecimal(text);
  return kwh === null ? null : { kwh };
}

/**
 * The starting charge in kWh, or the problem with it (`name` is how the caller calls it): a percentage
 * must lie in [0, 100], and either way the charge between the reserve and the capacity.
 */
export function startChargeKwh(start: StartCharge, params: BatteryParams, name: string): { kwh: number } | { problem: string } {
  const min = params.reserve * params.capacityKwh;
  if ('percent' in start) {
    const { percent } = start;
    const floor = params.reserve * 100;
    if (!Number.isFinite(percent) || percent < floor - 1e-9 || percent > 100 + 1e-9) {
      return { problem: `${name}: expected a percentage of the capacity from the reserve (${floor}%) to 100%, got ${percent}%` };
    }
    return { kwh: Math.min(params.capacityKwh, Math.max(min, (percent / 100) * params.capacityKwh)) };
  }
  if (Number.isFinite(start.kwh) && start.kwh >= min - 1e-9 && start.kwh <= params.capacityKwh + 1e-9) return { kwh: Math.min(params.capacityKwh, Math.max(min, start.kwh)) };
  return { problem: `${name}: expected kWh from the reserve (${min}) to the capacity (${params.capacityKwh}), or a percentage such as 50%, got ${start.kwh}` };
}
