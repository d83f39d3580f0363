/**
 * The rules battery parameters obey wherever they come from (BATTERY_* variables, command options, query
 * parameters, a JSON body), so every surface refuses the same values with the same words.
 */
/** A battery as the model (battery/model.ts) and every surface that takes one describe it. */
export interface BatteryParams {
  capacityKwh: number;
  powerKw: number;
  /** Round trip, in (0, 1]; each direction is its square root. */
  efficiency: number;
  /** Share of the capacity kept in reserve, in [0, 1). */
  reserve: number;
  /** Most kW the battery may add to the export; null for no limit. */
  exportLimitKw: number | null;
}

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
const BATTERY_RULES: Readonly<Record<keyof BatteryParams, Rule>> = {
  capacityKwh: { ok: (v) => v > 0 && v <= 10_000, expected: 'a number of kWh greater than 0 and at most 10000' },
  powerKw: { ok: (v) => v > 0 && v <= 10_000, expected: 'a number of kW greater than 0 and at most 10000' },
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
export function checkBatteryValue(field: keyof BatteryParams, raw: unknown): { value: number } | { problem: string } {
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
 * named as that surface calls it (`--capacity`, `capacity`, `battery.capacityKwh`). Every problem is listed.
 */
export function batteryParamsFrom(
  raw: Partial<Record<keyof BatteryParams, unknown>>,
  names: Readonly<Record<keyof BatteryParams, string>>,
  defaults: BatteryParams,
): { params: BatteryParams; problems: string[] } {
  const params = { ...defaults };
  const problems: string[] = [];
  for (const field of Object.keys(BATTERY_RULES) as Array<keyof BatteryParams>) {
    if (raw[field] === undefined) continue;
    const checked = checkBatteryValue(field, raw[field]);
    if ('value' in checked) params[field] = checked.value;
    else problems.push(`${names[field]}: ${checked.problem}`);
  }
  if (problems.length === 0 && params.powerKw > MAX_POWER_PER_KWH * params.capacityKwh) {
    // Named as the request gave it: the power when it came with the request, else the capacity that made the default too strong.
    const name = raw.powerKw === undefined && raw.capacityKwh !== undefined ? names.capacityKwh : names.powerKw;
    problems.push(
      `${name}: the power may be at most ${MAX_POWER_PER_KWH} kW per kWh of capacity (${MAX_POWER_PER_KWH * params.capacityKwh} kW for ${params.capacityKwh} kWh), got ${params.powerKw} kW`,
    );
  }
  return { params, problems };
}
