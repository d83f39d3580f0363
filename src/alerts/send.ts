/**
 * One POST of one alert to one target, with a deadline, and what came of it. Never throws: the delivery
 * queue and `amber-collector alerts test` both need the answer, not an exception, and the answer's text
 * never holds the target's URL (see targets.ts). Credentials in the URL (`https://user:pass@host/…`) go
 * as HTTP Basic auth; of the receiver's answer only the first few KB are read, so a receiver that
 * streams forever cannot fill the daemon's memory.
 */
import { request, type Dispatcher } from 'undici';
import type { Alert } from './alert.ts';
import { renderAlert } from './formats.ts';
import type { AlertTarget } from '../domain/alert-formats.ts';
import { scrubbedErrorText, splitCredentials } from './targets.ts';

interface SendOutcome {
  ok: boolean;
  /** HTTP status, or null when no response arrived (refused, reset, timed out). */
  status: number | null;
  /** Worth trying again later: no response, 408, 429 or 5xx. A 4xx such as 400 or 404 will not change by itself. */
  retryable: boolean;
  /** What the receiver asked for with Retry-After, when it did. */
  retryAfterMs: number | null;
  /** A short account for logs and for `alerts test`: the status line or the error, and the start of the body. */
  detail: string;
  durationMs: number;
}

interface SendOptions {
  timeoutMs: number;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
}

const BODY_SAMPLE_CHARS = 200;
/** The most of a receiver's answer read before the rest is discarded (the sample above is all anyone sees). */
const MAX_BODY_BYTES = 4 * 1024;

export async function sendAlert(alert: Alert, target: AlertTarget, options: SendOptions): Promise<SendOutcome> {
  const { headers, body } = renderAlert(alert, target.format);
  const { url, authorization } = splitCredentials(target.url);
  const started = performance.now();
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'user-agent': 'amber-collector', ...headers, ...(authorization === null ? {} : { authorization }) },
      body,
      signal,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    const text = (await readStart(response.body, MAX_BODY_BYTES)).slice(0, BODY_SAMPLE_CHARS).replace(/\s+/g, ' ').trim();
    const status = response.statusCode;
    const ok = status >= 200 && status < 300;
    return {
      ok,
      status,
      retryable: !ok && (status === 408 || status === 429 || status >= 500),
      retryAfterMs: retryAfterMs(response.headers['retry-after']),
      detail: scrubbedErrorText(`HTTP ${status}${text === '' ? '' : `: ${text}`}`, target.url),
      durationMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    const timedOut = signal.aborted && !options.signal?.aborted;
    return {
      ok: false,
      status: null,
      retryable: true,
      retryAfterMs: null,
      detail: timedOut ? `no answer within ${options.timeoutMs} ms` : scrubbedErrorText(err, target.url),
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/** Up to `maxBytes` of a response body as text; the rest is never read, and the body is destroyed. */
async function readStart(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) break;
    }
  } finally {
    // Breaking out of the loop leaves the rest unread: destroying the body closes the connection instead.
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** Retry-After in seconds (the form webhooks use); an HTTP date or nonsense counts as absent. */
function retryAfterMs(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return null;
  return Math.round(Number(value) * 1000);
}
