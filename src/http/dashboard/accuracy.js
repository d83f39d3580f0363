// The dashboard's forecast-accuracy section, loaded after charts.js and before app.js: how far off Amber's
// general-channel forecasts were from the settled price, by lead time, one line per price source (perKwh and
// advancedPrice.predicted), from /api/forecast-accuracy over the selected range; then the same error by NEM hour of
// the day (by=time-of-day), every lead time together.
'use strict';

/* exported dashboardAccuracy */
const dashboardAccuracy = (() => {
  const { api, message, nemToday, addDays } = dashboardHelpers;
  const { CHANNEL_COLOURS, drawChart, replaceChart, line } = dashboardCharts;

  async function renderAccuracy(state) {
    const from = addDays(nemToday(), -(Math.max(state.days, 1) - 1));
    const r = await api('/api/forecast-accuracy', { site: state.site, from, channel: 'general', by: 'time-of-day' });
    const meta = document.getElementById('accuracy-meta');
    const hourMeta = document.getElementById('accuracy-hour-meta');
    if (r.buckets.length === 0) {
      meta.textContent = '';
      hourMeta.textContent = '';
      replaceChart('accuracy-chart', message('No archived forecast of this range has settled yet.'));
      replaceChart('accuracy-hour-chart', message(''));
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
    renderByHour(r.timeOfDay, hourMeta, withPoints);
  }

  /** Mean absolute error per NEM hour of the interval's start: when in the day the forecast goes wrong. */
  function renderByHour(hours, hourMeta, withPoints) {
    hourMeta.textContent = 'By time of day (NEM hour of the interval start, every lead time): mean absolute error, c/kWh';
    const label = (h) => `${String(h).padStart(2, '0')}:00`;
    drawChart(
      'accuracy-hour-chart',
      {
        series: [
          { label: 'Hour', value: (_u, hour) => (hour === null || hour === undefined ? '–' : label(hour)) },
          line('perKwh', CHANNEL_COLOURS.general, { width: 2, ...withPoints }),
          line('Advanced predicted', CHANNEL_COLOURS.feedIn, { width: 2, ...withPoints }),
        ],
        scales: { x: { time: false, range: [-0.5, 23.5] } },
        axes: [{ splits: () => [0, 6, 12, 18], values: (_u, ticks) => ticks.map(label) }, { label: 'c/kWh', size: 56 }],
      },
      [hours.map((h) => h.hour), hours.map((h) => h.perKwh.mae), hours.map((h) => h.predicted.mae)],
    );
  }

  return { renderAccuracy };
})();
