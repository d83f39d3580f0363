/**
 * The fake's rate limiter (API-NOTES §6) and every injectable fault, over real loopback HTTP. Time-based
 * behaviour uses short real windows (about a second); assertions are on statuses, headers and bodies, and
 * only lower bounds on elapsed time (a server delay can never finish early).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { get, rowsOf } from './http-get.ts';
import { createOpenApiValidator } from './openapi-validator.ts';
import { type FakeAmber, type FakeSiteSpec, defaultSites, startFakeAmber } from './server.ts';

const NOW = new Date('2026-11-20T03:12:34Z');
const [FIVE_MIN, THIRTY_MIN] = defaultSites(NOW) as [FakeSiteSpec, FakeSiteSpec];
const PAST_DAY = { startDate: '2026-11-17', endDate: '2026-11-17' };
const pricesPath = (site: FakeSiteSpec) => `/sites/${site.id}/prices`;

let fake: FakeAmber;

beforeAll(async () => {
  fake = await startFakeAmber({ now: () => NOW, rateLimit: null });
});
afterEach(() => {
  fake.clearFaults();
  fake.setRateLimit(null);
});
afterAll(async () => {
  await fake.close();
});

function rateLimitHeaders(headers: Headers): Record<string, string | null> {
  return {
    limit: headers.get('ratelimit-limit'),
    remaining: headers.get('ratelimit-remaining'),
    reset: headers.get('ratelimit-reset'),
    policy: headers.get('ratelimit-policy'),
  };
}

describe('rate limiting (API-NOTES §6)', () => {
  test('the default policy is 50;w=300, announced on every authenticated response', async () => {
    const limited = await startFakeAmber({ now: () => NOW });
    try {
      const first = await get(limited, '/sites');
      expect(rateLimitHeaders(first.headers)).toEqual({ limit: '50', remaining: '49', reset: '300', policy: '50;w=300' });
      const second = await get(limited, pricesPath(THIRTY_MIN), PAST_DAY);
      expect(second.headers.get('ratelimit-remaining')).toBe('48');
      // No auth, no per-key budget: the renewables endpoint carries no RateLimit headers.
      const open = await get(limited, '/state/qld/renewables/current', {}, { apiKey: null });
      expect(open.headers.get('ratelimit-limit')).toBeNull();
    } finally {
      await limited.close();
    }
  });

  test('a short sliding window: remaining counts down, the next call is 429 with honest headers, then frees up', async () => {
    fake.setRateLimit({ limit: 3, windowSeconds: 1 });
    const remaining: Array<string | null> = [];
    for (let i = 0; i < 3; i++) {
      const ok = await get(fake, '/sites');
      expect(ok.status).toBe(200);
      remaining.push(ok.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await get(fake, '/sites');
    expect(refused.status).toBe(429);
    expect(refused.json).toEqual({ message: 'Too Many Requests' });
    expect(rateLimitHeaders(refused.headers)).toEqual({ limit: '3', remaining: '0', reset: '1', policy: '3;w=1' });
    expect(refused.headers.get('x-amzn-errortype')).toBeNull();

    await sleep(Number(refused.headers.get('ratelimit-reset')) * 1000 + 50);
    const again = await get(fake, '/sites');
    expect(again.status).toBe(200);
    expect(again.headers.get('ratelimit-remaining')).toBe('2');
  });

  test('refused calls do not count; auth failures carry no RateLimit headers', async () => {
    fake.setRateLimit({ limit: 1, windowSeconds: 60 });
    expect((await get(fake, '/sites')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get(fake, '/sites')).status).toBe(429);
    const reset = Number((await get(fake, '/sites')).headers.get('ratelimit-reset'));
    expect(reset).toBeGreaterThan(55);
    expect(reset).toBeLessThanOrEqual(60);
    const denied = await get(fake, '/sites', {}, { apiKey: 'psk_wrong' });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('ratelimit-limit')).toBeNull();
  });
});

describe('replacement faults', () => {
  test('status: default live bodies, custom bodies, `times`, then normal service', async () => {
    fake.inject({ kind: 'status', status: 500, times: 2 });
    fake.inject({ kind: 'status', status: 503 });
    fake.inject({ kind: 'status', status: 400, body: { message: 'nope' } });
    const responses = [];
    for (let i = 0; i < 5; i++) responses.push(await get(fake, '/sites'));
    expect(responses.map((r) => r.status)).toEqual([500, 500, 503, 400, 200]);
    expect(responses[0]?.text).toBe('{"message": "Internal server error"}');
    expect(responses[2]?.json).toEqual({ message: 'Service Unavailable' });
    expect(responses[3]?.json).toEqual({ message: 'nope' });
  });

  test('faults match by endpoint and site; others pass and the fault waits its turn', async () => {
    fake.inject({ kind: 'status', status: 502, endpoint: 'prices', siteId: FIVE_MIN.id });
    expect((await get(fake, '/sites')).status).toBe(200);
    expect((await get(fake, pricesPath(THIRTY_MIN), PAST_DAY)).status).toBe(200);
    expect((await get(fake, `/sites/${FIVE_MIN.id}/prices/current`)).status).toBe(200);
    expect((await get(fake, pricesPath(FIVE_MIN), PAST_DAY)).status).toBe(502);
    expect((await get(fake, pricesPath(FIVE_MIN), PAST_DAY)).status).toBe(200);
  });

  test('bare429: the gateway throttle, without RateLimit headers (API-NOTES §6, issue #280)', async () => {
    fake.setRateLimit({ limit: 50, windowSeconds: 300 });
    fake.inject({ kind: 'bare429' });
    const throttled = await get(fake, '/sites');
    expect(throttled.status).toBe(429);
    expect(throttled.text).toBe('{"message":"Too Many Requests"}');
    expect(throttled.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(throttled.headers.get('ratelimit-remaining')).toBeNull();
    expect(throttled.headers.get('retry-after')).toBeNull();
    // It happened in front of Amber's limiter, so it cost no quota.
    expect((await get(fake, '/sites')).headers.get('ratelimit-remaining')).toBe('49');
  });

  test('retryAfter429: only Retry-After', async () => {
    fake.inject({ kind: 'retryAfter429', seconds: 7 });
    const throttled = await get(fake, '/sites');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(throttled.headers.get('ratelimit-reset')).toBeNull();
  });

  test('lockout: every request while locked is refused and pushes the end out again', async () => {
    fake.setRateLimit({ limit: 50, windowSeconds: 300 });
    fake.inject({ kind: 'lockout', seconds: 1.2, endpoint: 'usage' });
    expect((await get(fake, '/sites')).status).toBe(200);
    const start = await get(fake, `/sites/${THIRTY_MIN.id}/usage`, PAST_DAY);
    expect(start.status).toBe(429);
    expect(rateLimitHeaders(start.headers)).toMatchObject({ remaining: '0', reset: '2' });
    // 3 × 0.45 s: past the original 1.2 s, yet still locked because each refusal restarted the lockout.
    for (let i = 0; i < 3; i++) {
      await sleep(450);
      const during = await get(fake, '/sites');
      expect(during.status).toBe(429);
    }
    await sleep(1300);
    expect((await get(fake, '/sites')).status).toBe(200);
    expect(fake.requests.filter((r) => r.fault === 'lockout')).toHaveLength(4);
  });
});

describe('transport faults', () => {
  test('slowHeaders: the response starts only after the delay', async () => {
    fake.inject({ kind: 'slowHeaders', ms: 300 });
    const started = performance.now();
    const response = await fetch(`${fake.url}/sites`, { headers: { Authorization: `Bearer ${fake.apiKey}` } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveLength(4);
  });

  test('slowBody: headers, part of the body, a pause, then the rest; the JSON is complete', async () => {
    fake.inject({ kind: 'slowBody', ms: 300 });
    const started = performance.now();
    const response = await fetch(`${fake.url}${pricesPath(FIVE_MIN)}?startDate=2026-11-17&endDate=2026-11-17`, {
      headers: { Authorization: `Bearer ${fake.apiKey}` },
    });
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    // Part of the body is readable before the pause (the JSON array has begun)...
    let text = decoder.decode((await reader?.read())?.value, { stream: true });
    expect(text.startsWith('[{"type":"ActualInterval"')).toBe(true);
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      text += decoder.decode(chunk.value, { stream: true });
    }
    // ...and the rest only after it.
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    expect(JSON.parse(text)).toHaveLength(864);
  });

  test('truncated: a complete HTTP message whose JSON is cut off', async () => {
    fake.inject({ kind: 'truncated' });
    const result = await get(fake, pricesPath(THIRTY_MIN), PAST_DAY);
    expect(result.status).toBe(200);
    expect(result.json).toBeUndefined();
    expect(result.text.startsWith('[{"type":"ActualInterval"')).toBe(true);
    expect(() => JSON.parse(result.text)).toThrow(SyntaxError);
  });

  test('reset: the socket is destroyed mid-body', async () => {
    fake.inject({ kind: 'reset' });
    const response = await fetch(`${fake.url}${pricesPath(THIRTY_MIN)}?startDate=2026-11-17&endDate=2026-11-17`, {
      headers: { Authorization: `Bearer ${fake.apiKey}` },
    });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect((await get(fake, pricesPath(THIRTY_MIN), PAST_DAY)).status).toBe(200);
  });
});

describe('body faults', () => {
  const spec = createOpenApiValidator();

  test('unknownFields: extra keys, including a nested object, on every element; known fields intact', async () => {
    const clean = rowsOf(await get(fake, pricesPath(THIRTY_MIN), PAST_DAY));
    fake.inject({ kind: 'unknownFields' });
    const extended = rowsOf(await get(fake, pricesPath(THIRTY_MIN), PAST_DAY));
    expect(extended).toHaveLength(clean.length);
    extended.forEach((row, i) => {
      const { carbonIntensity, loyalty, ...known } = row;
      expect(typeof carbonIntensity).toBe('number');
      expect(loyalty).toMatchObject({ tier: 'gold' });
      expect(known).toEqual(clean[i]);
    });
    // Unknown keys are allowed by the spec, so a tolerant client must accept them.
    expect(spec.problems('Interval', extended)).toEqual([]);
    fake.inject({ kind: 'unknownFields', endpoint: 'sites' });
    expect(rowsOf(await get(fake, '/sites')).every((site) => 'loyalty' in site)).toBe(true);
  });

  test('newEnum: a new descriptor, spike status and tariff period on the first rows only', async () => {
    const clean = rowsOf(await get(fake, pricesPath(THIRTY_MIN), PAST_DAY));
    fake.inject({ kind: 'newEnum' });
    const rows = rowsOf(await get(fake, pricesPath(THIRTY_MIN), PAST_DAY));
    expect(rows[0]?.['descriptor']).toBe('ultraLow');
    expect(rows[1]?.['spikeStatus']).toBe('imminent');
    expect(rows[2]?.['tariffInformation']).toEqual({ period: 'superOffPeak', season: 'default' });
    expect(rows.slice(3)).toEqual(clean.slice(3));
    expect(spec.problems('Interval', rows)).toHaveLength(3);
    fake.inject({ kind: 'newEnum', endpoint: 'sites' });
    const sites = rowsOf(await get(fake, '/sites'));
    expect(sites[0]?.['status']).toBe('transferring');
  });

  test('badRow: one element with a wrong type, in the middle by default or at the index given', async () => {
    fake.inject({ kind: 'badRow' });
    const rows = rowsOf(await get(fake, pricesPath(THIRTY_MIN), PAST_DAY));
    expect(rows.map((row) => typeof row['perKwh'])).toEqual([...Array(24).fill('number'), 'string', ...Array(23).fill('number')]);
    expect(spec.problems('Interval', rows)).toHaveLength(1);
    fake.inject({ kind: 'badRow', index: 0, endpoint: 'usage' });
    const usage = rowsOf(await get(fake, `/sites/${THIRTY_MIN.id}/usage`, PAST_DAY));
    expect(usage[0]?.['perKwh']).toBe('abc');
    expect(spec.problems('Usage', usage)).toHaveLength(1);
  });

  test('empty: [] for a past range once, then everything again', async () => {
    fake.inject({ kind: 'empty', endpoint: 'usage' });
    const usagePath = `/sites/${THIRTY_MIN.id}/usage`;
    expect(rowsOf(await get(fake, usagePath, PAST_DAY))).toEqual([]);
    expect(rowsOf(await get(fake, usagePath, PAST_DAY))).toHaveLength(48);
  });

  test('dropIntervals: the same intervals missing on every channel, whole days too; later calls complete', async () => {
    const query = { startDate: '2026-11-15', endDate: '2026-11-17' };
    fake.inject({ kind: 'dropIntervals', fraction: 0.1, days: ['2026-11-16'] });
    const gappy = rowsOf(await get(fake, pricesPath(FIVE_MIN), query));
    const ends = (type: string) => gappy.filter((row) => row['channelType'] === type).map((row) => row['endTime']);
    expect(ends('feedIn')).toEqual(ends('general'));
    expect(ends('controlledLoad')).toEqual(ends('general'));
    expect(gappy.some((row) => row['date'] === '2026-11-16')).toBe(false);
    const perChannel = ends('general').length;
    expect(perChannel).toBeLessThan(2 * 288);
    expect(perChannel).toBeGreaterThan(2 * 288 * 0.8);
    expect(rowsOf(await get(fake, pricesPath(FIVE_MIN), query))).toHaveLength(3 * 3 * 288);
    expect(fake.requests.at(-2)?.fault).toBe('dropIntervals');
    expect(fake.requests.at(-1)?.fault).toBeNull();
  });

  test('clearFaults drops everything queued', async () => {
    fake.inject({ kind: 'status', status: 500, times: 5 });
    fake.clearFaults();
    expect((await get(fake, '/sites')).status).toBe(200);
  });
});
