// The dashboard's charts, loaded after uPlot and helpers.js and before app.js: drawing and resizing uPlot
// charts, the series kinds the sections use, how legends show values (also away from the cursor), and the
// price axis that keeps everyday prices readable beside a spike.
'use strict';

/* exported dashboardCharts */
const dashboardCharts = (() => {
  const { NEM_ZONE, show, fixed, money, nemMoment, timeAxisLabels } = dashboardHelpers;
  const HEIGHT = 240;
  const CHANNEL_COLOURS = { general: '#1f6fb4', controlledLoad: '#8e5bc2', feedIn: '#2e9d4a' };
  const charts = new Map();

  const chartWidth = (container) => Math.max(container.clientWidth, 240);

  /**
   * Draws a uPlot chart into the element `id`. Away from the cursor the legend shows the values at
   * `restingIndex` (by default the newest point with a value) instead of uPlot's `--`: a phone has no hover.
   */
  function drawChart(id, options, data, restingIndex = newestIndexWithValue(data)) {
    const container = document.getElementById(id);
    charts.get(id)?.destroy();
    container.replaceChildren();
    const showResting = (u) => {
      if (u.cursor.idx === null || u.cursor.idx === undefined) u.setLegend({ idx: restingIndex }, false);
    };
    const chart = new uPlot(
      {
        width: chartWidth(container),
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), NEM_ZONE),
        cursor: { points: { size: 6 } },
        legend: { live: true },
        hooks: { ready: [showResting], setCursor: [showResting] },
        ...options,
      },
      data,
      container,
    );
    charts.set(id, chart);
  }

  /** Replaces a chart (or any section body) with a message, or with nothing. */
  function replaceChart(id, ...nodes) {
    charts.get(id)?.destroy();
    charts.delete(id);
    show(id, ...nodes);
  }

  function resizeCharts() {
    for (const [id, chart] of charts) chart.setSize({ width: chartWidth(document.getElementById(id)), height: HEIGHT });
  }

  function newestIndexWithValue(data) {
    for (let i = data[0].length - 1; i >= 0; i -= 1) if (data.slice(1).some((column) => column[i] !== null && column[i] !== undefined)) return i;
    return null;
  }

  // How a legend shows each kind of value (uPlot's own shows raw floats such as 12.527).
  const cents = (_u, value) => (value === null || value === undefined ? '–' : fixed(value, 1));
  const kwh = (_u, value) => (value === null || value === undefined ? '–' : fixed(value, 1));
  const dollars = (_u, value) => money(value);
  const nemTimeLegend = { label: 'NEM time', value: (_u, ts) => (ts === null || ts === undefined ? '–' : nemMoment(ts)) };
  const timeAxis = { values: timeAxisLabels };

  const line = (label, stroke, extra = {}) => ({ label, stroke, width: 1.5, points: { show: false }, value: cents, ...extra });
  /** Points only; the legend shows `realValues` (a marker may be drawn clipped at the axis edge) or `none`. */
  const markers = (label, colour, realValues) => ({
    label,
    stroke: colour,
    fill: colour,
    paths: () => null,
    points: { show: true, space: 0, size: 7, fill: colour, stroke: colour },
    value: (_u, _value, _series, i) => (i === null || i === undefined || realValues[i] === null ? 'none' : fixed(realValues[i], 1)),
  });
  const bars = (label, colour, align, value) => ({
    label,
    stroke: colour,
    fill: `${colour}b0`,
    width: 1,
    paths: uPlot.paths.bars({ size: [0.4, 40], align }),
    points: { show: false },
    value,
  });

  /**
   * The price axis's range when a few extreme prices would flatten the rest, else null (uPlot's own range).
   * One 900 c/kWh spike among prices of -20 to 60 c/kWh leaves everyday prices a flat line on an axis scaled
   * to the spike. A log scale cannot help (prices cross zero: feed-in is negative) and a split axis is hard to
   * read, so the axis spans the everyday prices instead: Tukey's far-out fences (3 interquartile ranges beyond
   * the quartiles), which a spike of minutes or hours hardly moves, widened to take in zero. Lines beyond are
   * cut at the edge; the spike markers sit on it, and the legend and the meta line give the real values.
   */
  function readablePriceRange(values) {
    const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
    if (sorted.length < 4) return null;
    const quantile = (q) => sorted[Math.round(q * (sorted.length - 1))];
    const spread = Math.max(3 * (quantile(0.75) - quantile(0.25)), 5);
    const lowFence = Math.min(0, quantile(0.25) - spread);
    const highFence = Math.max(0, quantile(0.75) + spread);
    const lowest = sorted[0];
    const highest = sorted[sorted.length - 1];
    if (lowest >= lowFence && highest <= highFence) return null;
    return { min: Math.max(lowest, lowFence), max: Math.min(highest, highFence), lowest, highest };
  }

  return { CHANNEL_COLOURS, drawChart, replaceChart, resizeCharts, readablePriceRange, line, markers, bars, kwh, dollars, nemTimeLegend, timeAxis };
})();
