import { Agent } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import type { CallEvent } from '../../src/amber/call-target.ts';
import { createAmberClient, type AmberClientOptions } from '../../src/amber/client.ts';
import { createRateLimiter } from '../../src/amber/rate-limiter.ts';
import { isCollectorError, isFatal, type CollectorError } from '../../src/errors.ts';
import { captureLogger } from '../helpers/capture-logger.ts';
import { PRICE, SITE, USAGE } from './elements.ts';
import { sendJson, startLoopback, type Loopback, type LoopbackHandler } from './loopback.ts';

const API_KEY = 'psk_0123456789abcdef0123456789abcdef';
/** 13:10 NEM time on 2025-11-20: usage may be requested up to 2025-11-19. */
const WALL_NOW = Date.parse('2025-11-20T03:10:00Z');
const SITE_ID = '01J9Q4ZC6H2RM8T3VX5B7KD1NA';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A loopback server plus a client on it with fast retries, no jitter, and captured logs and events. */
async function setup(handler: LoopbackHandler, overrides: Partial<AmberClientOptions> = {}) {
  const server = await startLoopback(handler);
  const log = captureLogger('debug');
  const events: CallEvent[] = [];
  const limiter = createRateLimiter({ policy: { limit: 1000, windowSeconds: 1 } });
  const client = createAmberClient({
    baseUrl: server.baseUrl,
    apiKey: API_KEY,
    limiter,
    logger: log.logger,
    requestTimeoutMs: 2_000,
    retry: { maxAttempts: 3, baseMs: 10, capMs: 50 },
    random: () => 0.5,
    wallClock: () => WALL_NOW,
    onCall: (event) => events.push(event),
    ...overrides,
  });
  cleanups.push(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, limiter, log, events };
}

async function failure(promise: Promise<unknown>): Promise<CollectorError> {
  try {
    await promise;
  } catch (err) {
    if (isCollectorError(err)) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

function pathAndQuery(server: Loopback, index = 0): { path: string; query: Record<string, string> } {
  const url = new URL(server.requests[index]!.url, 'http://x');
  return { path: url.pathname, query: Object.fromEntries(url.searchParams) };
}

describe('successful calls', () => {
  test('listSites sends the key and Accept, parses sites, reports the call, and never logs the key', async () => {
    const { server, client, log, events } = await setup((_req, res) => sendJson(res, 200, [SITE]));
    const sites = await client.listSites();
    expect(sites.items.map((site) => site.id)).toEqual([SITE_ID]);
    expect(sites.rejected).toEqual([]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/v1/sites' });
    expect(server.requests[0]?.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(server.requests[0]?.headers['accept']).toBe('application/json');
    expect(events).toEqual([{ endpoint: 'sites', status: 200, attempt: 1, durationMs: expect.any(Number) }]);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 20, message: 'amber call', endpoint: 'sites', status: 200 }));
    expect(JSON.stringify(log.lines)).not.toContain(API_KEY.slice(4));
  });

  test('getPrices always sends both dates (and the resolution when given)', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, [PRICE, { ...PRICE, type: 'ForecastInterval' }]));
    const prices = await client.getPrices(SITE_ID, '2025-11-14', '2025-11-20', { resolution: 30 });
    expect(prices.items.map((p) => p.type)).toEqual(['CurrentInterval', 'ForecastInterval']);
    expect(pathAndQuery(server)).toEqual({
      path: `/v1/sites/${SITE_ID}/prices`,
      query: { startDate: '2025-11-14', endDate: '2025-11-20', resolution: '30' },
    });
    await client.getPrices(SITE_ID, '2025-11-20', '2025-11-20');
    expect(pathAndQuery(server, 1).query).toEqual({ startDate: '2025-11-20', endDate: '2025-11-20' });
  });

  test('getUsage sends both dates and accepts yesterday (NEM) as the last day', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, [USAGE]));
    const usage = await client.getUsage(SITE_ID, '2025-11-13', '2025-11-19');
    expect(usage.items).toHaveLength(1);
    expect(pathAndQuery(server)).toEqual({ path: `/v1/sites/${SITE_ID}/usage`, query: { startDate: '2025-11-13', endDate: '2025-11-19' } });
  });

  test('getCurrentPrices sends previous, next and resolution', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, [PRICE]));
    await client.getCurrentPrices(SITE_ID, { previous: 12, next: 288, resolution: 5 });
    expect(pathAndQuery(server)).toEqual({
      path: `/v1/sites/${SITE_ID}/prices/current`,
      query: { previous: '12', next: '288', resolution: '5' },
    });
    await client.getCurrentPrices(SITE_ID, {});
    expect(server.requests[1]?.url).toBe(`/v1/sites/${SITE_ID}/prices/current`);
  });

  test('an empty array is a normal answer', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, []));
    expect(await client.getUsage(SITE_ID, '2025-11-19', '2025-11-19')).toEqual({ items: [], rejected: [] });
  });

  test('bad elements come back in rejected and are logged with endpoint, site and a sample', async () => {
    const { client, log } = await setup((_req, res) => sendJson(res, 200, [PRICE, { ...PRICE, perKwh: 'n/a' }]));
    const prices = await client.getPrices(SITE_ID, '2025-11-20', '2025-11-20');
    expect(prices.items).toHaveLength(1);
    expect(prices.rejected).toEqual([expect.objectContaining({ index: 1, problems: [expect.stringMatching(/^perKwh/)] })]);
    const warning = log.lines.find((line) => line['message'] === 'Amber response has elements that failed validation');
    expect(warning).toMatchObject({ level: 40, endpoint: 'prices', site: SITE_ID, rejected: 1, accepted: 1, startDate: '2025-11-20' });
    expect(warning).toMatchObject({ rules: { schema: 1 }, sample: { index: 1, rule: 'schema' } });
    expect(JSON.stringify(warning?.['sample'])).toContain('n/a');
  });

  test('every response updates the limiter from its headers', async () => {
    const { client, limiter } = await setup((_req, res) =>
      sendJson(res, 200, [SITE], { 'ratelimit-policy': '7;w=60', 'ratelimit-limit': '7', 'ratelimit-remaining': '2', 'ratelimit-reset': '30' }),
    );
    await client.listSites();
    expect(limiter.snapshot()).toMatchObject({ limit: 7, windowSeconds: 60, remaining: 2, inWindow: 5 });
  });
});

describe('requests refused before any call (bugs in the caller)', () => {
  test.each([
    ['a price range over 7 days', (c: ReturnType<typeof createAmberClient>) => c.getPrices(SITE_ID, '2025-11-01', '2025-11-08')],
    ['start after end', (c: ReturnType<typeof createAmberClient>) => c.getPrices(SITE_ID, '2025-11-08', '2025-11-07')],
    ['a malformed date', (c: ReturnType<typeof createAmberClient>) => c.getPrices(SITE_ID, '20251101', '2025-11-02')],
    ['a usage range over 7 days', (c: ReturnType<typeof createAmberClient>) => c.getUsage(SITE_ID, '2025-11-01', '2025-11-08')],
    ['usage for today', (c: ReturnType<typeof createAmberClient>) => c.getUsage(SITE_ID, '2025-11-18', '2025-11-20')],
    ['usage for the future', (c: ReturnType<typeof createAmberClient>) => c.getUsage(SITE_ID, '2025-11-21', '2025-11-21')],
    ['next + previous over 2048', (c: ReturnType<typeof createAmberClient>) => c.getCurrentPrices(SITE_ID, { previous: 1, next: 2048 })],
    ['a negative next', (c: ReturnType<typeof createAmberClient>) => c.getCurrentPrices(SITE_ID, { next: -1 })],
    ['an unsupported resolution', (c: ReturnType<typeof createAmberClient>) => c.getPrices(SITE_ID, '2025-11-01', '2025-11-01', { resolution: 15 })],
    ['an empty site id', (c: ReturnType<typeof createAmberClient>) => c.getPrices('', '2025-11-01', '2025-11-01')],
  ])('%s', async (_name, invoke) => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, []));
    const err = await failure(invoke(client));
    expect(err.code).toBe('AMBER_BAD_REQUEST');
    expect(err.retryable).toBe(false);
    expect(server.requests).toHaveLength(0);
  });

  test('2048 intervals in total is allowed', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, []));
    await client.getCurrentPrices(SITE_ID, { previous: 48, next: 2000 });
    expect(server.requests).toHaveLength(1);
  });
});

describe('error statuses', () => {
  test.each([401, 403])('%i is AMBER_AUTH: fatal, not retried, and names AMBER_API_KEY', async (status) => {
    const { server, client } = await setup((_req, res) => sendJson(res, status, { message: 'Forbidden' }));
    const err = await failure(client.listSites());
    expect(err.code).toBe('AMBER_AUTH');
    expect(err.message).toContain('AMBER_API_KEY');
    expect(err.message).not.toContain(API_KEY);
    expect(isFatal(err)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  test('404 is AMBER_NOT_FOUND, not retried', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 404, { message: 'Site not found' }));
    const err = await failure(client.getPrices('nope', '2025-11-20', '2025-11-20'));
    expect(err.code).toBe('AMBER_NOT_FOUND');
    expect(server.requests).toHaveLength(1);
  });

  test.each([400, 422])('%i is AMBER_BAD_REQUEST, not retried, logged at error with the path and query', async (status) => {
    const { server, client, log } = await setup((_req, res) =>
      sendJson(res, status, { message: 'Requested date range is greater than 7 days' }),
    );
    const err = await failure(client.getUsage(SITE_ID, '2025-11-13', '2025-11-19'));
    expect(err.code).toBe('AMBER_BAD_REQUEST');
    expect(err.retryable).toBe(false);
    expect(server.requests).toHaveLength(1);
    const line = log.lines.find((l) => l['level'] === 50);
    expect(line).toMatchObject({
      path: `/sites/${SITE_ID}/usage`,
      query: { startDate: '2025-11-13', endDate: '2025-11-19' },
      status,
      body: expect.stringContaining('greater than 7 days'),
    });
  });

  test('5xx is retried with backoff, then succeeds', async () => {
    const { server, client, events } = await setup((_req, res, index) =>
      index < 2 ? sendJson(res, [502, 503][index]!, { message: 'Internal server error' }) : sendJson(res, 200, [SITE]),
    );
    const sites = await client.listSites();
    expect(sites.items).toHaveLength(1);
    expect(server.requests).toHaveLength(3);
    expect(events.map((e) => [e.status, e.attempt])).toEqual([
      [502, 1],
      [503, 2],
      [200, 3],
    ]);
  });

  test('persistent 5xx ends as a retryable AMBER_SERVER after the retry budget', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 500, { message: 'Internal server error' }));
    const err = await failure(client.listSites());
    expect(err.code).toBe('AMBER_SERVER');
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({ status: 500, endpoint: 'sites' });
    expect(server.requests).toHaveLength(3);
  });

  test('every retry waits for the limiter (each one costs quota)', async () => {
    const { client, limiter } = await setup((_req, res) => sendJson(res, 503, {}));
    await failure(client.listSites());
    expect(limiter.snapshot().inWindow).toBe(3);
  });
});

describe('transport failures', () => {
  /** Sends headers promising 1,000 bytes, a fragment, then kills the socket. */
  const resetMidBody: LoopbackHandler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('[{"type":"Curr');
    setTimeout(() => res.socket?.destroy(), 10);
  };

  test('a connection reset mid-body is retried', async () => {
    const { client, events } = await setup((req, res, index) => (index === 0 ? resetMidBody(req, res, index) : sendJson(res, 200, [SITE])));
    const sites = await client.listSites();
    expect(sites.items).toHaveLength(1);
    expect(events.map((e) => e.status)).toEqual(['error', 200]);
  });

  test('persistent resets end as a retryable AMBER_NETWORK', async () => {
    const { server, client } = await setup(resetMidBody);
    const err = await failure(client.listSites());
    expect(err.code).toBe('AMBER_NETWORK');
    expect(err.retryable).toBe(true);
    expect(server.requests).toHaveLength(3);
  });

  test('a refused connection is a network error', async () => {
    const { client } = await setup(() => undefined, { baseUrl: 'http://127.0.0.1:1/v1', retry: { maxAttempts: 1 } });
    expect((await failure(client.listSites())).code).toBe('AMBER_NETWORK');
  });

  test('slow headers time out, are retried, then end as AMBER_TIMEOUT', async () => {
    // A second, not 150 ms: the retry must have reached the server before its own timeout, which a busy machine can
    // delay by more than a blink. The server never answers, so the figure changes nothing else.
    const { server, client } = await setup(() => undefined, { requestTimeoutMs: 1_000, retry: { maxAttempts: 2, baseMs: 1, capMs: 1 } });
    const err = await failure(client.listSites());
    expect(err.code).toBe('AMBER_TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  test('a body that stalls times out', async () => {
    const { client } = await setup(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
      },
      { requestTimeoutMs: 150, retry: { maxAttempts: 1 } },
    );
    expect((await failure(client.listSites())).code).toBe('AMBER_TIMEOUT');
  });

  test('invalid JSON is AMBER_SCHEMA (retryable, not retried here), logged with a sample of the body', async () => {
    const { server, client, log } = await setup((_req, res) => sendJson(res, 200, '<html>Gateway</html>'));
    const err = await failure(client.getPrices(SITE_ID, '2025-11-20', '2025-11-20'));
    expect(err.code).toBe('AMBER_SCHEMA');
    expect(err.retryable).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 50, endpoint: 'prices', site: SITE_ID, sample: '<html>Gateway</html>' }),
    );
  });

  test('a body that is JSON but not an array is AMBER_SCHEMA', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, { message: 'Internal server error' }));
    expect((await failure(client.listSites())).code).toBe('AMBER_SCHEMA');
  });
});

describe('cancellation', () => {
  test('abort cancels an in-flight request promptly and does not retry', async () => {
    const { server, client } = await setup(() => undefined);
    const controller = new AbortController();
    const call = client.listSites({ signal: controller.signal });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const outcome = await Promise.race([failure(call), new Promise((resolve) => setTimeout(resolve, 1_000, 'still running'))]);
    expect(outcome).toMatchObject({ code: 'ABORTED' });
    expect(server.requests).toHaveLength(1);
  });

  test('abort releases a call waiting for the limiter without sending it', async () => {
    const { server, client, limiter } = await setup((_req, res) => sendJson(res, 200, []));
    limiter.pauseUntil(limiter.clock.now() + 60_000);
    const controller = new AbortController();
    const call = client.listSites({ signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const outcome = await Promise.race([failure(call), new Promise((resolve) => setTimeout(resolve, 1_000, 'still waiting'))]);
    expect(outcome).toMatchObject({ code: 'ABORTED' });
    expect(server.requests).toHaveLength(0);
  });

  test('abort during a retry backoff ends the call', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 503, {}), { retry: { maxAttempts: 5, baseMs: 60_000, capMs: 60_000 } });
    const controller = new AbortController();
    const call = client.listSites({ signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect((await failure(call)).code).toBe('ABORTED');
  });
});

describe('close', () => {
  test('closes the dispatcher it created, and is idempotent', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, []));
    await client.listSites();
    await client.close();
    await client.close();
    await expect(client.listSites()).rejects.toMatchObject({ code: expect.stringMatching(/^UND_ERR_(CLOSED|DESTROYED)$/) });
  });

  test('leaves an injected dispatcher open for its owner', async () => {
    const dispatcher = new Agent({ keepAliveTimeout: 10, keepAliveMaxTimeout: 10 });
    cleanups.push(() => dispatcher.close());
    const { client, server } = await setup((_req, res) => sendJson(res, 200, []), { dispatcher });
    await client.close();
    const response = await dispatcher.request({ origin: server.baseUrl.replace('/v1', ''), path: '/v1/sites', method: 'GET' });
    await response.body.dump();
    expect(response.statusCode).toBe(200);
  });
});
