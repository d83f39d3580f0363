// The dashboard's battery what-if section, loaded after charts.js and before app.js: runs the what-if over the
// selected range through yesterday with the form's battery, shows the strategies side by side and one day's
// state of charge against the price.
'use strict';

/* exported dashboardBattery */
const dashboardBattery = (() => {
  const { api, el, show, message, money, epoch, nemToday, addDays } = dashboardHelpers;
  const { CHANNEL_COLOURS, drawChart, replaceChart, line, kwh, nemTimeLegend, timeAxis } = dashboardCharts;

  /**
   * The what-if for the page's `state` (site and days). A calculation, not a read: app.js runs it on start, on Run
   * and when the site or range changes, not every refresh. A failure is shown in place of the results.
   */
  async function runBattery(state) {
    try {
      await renderBattery(state);
    } catch (err) {
      replaceChart('battery-chart');
      document.getElementById('battery-meta').textContent = '';
      show('battery-results', message(`Could not calculate: ${err.message}`, 'error'));
    }
  }

  /** The form's battery as the API's query parameters (compare.js's "with battery" uses it too). */
  function formBattery() {
    const form = document.getElementById('battery-form');
    return Object.fromEntries(['capacity', 'chargePower', 'dischargePower', 'efficiency', 'reserve'].map((name) => [name, form.elements[name].value]));
  }

  /** The battery what-if over the selected range through yesterday: strategies side by side, one day's state of charge. */
  async function renderBattery(state) {
    const form = document.getElementById('battery-form');
    const to = addDays(nemToday(), -1);
    const from = addDays(to, -(Math.max(state.days, 1) - 1));
    const inputs = formBattery();
    // The starting charge as a share of the capacity; left empty, the battery starts at its reserve.
    const soc = form.elements.soc.value.trim();
    if (soc !== '') inputs.soc = `${soc}%`;
    show('battery-results', message('Calculating…'));
    const r = await api('/api/battery/what-if', { site: state.site, from, to, ...inputs });
    const inDollars = (cents) => money(cents === null ? null : cents / 100);
    const rows = [
      ['No battery', r.baselineCostCents, null],
      ['Self-consumption', r.selfConsumptionCostCents, r.savingsCents.selfConsumption],
      ['Perfect foresight', r.perfectForesightCostCents, r.savingsCents.perfectForesight],
      ['Forecast-driven', r.forecastDrivenCostCents, r.savingsCents.forecastDriven],
    ];
    const fd = r.forecastDriven;
    const share = `${(fd.coveredShare * 100).toFixed(0)}%`;
    // Next to the forecast-driven figure: how much of the range archived forecasts covered, and why a figure is missing.
    const coverage =
      fd.coveredIntervals === 0
        ? 'no archived forecasts in this range'
        : fd.withheld
          ? `not given: forecasts for only ${share} of the range (${(fd.minimumShare * 100).toFixed(0)}% needed)`
          : `forecasts for ${share} of the range`;
    const head = el('tr', {}, ['Strategy', 'Cost', 'Saved'].map((h, i) => el('th', { className: i > 0 ? 'num' : '', text: h })));
    const body = rows.map(([name, cost, saved]) =>
      el('tr', {}, [el('td', { text: name }), el('td', { className: 'num', text: inDollars(cost) }), el('td', { className: 'num', text: saved === null ? '' : inDollars(saved) })]),
    );
    // Right under the forecast-driven row, wrapping on a phone rather than widening the table.
    const note = el('tr', {}, el('td', { colspan: 3, className: fd.withheld ? 'warning' : 'coverage', text: `Forecast-driven: ${coverage}` }));
    show('battery-results', el('table', { className: 'forecast' }, [el('thead', {}, head), el('tbody', {}, body), el('tfoot', {}, note)]));
    document.getElementById('battery-meta').textContent =
      `${r.from} to ${r.to} · ${r.intervals} intervals, ${r.skippedIntervals.total} skipped (missing usage or prices)` +
      (r.day ? ` · state of charge on ${r.day.date}` : '');
    if (!r.day) {
      replaceChart('battery-chart');
      return;
    }
    const times = r.day.intervals.map((i) => epoch(i.start));
    const pick = (fn) => r.day.intervals.map(fn);
    const series = [
      line('Self-consumption kWh', CHANNEL_COLOURS.feedIn, { scale: 'kWh', value: kwh }),
      line('Perfect foresight kWh', CHANNEL_COLOURS.general, { scale: 'kWh', width: 2, value: kwh }),
      line('Forecast-driven kWh', CHANNEL_COLOURS.controlledLoad, { scale: 'kWh', value: kwh }),
      line('Import c/kWh', '#999', { scale: 'c/kWh', dash: [4, 3] }),
    ];
    const columns = [
      pick((i) => i.socKwh.selfConsumption),
      pick((i) => i.socKwh.perfectForesight),
      pick((i) => i.socKwh.forecastDriven),
      pick((i) => i.importPrice),
    ];
    drawChart(
      'battery-chart',
      {
        series: [nemTimeLegend, ...series],
        scales: { x: { time: true } },
        axes: [timeAxis, { scale: 'kWh', label: 'kWh', size: 48 }, { scale: 'c/kWh', label: 'c/kWh', side: 1, size: 56, grid: { show: false } }],
      },
      [times, ...columns],
    );
  }

  return { runBattery, formBattery };
})();
