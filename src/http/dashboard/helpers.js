// The dashboard's helpers, loaded before app.js: calling the read API with the page's token, building DOM
// nodes (text only, never HTML) and formatting NEM-time dates and numbers.
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
    const response = await fetch(url, { headers: authHeaders });
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

  const DAY_LABEL = new Intl.DateTimeFormat('en-AU', { timeZone: NEM_ZONE, weekday: 'short', day: 'numeric' });
  const dayLabel = (seconds) => DAY_LABEL.format(new Date(seconds * 1000));

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

  return { NEM_ZONE, api, el, show, message, fixed, epoch, nemClock, nemDate, dayLabel, nemToday, addDays, ago };
})();
