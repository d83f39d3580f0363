/**
 * Runs the fake Amber API on its own: `npm run fake-amber`.
 *
 * Environment: FAKE_AMBER_PORT (default 8787), FAKE_AMBER_HOST (default 127.0.0.1), FAKE_AMBER_SEED
 * (default 1), FAKE_AMBER_RATE_LIMIT (`50;w=300` by default, `off` for none). Prints the URL, the API key and
 * the `.env` lines that point the collector at it (one setting per line), then one line per request. Stops on SIGINT/SIGTERM.
 */
import { formatNemDate, nemDayOfInstant } from './nem-time.ts';
import { parseRateLimitPolicy } from './rate-limiter.ts';
import { type RateLimitPolicy, startFakeAmber } from './server.ts';

/** How far back the printed HISTORICAL_START_DATE goes: enough to exercise a backfill, quick to finish. */
const SUGGESTED_BACKFILL_DAYS = 60;

function fail(message: string): never {
  console.error(`fake-amber: ${message}`);
  process.exit(2);
}

function integerFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) fail(`${name} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

function rateLimitFromEnv(): RateLimitPolicy | null | undefined {
  const text = process.env['FAKE_AMBER_RATE_LIMIT'];
  if (text === undefined || text === '') return undefined;
  if (/^(off|none|0)$/i.test(text)) return null;
  return parseRateLimitPolicy(text) ?? fail(`FAKE_AMBER_RATE_LIMIT must look like "50;w=300" or "off", got "${text}"`);
}

const fake = await startFakeAmber({
  port: integerFromEnv('FAKE_AMBER_PORT', 8787),
  host: process.env['FAKE_AMBER_HOST'] || '127.0.0.1',
  seed: integerFromEnv('FAKE_AMBER_SEED', 1),
  rateLimit: rateLimitFromEnv(),
  onRequest: (entry) => {
    const query = new URLSearchParams(entry.query).toString();
    const fault = entry.fault === null ? '' : ` fault=${entry.fault}`;
    console.log(`${entry.wallTime.toISOString()} ${entry.method} ${entry.path}${query ? `?${query}` : ''} ${entry.status}${fault}`);
  },
});
// The CLI prints each request as it comes; keeping them in memory too would only grow forever.
const forgetLog = setInterval(() => fake.resetRequestLog(), 60_000);
forgetLog.unref();

const backfillStart = formatNemDate(nemDayOfInstant(Date.now()) - SUGGESTED_BACKFILL_DAYS);
console.log(`fake Amber API listening on ${fake.url}`);
console.log(`API key: ${fake.apiKey}`);
// One setting per line, as .env wants them: on one line, AMBER_API_BASE_URL would swallow the other two.
console.log('Point the collector at it with these lines in .env (or .env.local):');
console.log('');
for (const line of envSnippet(fake.url, fake.apiKey, backfillStart)) console.log(line);
console.log('');

/** The `.env` lines that point a collector at this server. */
function envSnippet(url: string, apiKey: string, startDate: string): string[] {
  return [`AMBER_API_BASE_URL=${url}`, `AMBER_API_KEY=${apiKey}`, `HISTORICAL_START_DATE=${startDate}`];
}

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received, stopping`);
  clearInterval(forgetLog);
  await fake.close();
}
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
