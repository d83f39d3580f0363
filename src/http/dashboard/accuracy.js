// The dashboard's forecast-accuracy section, loaded after charts.js and before app.js: how far off Amber's
// general-channel forecasts were from the settled price, by lead time, one line per price source (perKwh and
// advancedPrice.predicted), from /api/forecast-accuracy over the selected range.
'use strict';

/* exported dashboardAccuracy */
const dashboardAccuracy = (() => {
  const { api, message, nemToday, addDays } = dashboardHelpers;
  const { CHANNEL_COLOURS, drawChart, replaceChart, line } = dashboardCharts;

  async function renderAccuracy(state) {
    const from = addDays(nemToday(), -(Math.max(state.days, 1) - 1));
    const r = await api('/api/forecast-accuracy', { site: state.site, from, channel: 'general' });
    const meta = document.getElementById('accuracy-meta');
    if (r.buckets.length === 0) {
      meta.textContent = '';
      replaceChart('accuracy-chart', message('No archived forecast of this range has settled yet.'));
      return;
    }
    const buckets = r.buckets;
    const forecasts = buckets.reduce((sum, b) => sum + b.forecasts, 0);
    meta.textContent = `General channel, ${from} to now · ${forecasts} archived forecasts against the settled price · mean absolute error, c/kWh; lower is better`;
    const positions = buckets.map((_b, i) => i);
    const withPoints = { points: { show: true, size: 6 } };
    drawChart(
      'accuracy-chart',
      {
        series: [
          { label: 'Lead time', value: (_u, i) => (i === null || i === undefined ? '–' : buckets[i].bucket) },
          line('perKwh', CHANNEL_COLOURS.general, { width: 2, ...withPoints }),
          line('Advanced predicted', CHANNEL_COLOURS.feedIn, { width: 2, ...withPoints }),
        ],
        scales: { x: { time: false, range: [-0.5, buckets.length - 0.5] } },
        axes: [
          { splits: () => positions, values: (_u, ticks) => ticks.map((t) => buckets[t]?.bucket ?? '') },
          { label: 'c/kWh', size: 56 },
        ],
      },
      [positions, buckets.map((b) => b.perKwh.mae), buckets.map((b) => b.predicted.mae)],
    );
  }

  return { renderAccuracy };
})();
