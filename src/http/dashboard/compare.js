// The dashboard's "Other plans" section, loaded after helpers.js and before app.js: the site's own usage of the
// last 12 months priced under the plans of COMPARE_PLANS_FILE, month by month beside what Amber billed, from
// /api/compare. A comparison reads a year of intervals, so it is fetched again only when the site, the NEM
// day or the "with battery" choice (and then the battery form's battery) changes, not at every refresh. With
// the battery each figure has its "with battery" one beside it: the what-if's battery scheduled for that tariff.
'use strict';

/* exported dashboardCompare */
const dashboardCompare = (() => {
  const { api, el, show, message, money, nemToday } = dashboardHelpers;
  const { formBattery } = dashboardBattery;
  let shownFor = null;

  const dollars = (cents) => money(cents === null ? null : cents / 100);

  async function renderCompare(state) {
    const battery = document.getElementById('compare-battery').checked ? { battery: 1, ...formBattery() } : {};
    const key = JSON.stringify([state.site, nemToday(), battery]);
    if (shownFor === key) return;
    const meta = document.getElementById('compare-meta');
    let r;
    try {
      if (battery.battery) show('compare-table', message('Calculating…'));
      r = await api('/api/compare', { site: state.site, months: 12, ...battery });
    } catch (err) {
      if (!/: HTTP 404\b/.test(err.message)) throw err;
      meta.textContent = '';
      show('compare-table', message('No plans to compare: set COMPARE_PLANS_FILE to a plans file (see examples/compare-plans.yaml in the project).'));
      shownFor = key;
      return;
    }
    if (r.months.length === 0) {
      meta.textContent = '';
      show('compare-table', message('No usage stored for the last 12 months yet.'));
      shownFor = key;
      return;
    }
    const energyOnly = r.basis === 'energy only';
    meta.textContent = `${r.from} to ${r.to} · incl. GST · "vs Amber" is the plan minus Amber: negative means the plan would have been cheaper${
      energyOnly ? ' · Amber is energy only (no FIXED_CHARGES_FILE), so differences compare energy alone' : ''
    }${r.battery === null ? '' : ` · with battery: the battery form's battery, scheduled with perfect foresight for each tariff's own prices`}`;
    const withBattery = r.battery !== null;
    // Each money column, and with the battery its "with battery" figure beside it.
    const pair = (heading) => (withBattery ? [heading, `${heading} with battery`] : [heading]);
    const headings = ['Month', ...pair(energyOnly ? 'Amber (energy only)' : 'Amber'), ...r.plans.flatMap((plan) => [...pair(plan.name), ...pair('vs Amber')])];
    const head = el('tr', {}, headings.map((h, i) => el('th', { className: i === 0 ? '' : 'num', text: h })));
    const amount = (cents) => el('td', { className: 'num', text: dollars(cents) });
    const difference = (cents) => el('td', { className: `num ${cents < 0 ? 'cheaper' : 'dearer'}`, text: dollars(cents) });
    const row = (m, total) => {
      const cells = [
        el('td', { text: total ? 'Total' : m.month }),
        amount(m.amber.totalCents),
        ...(withBattery ? [amount(m.amber.withBatteryCents)] : []),
        ...m.plans.flatMap((plan) => [
          amount(plan.totalCents),
          ...(withBattery ? [amount(plan.withBatteryCents)] : []),
          difference(plan.differenceCents),
          ...(withBattery ? [difference(plan.withBatteryDifferenceCents)] : []),
        ]),
      ];
      // On a phone each row stacks into labelled lines (app.css), so every plan stays on screen.
      cells.forEach((cell, i) => cell.setAttribute('data-label', headings[i]));
      return el('tr', total ? { className: 'total' } : {}, cells);
    };
    const body = [...r.months.map((m) => row(m, false)), row(r.total, true)];
    show('compare-table', el('table', { className: 'stack' }, [el('thead', {}, head), el('tbody', {}, body)]));
    shownFor = key;
  }

  return { renderCompare };
})();
