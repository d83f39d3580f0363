// The dashboard's "Other plans" section, loaded after helpers.js and before app.js: the site's own usage of the
// last 12 months priced under the plans of COMPARE_PLANS_FILE, month by month beside what Amber billed, from
// /api/compare. A comparison reads a year of intervals, so it is fetched again only when the site or the NEM
// day changes, not at every refresh.
'use strict';

/* exported dashboardCompare */
const dashboardCompare = (() => {
  const { api, el, show, message, money, nemToday } = dashboardHelpers;
  let shownFor = null;

  const dollars = (cents) => money(cents === null ? null : cents / 100);

  async function renderCompare(state) {
    const key = `${state.site} ${nemToday()}`;
    if (shownFor === key) return;
    const meta = document.getElementById('compare-meta');
    let r;
    try {
      r = await api('/api/compare', { site: state.site, months: 12 });
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
    }`;
    const headings = ['Month', energyOnly ? 'Amber (energy only)' : 'Amber', ...r.plans.flatMap((plan) => [plan.name, 'vs Amber'])];
    const head = el('tr', {}, headings.map((h, i) => el('th', { className: i === 0 ? '' : 'num', text: h })));
    const row = (m, total) => {
      const cells = [
        el('td', { text: total ? 'Total' : m.month }),
        el('td', { className: 'num', text: dollars(m.amber.totalCents) }),
        ...m.plans.flatMap((plan) => [
          el('td', { className: 'num', text: dollars(plan.totalCents) }),
          el('td', { className: `num ${plan.differenceCents < 0 ? 'cheaper' : 'dearer'}`, text: dollars(plan.differenceCents) }),
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
