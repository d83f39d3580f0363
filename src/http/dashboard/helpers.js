// The dashboard's helpers, loaded before app.js: calling the read API with the page's token, building DOM
// nodes (text only, never HTML) and formatting NEM-time dates, money and numbers the Australian way.
'use strict';

/* exported dashboardHelpers */
const dashboardHelpers = (() => {
  const NEM_ZONE = 'Australia/Brisbane'; // UTC+10 all year: NEM time

  // The page was opened as /?token=…: the API needs the same token, sent as a bearer header.
  const token = new URLSearchParams(location.search).get('token');
  const authHeaders = token ? { authorization: `Bearer ${token}` } : {};

  async function api(path, params = {}) {
    const url = new URL(path, location.origin);
    for (const [key, value] of Object.entries(params)) if (value !== null && value !== undefined) url.searchParams.set(key, value);
    let response = await fetch(url, { headers: authHeaders });
    // A busy read API or battery worker answers 503 with Retry-After: wait as told, a few times, before giving up.
    for (let attempt = 1; attempt <= 5 && response.status === 503; attempt++) {
      const wait = Number(response.headers.get('retry-after'));
      if (!(wait > 0 && wait <= 30)) break;
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      response = await fetch(url, { headers: authHeaders });
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = body && (body.problems ? body.problems.join('; ') : body.error);
      throw new Error(`${path}: HTTP ${response.status}${detail ? ` (${detail})` : ''}`);
    }
    return body;
  }

  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === 'text') node.textContent = value;
      else if (key === 'className') node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of [].concat(children)) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  const show = (id, ...nodes) => document.getElementById(id).replaceChildren(...nodes);
  const message = (text, className = 'empty') => el('p', { className, text });

  const fixed = (value, digits) => (value === null || value === undefined ? '–' : Number(value).toFixed(digits));
  const epoch = (iso) => Date.parse(iso) / 1000;
  // API times are ISO 8601 at +10:00, so NEM wall-clock parts can be read straight from the text.
  const nemClock = (iso) => iso.slice(11, 16);
  const nemDate = (iso) => iso.slice(0, 10);

  // Money as on an Australian bill: `$1,234.56`, `-$69.36` (never `$-69.36` or `-$0.00`). The CLI formats it
  // with the same Intl options (`money` in src/query/format.ts); the dashboard test holds the two to one format.
  const MONEY = new Intl.NumberFormat('en-AU', { style: 'currency', currency: 'AUD', signDisplay: 'negative' });
  const money = (dollars) => (dollars === null || dollars === undefined ? '–' : MONEY.format(dollars));

  // Dates are day-first, as read in Australia, and always in NEM time whatever the browser's zone.
  const DAY_LABEL = new Intl.DateTimeFormat('en-AU', { timeZone: NEM_ZONE, weekday: 'short', day: 'numeric' });
  const DAY_MONTH = new Intl.DateTimeFormat('en-AU', { timeZone: NEM_ZONE, day: 'numeric', month: 'short' });
  const MONTH_YEAR = new Intl.DateTimeFormat('en-AU', { timeZone: NEM_ZONE, month: 'short', year: 'numeric' });
  const MOMENT = new Intl.DateTimeFormat('en-AU', { timeZone: NEM_ZONE, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const atSeconds = (seconds) => new Date(seconds * 1000);
  const dayLabel = (seconds) => DAY_LABEL.format(atSeconds(seconds));
  const dayMonth = (seconds) => DAY_MONTH.format(atSeconds(seconds));
  /** One instant for a legend: `Tue 8 Dec 07:35`. */
  const nemMoment = (seconds) => MOMENT.format(atSeconds(seconds)).replace(/,/g, '');
  const NEM_OFFSET_SECONDS = 10 * 3600;
  const isNemMidnight = (seconds) => (seconds + NEM_OFFSET_SECONDS) % 86400 === 0;

  /**
   * Labels for a time axis (uPlot's `values`, given the ticks and their spacing in seconds): `Dec 2026` for
   * months, `3 Dec` for days, `18:00` within a day with the day named at each NEM midnight. uPlot's own
   * labels are US-style (`12/3`), which Australians read as 12 March.
   */
  function timeAxisLabels(_u, ticks, _axisIndex, _space, spacing) {
    return ticks.map((seconds) => {
      if (spacing >= 28 * 86400) return MONTH_YEAR.format(atSeconds(seconds));
      if (spacing >= 86400 || isNemMidnight(seconds)) return dayMonth(seconds);
      return new Date((seconds + NEM_OFFSET_SECONDS) * 1000).toISOString().slice(11, 16);
    });
  }

  const nemToday = () => new Date(Date.now() + 10 * 3600 * 1000).toISOString().slice(0, 10);
  const addDays = (date, days) => new Date(Date.parse(date) + days * 86400 * 1000).toISOString().slice(0, 10);

  function ago(isoInstant) {
    if (!isoInstant) return 'never';
    const minutes = Math.round((Date.now() - Date.parse(isoInstant)) / 60000);
    if (minutes < 1) return 'just now';
    if (minutes < 90) return `${minutes} min ago`;
    if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
    return `${Math.round(minutes / 1440)} days ago`;
  }

  return { NEM_ZONE, api, el, show, message, fixed, money, epoch, nemClock, nemDate, dayLabel, dayMonth, nemMoment, timeAxisLabels, nemToday, addDays, ago };
})();
