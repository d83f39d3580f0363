// The dashboard's Bill panel, loaded after helpers.js and before app.js: one month's statement from /api/bill
// (energy per meter channel, fixed charges, total) laid out as on an Amber bill, and "energy only" when the
// collector has no FIXED_CHARGES_FILE for the site.
'use strict';

/* exported dashboardBill */
const dashboardBill = (() => {
  const { api, el, show, message, money, fixed, nemToday, addDays } = dashboardHelpers;

  /** The month of yesterday, YYYY-MM: the newest month with usage (the month in progress, to date). */
  function newestMonth() {
    return addDays(nemToday(), -1).slice(0, 7);
  }

  /** The statement of the form's month for the page's site; a failure is shown in its place. */
  async function renderBill(state) {
    const input = document.getElementById('bill-month');
    if (!input.value) input.value = newestMonth();
    try {
      const s = await api('/api/bill', { site: state.site, month: input.value });
      const headings = ['Line', 'Quantity', 'Rate', 'Amount'];
      // On a phone each row stacks into labelled lines (app.css), as the Collection table does.
      const row = (cells, className) => el('tr', { className }, cells.map((text, i) => {
        const cell = el('td', { className: i > 0 ? 'num' : '', text });
        cell.setAttribute('data-label', headings[i]);
        return cell;
      }));
      const energy = s.energy.map((l) => row([`Energy ${l.channelId} (${l.channelType})`, `${fixed(l.kwh, 3)} kWh`, l.averageCentsPerKwh === null ? '' : `${fixed(l.averageCentsPerKwh, 2)} c/kWh avg`, money(l.dollars)]));
      const charges = s.fixed.map((l) => row([
        l.from === s.from && l.to === s.to ? l.description : `${l.description} ${l.from} to ${l.to}`,
        l.unit === 'days' ? `${l.quantity} days` : `${l.quantity} months`,
        l.unit === 'days' ? `${l.rate} c/day` : `${money(l.rate)}/month`,
        money(l.dollars),
      ]));
      const energyOnly = s.energyOnlyReason !== null;
      const totals = [
        row(['Energy', '', '', money(s.energyDollars)], 'total'),
        row([energyOnly ? 'Fixed charges (not known)' : 'Fixed charges', '', '', money(s.fixedDollars)], 'total'),
        row([energyOnly ? 'Total (energy only)' : 'Total', '', '', money(s.totalDollars)], 'total'),
      ];
      const head = el('tr', {}, headings.map((h, i) => el('th', { className: i > 0 ? 'num' : '', text: h })));
      document.getElementById('bill-meta').textContent =
        `${s.from} to ${s.to}, ${s.days} days` + (energyOnly ? ` · energy only: ${s.energyOnlyReason}` : '') + s.notes.map((n) => ` · ${n}`).join('');
      show('bill-statement', el('table', { className: 'stack' }, [el('thead', {}, head), el('tbody', {}, [...energy, ...charges, ...totals])]));
    } catch (err) {
      document.getElementById('bill-meta').textContent = '';
      show('bill-statement', message(`Could not load: ${err.message}`, 'error'));
    }
  }

  return { renderBill };
})();
