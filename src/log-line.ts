/**
 * The human form of a log event: the message, then the fields that matter as `key=value`, on one line with
 * no braces. Progress lines lead with their percent and ETA; an error's stack follows on its own lines.
 * src/logger.ts puts the time and level in front.
 */

/** Fields every line carries, or that are shown some other way: printing them again is noise. */
const HIDDEN = new Set(['message', 'level', 'time', 'pid', 'hostname', 'service', 'fatal', 'err', 'percent', 'eta', 'etaSeconds', 'problems']);

export function humanLine(event: Record<string, unknown>): string {
  const parts = [String(event['message'] ?? '')];
  if (typeof event['percent'] === 'number') parts.push(`${event['percent']}%`);
  if (typeof event['eta'] === 'string') parts.push(`ETA ${clockTime(event['eta'])}`);
  for (const [key, value] of Object.entries(event)) {
    if (HIDDEN.has(key) || value === undefined || value === null) continue;
    parts.push(...fieldText(key, value));
  }
  const below = [...problemLines(event['problems']), ...errorLines(event['err'])];
  return [parts.join(' '), ...below].join('\n');
}

function fieldText(key: string, value: unknown): string[] {
  if (Array.isArray(value)) {
    // A list of objects (the sites of a collection plan) would be a screenful: its size says enough here.
    return [`${key}=${value.every(isScalar) ? value.map(scalarText).join(',') : String(value.length)}`];
  }
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => isScalar(inner))
      .map(([inner, innerValue]) => `${key}.${inner}=${scalarText(innerValue)}`);
  }
  return [`${key}=${scalarText(value)}`];
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof value);
}

/** Text with spaces is quoted so the next `key=` stays readable; plain words and numbers are not. */
function scalarText(value: unknown): string {
  const text = String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/** Configuration problems, one per line, so each can be fixed in turn. */
function problemLines(problems: unknown): string[] {
  return Array.isArray(problems) ? problems.map((p) => `    ${String(p)}`) : [];
}

/** The stack says where an unexpected error came from; expected ones are logged without `err` (run.ts). */
function errorLines(err: unknown): string[] {
  if (typeof err !== 'object' || err === null) return [];
  const { stack, message } = err as { stack?: unknown; message?: unknown };
  const text = typeof stack === 'string' ? stack : typeof message === 'string' ? message : '';
  return text === '' ? [] : text.split('\n').map((line) => `    ${line.trim()}`);
}

/** The ETA in the reader's own time zone, like the line's time: `09:31:25`, with the date when it is not today. */
function clockTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  const sameDay = at.toDateString() === new Date().toDateString();
  return sameDay ? time : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}
