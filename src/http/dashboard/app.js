// The amber-collector dashboard: reads the daemon's read API and fills the page's sections (loaded after
// uPlot, helpers.js as `dashboardHelpers`, charts.js as `dashboardCharts`, battery.js as `dashboardBattery`,
// bill.js as `dashboardBill`, accuracy.js as `dashboardAccuracy` and compare.js as `dashboardCompare`).
// Plain browser JavaScript, no build step. Every value from the API reaches the page through textContent, never
// as HTML.
'use strict';

(() => {
  const REFRESH_MS = 2 * 60 * 1000;
  // The newest actual price is normally less than an interval plus a collection cycle old.
  const STALE_MS = 90 * 60 * 1000;
  const CHANNEL_NAMES = { general: 'General', controlledLoad: 'Controlled load', feedIn: 'Feed-in' };
  const SPIKE_COLOUR = '#d62728';
  const POTENTIAL_COLOUR = '#ff8c1a';
  const WINDOW_MINUTES = { '5m': 5, '30m': 30, '1h': 60 };

  const state = { site: null, siteChannels: [], siteIntervalMinutes: 30, days: 7 };

  const { NEM_ZONE, api, el, show, message, fixed, money, epoch, nemClock, nemDate, dayLabel, dayMonth, nemToday, addDays, ago } = dashboardHelpers;
  const { CHANNEL_COLOURS, drawChart, replaceChart, resizeCharts, readablePriceRange, line, markers, bars, kwh, dollars, nemTimeLegend, timeAxis } = dashboardCharts;
  const { runBattery } = dashboardBattery;
  const { renderAccuracy } = dashboardAccuracy;
  const { renderBill } = dashboardBill;
  const { renderCompare } = dashboardCompare;

  const channelName = (type) => CHANNEL_NAMES[type] || type;

  // ---------------------------------------------------------------------------------------------
  // Sections

  async function renderNow() {
    const now = await api('/api/prices/current', { site: state.site });
    if (now.channels.length === 0) {
      show('now-cards', message('No prices stored yet.'));
      show('forecast');
      document.getElementById('forecast-meta').textContent = '';
      return;
    }
    show('now-cards', ...now.channels.map(priceCard));
    show('forecast', forecastTable(now));
    document.getElementById('forecast-meta').textContent = now.forecastFetchedAt
      ? `From the forecast fetched ${ago(now.forecastFetchedAt)}, in 30-minute slots`
      : '';
  }

  function priceCard(channel) {
    const price = channel.current || channel.latestActual;
    const card = el('div', { className: `card ${channel.channelType}` }, [el('h3', { text: channelName(channel.channelType) })]);
    if (!price) {
      card.append(message('No price stored.'));
      return card;
    }
    card.append(el('p', { className: 'price' }, [el('span', { text: fixed(price.perKwh, 1) }), ' c/kWh']));
    if (channel.channelType === 'feedIn') {
      card.append(el('p', { className: 'meta', text: price.perKwh < 0 ? `you earn ${fixed(-price.perKwh, 1)} c/kWh` : 'exporting costs you' }));
    }
    const tags = el('p', { className: 'tags' });
    if (price.descriptor) tags.append(el('span', { className: 'tag', text: price.descriptor }));
    if (price.spikeStatus === 'spike') tags.append(el('span', { className: 'tag spike', text: 'spike' }));
    if (price.spikeStatus === 'potential') tags.append(el('span', { className: 'tag potential', text: 'potential spike' }));
    tags.append(el('span', { className: 'tag', text: `${fixed(price.renewables, 0)}% renewables` }));
    card.append(tags);
    const stale = !channel.current && Date.now() - Date.parse(price.end) > STALE_MS;
    card.append(el('p', { className: stale ? 'meta error' : 'meta', text: `${nemDate(price.start)} ${nemClock(price.start)}–${nemClock(price.end)} · ${describeInterval(channel, price, stale)}` }));
    return card;
  }

  function describeInterval(channel, price, stale) {
    const current = channel.current;
    if (!current) return `latest actual price, ended ${ago(price.end)}${stale ? ': is the collector running?' : ''}`;
    if (current.intervalType === 'CurrentInterval') return current.estimate ? 'current, estimate' : 'current, final';
    if (current.intervalType === 'ForecastInterval') return 'current, still the forecast';
    return 'current';
  }

  /** The stored forecast in 30-minute slots (5-minute prices averaged), up to 12 hours ahead. */
  function forecastTable(now) {
    if (now.forecast.length === 0) {
      return message('No forecast archived for the hours ahead (the collector archives one every cycle); the latest actual price is shown above.');
    }
    const channels = now.channels.map((c) => c.channelType);
    const slots = new Map();
    for (const row of now.forecast) {
      const minute = Number(row.start.slice(14, 16)) < 30 ? '00' : '30';
      const key = `${row.start.slice(0, 13)}:${minute}`;
      if (!slots.has(key)) slots.set(key, {});
      const cell = (slots.get(key)[row.channelType] ??= { sum: 0, minutes: 0, spike: false });
      cell.sum += row.perKwh * row.duration;
      cell.minutes += row.duration;
      cell.spike ||= row.spikeStatus === 'spike';
    }
    const head = el('tr', {}, [el('th', { text: 'From' }), ...channels.map((c) => el('th', { className: 'num', text: channelName(c) }))]);
    const rows = [...slots.entries()].slice(0, 24).map(([key, cells]) =>
      el('tr', {}, [
        el('td', { text: key.slice(11) === '00:00' ? `${dayMonth(epoch(`${key}:00+10:00`))} 00:00` : key.slice(11) }),
        ...channels.map((c) => {
          const cell = cells[c];
          return el('td', { className: `num${cell && cell.spike ? ' spike' : ''}`, text: cell ? fixed(cell.sum / cell.minutes, 1) : '–' });
        }),
      ]),
    );
    return el('table', { className: 'forecast' }, [el('thead', {}, head), el('tbody', {}, rows)]);
  }

  async function renderPrices() {
    const today = nemToday();
    const from = addDays(today, -(state.days - 1));
    const to = addDays(today, 1); // tomorrow: stored forecasts show as dashed lines
    const [data, now] = await Promise.all([api('/api/prices', { site: state.site, from, to }), api('/api/prices/current', { site: state.site })]);
    const archived = archivedForecastPoints(now);
    const forecasts = archived.size > 0 || data.series.some((s) => s.points.some((p) => p.forecasts > 0));
    const meta = `${from} to ${to} · ${describeWindow(data.window)}${forecasts ? ' · dashed: forecast' : ''} · red: spike, orange: potential spike`;
    document.getElementById('prices-meta').textContent = meta;
    if (data.series.every((s) => s.points.length === 0) && archived.size === 0) {
      replaceChart('prices-chart', message('No prices stored for this range.'));
      return;
    }
    const series = data.series.map((s) => ({ ...s, points: [...s.points, ...(archived.get(s.channelType) || [])] }));
    for (const [channelType, points] of archived) if (!series.some((s) => s.channelType === channelType)) series.push({ channelType, points });
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => epoch(p.start))))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const columns = [];
    const lines = [];
    const spikes = new Array(times.length).fill(null);
    const potential = new Array(times.length).fill(null);
    let newestActual = -1;
    for (const s of series) {
      const actual = new Array(times.length).fill(null);
      const forecast = new Array(times.length).fill(null);
      let lastActual = null;
      for (const point of s.points) {
        const i = index.get(epoch(point.start));
        if (point.forecasts > 0) forecast[i] = point.perKwh;
        else {
          actual[i] = point.perKwh;
          lastActual = i;
        }
        if (point.spikes > 0) spikes[i] = Math.max(spikes[i] ?? -Infinity, point.perKwh);
        else if (point.potentialSpikes > 0) potential[i] = Math.max(potential[i] ?? -Infinity, point.perKwh);
      }
      // The forecast line starts where the actual one ends, so the two join.
      if (lastActual !== null && forecast.some((v) => v !== null)) forecast[lastActual] = actual[lastActual];
      if (lastActual !== null) newestActual = Math.max(newestActual, lastActual);
      const colour = CHANNEL_COLOURS[s.channelType] || '#555';
      columns.push(actual);
      lines.push(line(channelName(s.channelType), colour));
      if (forecast.some((v) => v !== null)) {
        columns.push(forecast);
        lines.push(line(`${channelName(s.channelType)} forecast`, colour, { dash: [6, 4] }));
      }
    }
    const range = readablePriceRange(columns.flat());
    const onAxis = (value) => (value === null || !range ? value : Math.min(range.max, Math.max(range.min, value)));
    columns.push(spikes.map(onAxis), potential.map(onAxis));
    lines.push(markers('Spike', SPIKE_COLOUR, spikes), markers('Potential spike', POTENTIAL_COLOUR, potential));
    if (range) {
      document.getElementById('prices-meta').textContent =
        `${meta} · axis cut at ${fixed(range.min, 0)} to ${fixed(range.max, 0)} c/kWh so everyday prices stay readable ` +
        `(prices ran from ${fixed(range.lowest, 1)} to ${fixed(range.highest, 1)}; markers beyond sit on the edge)`;
    }
    drawChart(
      'prices-chart',
      {
        series: [nemTimeLegend, ...lines],
        axes: [timeAxis, { label: 'c/kWh', size: 56 }],
        scales: { x: { time: true }, ...(range ? { y: { range: () => [range.min, range.max] } } : {}) },
      },
      [times, ...columns],
      // Away from the cursor the legend shows the newest actual prices: the price now, not tomorrow's forecast.
      newestActual >= 0 ? newestActual : undefined,
    );
  }

  /** The archived current interval and forecast as chart points per channel type, flagged as forecasts. */
  function archivedForecastPoints(now) {
    const byChannel = new Map();
    const rows = [...now.channels.map((c) => c.current).filter((p) => p && p.fetchedAt), ...now.forecast.filter((p) => p.fetchedAt)];
    for (const row of rows) {
      if (!byChannel.has(row.channelType)) byChannel.set(row.channelType, []);
      byChannel.get(row.channelType).push({
        start: row.start,
        perKwh: row.perKwh,
        forecasts: 1,
        spikes: row.spikeStatus === 'spike' ? 1 : 0,
        potentialSpikes: row.spikeStatus === 'potential' ? 1 : 0,
      });
    }
    return byChannel;
  }

  /** What one chart point is: the site's own intervals when the window is no wider, otherwise averages. */
  function describeWindow(window) {
    const minutes = WINDOW_MINUTES[window];
    if (minutes !== undefined && minutes <= state.siteIntervalMinutes) return `${state.siteIntervalMinutes}-minute intervals`;
    return `${window} averages`;
  }

  async function renderUsage() {
    const yesterday = addDays(nemToday(), -1);
    const days = Math.max(state.days, 7);
    const from = addDays(yesterday, -(days - 1));
    const data = await api('/api/costs', { site: state.site, from, to: yesterday });
    document.getElementById('usage-meta').textContent = `${from} to ${yesterday} · ${data.basis}: supply and fees are on the Bill · usage arrives about a day late`;
    const withData = data.days.filter((d) => d.intervals > 0);
    if (withData.length === 0) {
      replaceChart('energy-chart', message('No usage stored for this range.'));
      replaceChart('cost-chart');
      show('usage-totals');
      return;
    }
    const times = data.days.map((d) => epoch(`${d.date}T00:00:00+10:00`));
    const pick = (key) => data.days.map((d) => d[key]);
    const dayAxis = {
      scales: {
        // Half a day of room on each side, so the first and last bars are not cut by the plot's edge.
        x: { time: true, range: (_u, min, max) => [min - 43200, max + 43200] },
        // Bars grow from zero.
        y: { range: (_u, min, max) => [Math.min(0, min), Math.max(0, max) * 1.1 || 1] },
      },
    };
    // Ticks on NEM midnights only, labelled with the day.
    const dayTicks = { incrs: [86400, 2 * 86400, 7 * 86400, 28 * 86400], values: (_u, splits) => splits.map(dayLabel) };
    const hasFeedIn = state.siteChannels.includes('feedIn');
    const energy = [bars('Import kWh', CHANNEL_COLOURS.general, hasFeedIn ? -1 : 0, kwh)];
    const cost = [bars('Import $', '#c0392b', hasFeedIn ? -1 : 0, dollars)];
    const energyData = [pick('importKwh')];
    const moneyData = [pick('importDollars')];
    if (hasFeedIn) {
      energy.push(bars('Feed-in kWh', CHANNEL_COLOURS.feedIn, 1, kwh));
      cost.push(bars('Feed-in earned $', CHANNEL_COLOURS.feedIn, 1, dollars));
      energyData.push(pick('feedInKwh'));
      moneyData.push(pick('feedInDollars'));
    }
    cost.push(line('Net $', '#333', { width: 2, points: { show: true, size: 5 }, value: dollars }));
    moneyData.push(pick('netDollars'));
    const dayLegend = { label: 'NEM day', value: (_u, ts) => (ts === null ? '–' : dayLabel(ts)) };
    drawChart('energy-chart', { ...dayAxis, series: [dayLegend, ...energy], axes: [dayTicks, { label: 'kWh', size: 56 }] }, [times, ...energyData]);
    drawChart('cost-chart', { ...dayAxis, series: [dayLegend, ...cost], axes: [dayTicks, { label: '$', size: 56 }] }, [times, ...moneyData]);
    const total = (key) => withData.reduce((sum, d) => sum + d[key], 0);
    const missing = data.days.length - withData.length;
    document.getElementById('usage-totals').textContent =
      `Total: imported ${fixed(total('importKwh'), 1)} kWh for ${money(total('importDollars'))}` +
      (hasFeedIn ? `, exported ${fixed(total('feedInKwh'), 1)} kWh earning ${money(total('feedInDollars'))}` : '') +
      `; net ${money(total('netDollars'))} (${data.basis})` +
      (missing > 0 ? ` (${missing} day${missing === 1 ? '' : 's'} without usage)` : '');
  }

  async function renderCoverage() {
    const status = await api('/api/status', { site: state.site });
    if (status.streams.length === 0) {
      show('coverage', message('Nothing collected yet.'));
      return;
    }
    const date = (text) => el('span', { className: 'date', text }); // wraps between dates, not at their hyphens
    const headings = ['Data', 'Complete', 'Collected', 'Intervals', 'Last success', 'Last error'];
    const head = el('tr', {}, headings.map((h) => el('th', { text: h })));
    // The same figures as `amber-collector status`: intervals stored out of expected over the days due by now.
    const rows = status.streams.map((s) => {
      const progress = s.percentComplete === null ? message('not started') : el('div', { className: 'progress' }, [
        el('progress', { max: '100', value: String(s.percentComplete) }),
        el('span', { text: `${fixed(s.percentComplete, 1)}%` }),
      ]);
      const error = s.lastError;
      const cells = [
        el('td', { text: s.dataType }),
        el('td', {}, progress),
        el('td', {}, s.wanted ? [date(s.wanted.from), ' → ', date(s.collectedThrough || '…'), ' (of ', date(s.wanted.through), ')'] : '–'),
        el('td', { className: 'num', text: `${s.intervals.stored.toLocaleString('en-AU')} / ${s.intervals.expected.toLocaleString('en-AU')}` }),
        el('td', { text: ago(s.lastSuccessAt) }),
        el('td', { className: error?.current ? 'error' : 'meta', text: error ? `${error.current ? `${s.consecutiveFailures}× ` : 'earlier: '}${error.message} (${ago(error.at)})` : '–' }),
      ];
      // On a phone each row stacks into labelled lines (app.css), so every column stays on screen.
      cells.forEach((cell, i) => cell.setAttribute('data-label', headings[i]));
      return el('tr', {}, cells);
    });
    show('coverage', el('table', { className: 'stack' }, [el('thead', {}, head), el('tbody', {}, rows)]));
  }

  // ---------------------------------------------------------------------------------------------
  // Wiring

  /** Each section's renderer and the elements it fills (a failure is shown in the first, the rest are cleared). */
  const SECTIONS = [
    [renderNow, ['now-cards', 'forecast']],
    [renderPrices, ['prices-chart']],
    [renderUsage, ['energy-chart', 'cost-chart', 'usage-totals']],
    [() => renderAccuracy(state), ['accuracy-chart']],
    [() => renderCompare(state), ['compare-table']],
    [renderCoverage, ['coverage']],
    [() => renderBill(state), ['bill-statement']],
  ];

  async function refresh() {
    const results = await Promise.allSettled(SECTIONS.map(([render]) => render()));
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const [first, ...rest] = SECTIONS[i][1];
      replaceChart(first, message(`Could not load: ${result.reason.message}`, 'error'));
      for (const id of rest) replaceChart(id);
    });
    setStatus(`Updated ${new Date().toLocaleTimeString('en-AU', { timeZone: NEM_ZONE, hour12: false })} NEM time`, 'meta');
  }

  function setStatus(text, className) {
    const status = document.getElementById('updated');
    status.textContent = text;
    status.className = className;
  }

  /** The site with the most to show: an active one, then the most channels, then the shortest interval (5-minute). */
  function richestSite(sites) {
    const rank = (site) => [site.status === 'active' ? 0 : 1, -site.channels.length, site.intervalLength];
    return [...sites].sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    })[0];
  }

  async function start() {
    const siteSelect = document.getElementById('site');
    const rangeSelect = document.getElementById('range');
    let sites;
    try {
      ({ sites } = await api('/api/sites'));
    } catch (err) {
      setStatus(`Could not reach the API: ${err.message}`, 'error');
      return;
    }
    if (sites.length === 0) {
      setStatus('No sites stored yet: the collector stores them on its first run.', 'meta');
      return;
    }
    for (const site of sites) {
      siteSelect.append(el('option', { value: site.id, text: `${site.nmi} · ${site.network} · ${site.status}`, title: site.id }));
    }
    const selectSite = (id) => {
      const site = sites.find((s) => s.id === id) || sites[0];
      state.site = site.id;
      state.siteChannels = site.channels.map((c) => c.type);
      state.siteIntervalMinutes = site.intervalLength;
    };
    // Alerts link to `/?site=<id>`: open on that site when it is one of ours, else on the one with most to show.
    selectSite(new URLSearchParams(location.search).get('site') || richestSite(sites).id);
    siteSelect.value = state.site;
    siteSelect.addEventListener('change', () => {
      selectSite(siteSelect.value);
      refresh();
      runBattery(state);
    });
    rangeSelect.addEventListener('change', () => {
      state.days = Number(rangeSelect.value);
      refresh();
      runBattery(state);
    });
    document.getElementById('bill-form').addEventListener('submit', (event) => {
      event.preventDefault();
      renderBill(state);
    });
    document.getElementById('battery-form').addEventListener('submit', (event) => {
      event.preventDefault();
      runBattery(state);
    });
    // The comparison with the battery is a calculation like the what-if's: run when asked for, shown in place on failure.
    document.getElementById('compare-battery').addEventListener('change', () => {
      renderCompare(state).catch((err) => show('compare-table', message(`Could not calculate: ${err.message}`, 'error')));
    });
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(resizeCharts, 150);
    });
    await Promise.all([refresh(), runBattery(state)]);
    setInterval(refresh, REFRESH_MS);
    document.body.dataset.ready = 'true'; // lets tests (and people) know the first load finished
  }

  start();
})();
