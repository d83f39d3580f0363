/**
 * The monthly statement written out: as a bill for people (text), and as CSV for a spreadsheet or an
 * accountant, either its lines or every interval's cost. Both CSVs sum back to the statement's figures:
 * the lines' amounts to its total, each channel's interval costs (in cents, exact) to its energy line.
 */
import type { IntervalCost } from '../../query/cost-model.ts';
import type { Statement } from '../../query/statement.ts';
import { csvLine, fixed, formatTable, money, type TableColumn } from './format.ts';

interface Line {
  description: string;
  quantity: string;
  rate: string;
  amount: string;
}

export function renderStatement(s: Statement): string {
  const basis = s.energyOnlyReason === null ? '' : ` (${s.basis}: ${s.energyOnlyReason})`;
  const heading = [
    `Statement for site ${s.siteId}, ${s.month}: ${s.from} to ${s.to}, ${s.days} ${s.days === 1 ? 'day' : 'days'} (NEM time, UTC+10)`,
    `Dollars incl. GST; feed-in that earned is negative${basis}`,
    '',
  ];
  const columns: TableColumn<Line>[] = [
    { header: 'LINE', value: (l) => l.description },
    { header: 'QUANTITY', numeric: true, value: (l) => l.quantity },
    { header: 'RATE', numeric: true, value: (l) => l.rate },
    { header: 'AMOUNT', numeric: true, value: (l) => l.amount },
  ];
  const energy = s.energy.map((l) => ({
    description: `Energy ${l.channelId} (${l.channelType})`,
    quantity: `${fixed(l.kwh, 3)} kWh`,
    rate: l.averageCentsPerKwh === null ? '' : `${fixed(l.averageCentsPerKwh, 2)} c/kWh avg`,
    amount: money(l.dollars),
  }));
  const charges = s.fixed.map((l) => ({
    description: `${l.description}${l.from === s.from && l.to === s.to ? '' : ` ${l.from} to ${l.to}`}`,
    quantity: `${l.quantity} ${l.quantity === 1 ? l.unit.slice(0, -1) : l.unit}`,
    rate: l.unit === 'days' ? `${l.rate} c/day` : `${money(l.rate)}/month`,
    amount: money(l.dollars),
  }));
  const footer = [
    { description: 'Energy', quantity: '', rate: '', amount: money(s.energyDollars) },
    { description: s.energyOnlyReason === null ? 'Fixed charges' : 'Fixed charges (not known)', quantity: '', rate: '', amount: money(s.fixedDollars) },
    { description: s.energyOnlyReason === null ? 'TOTAL' : 'TOTAL (energy only)', quantity: '', rate: '', amount: money(s.totalDollars) },
  ];
  const notes = s.notes.map((note) => `Note: ${note}\n`).join('');
  return `${heading.join('\n')}\n${formatTable(columns, [...energy, ...charges], footer)}${notes}`;
}

/** The statement's lines, one per row, then the total; amounts in dollars with cents. */
export function statementLinesCsv(s: Statement): string {
  const header = csvLine(['site', 'month', 'section', 'description', 'channel', 'from', 'to', 'quantity', 'unit', 'rate', 'rate_unit', 'amount_dollars', 'basis']);
  const row = (values: Array<string | number | null>) => csvLine(values.map((v) => (v === null ? null : String(v))));
  const energy = s.energy.map((l) =>
    row([s.siteId, s.month, 'energy', `Energy ${l.channelType}`, l.channelId, s.from, s.to, l.kwh, 'kWh', l.averageCentsPerKwh, 'c/kWh', l.dollars.toFixed(2), s.basis]),
  );
  const charges = s.fixed.map((l) =>
    row([s.siteId, s.month, l.kind, l.description, l.channelId, l.from, l.to, l.quantity, l.unit, l.rate, l.unit === 'days' ? 'c/day' : '$/month', l.dollars.toFixed(2), s.basis]),
  );
  const total = row([s.siteId, s.month, 'total', 'Total', null, s.from, s.to, null, null, null, null, s.totalDollars.toFixed(2), s.basis]);
  return header + energy.join('') + charges.join('') + total;
}

/** Every register's every interval: kWh and price as stored, cost in cents as their exact product. */
export function intervalCostsCsv(siteId: string, rows: readonly IntervalCost[]): string {
  const header = csvLine(['site', 'start', 'end', 'channel', 'channel_type', 'kwh', 'price_c_per_kwh', 'cost_cents', 'quality']);
  return header + rows.map((r) => csvLine([siteId, r.start, r.end, r.channelId, r.channelType, r.kwh, r.perKwh, r.cents, r.quality])).join('');
}
