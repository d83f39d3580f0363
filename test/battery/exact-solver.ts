/**
 * The battery model as a mixed-integer program, solved exactly by HiGHS: the reference the dynamic
 * programme is checked against (tests and `npm run bench`). Per interval: charge c, discharge e, state of
 * charge s, import i, export x, and two binaries (charging or discharging; importing or exporting). The LP
 * relaxation (binaries in [0, 1]) may charge and discharge at once, so its optimum bounds the MIP's from below.
 */
import highsModule from 'highs';
import { exportRoom, limitsOf, type BatteryParams, type Series } from '../../src/battery/model.ts';

export interface ExactResult {
  mipCents: number;
  lpCents: number;
  /** The MIP's optimality gap as HiGHS reports it (0 when proven optimal). */
  mipGap: number;
}

// The package's types describe its CommonJS build; its ES module's default export is the loader itself.
const loadHighs = highsModule as unknown as typeof highsModule.default;
const highs = await loadHighs();

export function solveExactly(series: Series, params: BatteryParams, options: { timeLimitSeconds?: number } = {}): ExactResult {
  const text = lpText(series, params);
  const lp = highs.solve(text.replace(/\nBinaries\n[^]*?\nEnd/, '\nEnd'), { output_flag: false });
  if (lp.Status !== 'Optimal') throw new Error(`LP relaxation: ${lp.Status}`);
  const mip = highs.solve(text, { output_flag: false, mip_rel_gap: 1e-7, time_limit: options.timeLimitSeconds ?? 120 });
  if (mip.Status !== 'Optimal') throw new Error(`MIP: ${mip.Status}`);
  const overlap = overlapCents(series);
  return { mipCents: mip.ObjectiveValue + overlap, lpCents: lp.ObjectiveValue + overlap, mipGap: (mip as { MipGap?: number }).MipGap ?? 0 };
}

/**
 * What was metered on both registers in one interval is billed on both (battery/model.ts, `meteredCost`) whatever
 * the battery does: a constant the program leaves out and the scores include.
 */
function overlapCents(series: Series): number {
  if (series.importKwh === undefined || series.exportKwh === undefined) return 0;
  let cents = 0;
  for (let t = 0; t < series.length; t++) cents += Math.min(series.importKwh[t]!, series.exportKwh[t]!) * (series.importPrice[t]! + series.feedInPrice[t]!);
  return cents;
}

const num = (value: number) => {
  const text = value.toFixed(10);
  return text === '-0.0000000000' ? '0' : text;
};
const term = (coefficient: number, name: string) => `${coefficient < 0 ? '-' : '+'} ${num(Math.abs(coefficient))} ${name}`;

function lpText(series: Series, params: BatteryParams): string {
  const { oneWay, minSoc, maxSoc } = limitsOf(params);
  const objective: string[] = [];
  const rows: string[] = [];
  const bounds: string[] = [];
  const binaries: string[] = [];
  for (let t = 0; t < series.length; t++) {
    const flowIn = params.chargeKw * series.hours[t]!;
    const flowOut = params.dischargeKw * series.hours[t]!;
    const d = series.demandKwh[t]!;
    const big = Math.abs(d) + flowIn + flowOut + 1;
    objective.push(term(series.importPrice[t]!, `i${t}`), term(series.feedInPrice[t]!, `x${t}`));
    // s_t = s_{t-1} + η c_t − e_t / η
    const previous = t === 0 ? '' : ` - s${t - 1}`;
    rows.push(`soc${t}: s${t}${previous} ${term(-oneWay, `c${t}`)} ${term(1 / oneWay, `e${t}`)} = ${num(t === 0 ? minSoc : 0)}`);
    rows.push(`net${t}: i${t} - x${t} - c${t} + e${t} = ${num(d)}`);
    rows.push(`chg${t}: c${t} ${term(-flowIn, `b${t}`)} <= 0`);
    rows.push(`dis${t}: e${t} ${term(flowOut, `b${t}`)} <= ${num(flowOut)}`);
    rows.push(`imp${t}: i${t} ${term(-big, `z${t}`)} <= 0`);
    rows.push(`exp${t}: x${t} ${term(big, `z${t}`)} <= ${num(big)}`);
    bounds.push(`0 <= c${t} <= ${num(flowIn)}`, `0 <= e${t} <= ${num(Math.min(flowOut, exportRoom(series, t, params)))}`);
    bounds.push(`${num(minSoc)} <= s${t} <= ${num(maxSoc)}`, `0 <= b${t} <= 1`, `0 <= z${t} <= 1`);
    binaries.push(`b${t}`, `z${t}`);
  }
  return ['Minimize', ` obj: ${objective.join(' ')}`, 'Subject To', ...rows.map((r) => ` ${r}`), 'Bounds', ...bounds.map((b) => ` ${b}`), 'Binaries', ` ${binaries.join(' ')}`, 'End'].join('\n');
}
