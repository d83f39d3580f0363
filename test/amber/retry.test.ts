import { describe, expect, test } from 'vitest';
import {
  backoffDelayMs,
  classifyStatus,
  classifyTransportError,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
} from '../../src/amber/retry.ts';

describe('classifyStatus', () => {
  test.each([
    [200, 'success'],
    [204, 'success'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'not-found'],
    [400, 'bad-request'],
    [422, 'bad-request'],
    [405, 'bad-request'],
    [301, 'bad-request'],
    [429, 'rate-limited'],
    [408, 'server-error'],
    [500, 'server-error'],
    [502, 'server-error'],
    [503, 'server-error'],
    [504, 'server-error'],
  ])('%i → %s', (status, outcome) => {
    expect(classifyStatus(status)).toBe(outcome);
  });
});

describe('classifyTransportError', () => {
  test.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'AMBER_TIMEOUT'],
    ['UND_ERR_HEADERS_TIMEOUT', 'AMBER_TIMEOUT'],
    ['UND_ERR_BODY_TIMEOUT', 'AMBER_TIMEOUT'],
    ['ETIMEDOUT', 'AMBER_TIMEOUT'],
    ['UND_ERR_SOCKET', 'AMBER_NETWORK'],
    ['ECONNRESET', 'AMBER_NETWORK'],
    ['ECONNREFUSED', 'AMBER_NETWORK'],
    ['ENOTFOUND', 'AMBER_NETWORK'],
    ['UND_ERR_INVALID_ARG', null],
    ['UND_ERR_CLOSED', null],
    ['UND_ERR_DESTROYED', null],
  ])('%s → %s', (code, expected) => {
    expect(classifyTransportError(Object.assign(new Error('x'), { code }))).toBe(expected);
  });

  test('an error without a code is a bug, not a network problem', () => {
    expect(classifyTransportError(new TypeError('undefined is not a function'))).toBeNull();
    expect(classifyTransportError(null)).toBeNull();
  });
});

describe('backoffDelayMs (full jitter)', () => {
  test('draws from [0, min(cap, base·2^attempt))', () => {
    const policy = DEFAULT_RETRY_POLICY;
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelayMs(attempt, policy, () => 0.999_999))).toEqual([
      999, 1_999, 3_999, 7_999, 15_999, 31_999, 59_999, 59_999,
    ]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(4_000);
  });

  test('defaults: base 1 s, cap 60 s, 5 attempts', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({ maxAttempts: 5, baseMs: 1_000, capMs: 60_000 });
  });

  test('with Math.random the delays stay inside their bounds', () => {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const delay = backoffDelayMs(attempt, DEFAULT_RETRY_POLICY, Math.random);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(60_000, 1_000 * 2 ** attempt));
    }
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-03-10T06:45:01Z');

  test('delta seconds', () => {
    expect(parseRetryAfterMs('120', now)).toBe(120_000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
    expect(parseRetryAfterMs(['5', '9'], now)).toBe(5_000);
  });

  test('an HTTP date, in the future or already past', () => {
    expect(parseRetryAfterMs('Tue, 10 Mar 2026 06:46:01 GMT', now)).toBe(60_000);
    expect(parseRetryAfterMs('Tue, 10 Mar 2026 06:40:00 GMT', now)).toBe(0);
  });

  test('absent or malformed values are ignored', () => {
    for (const value of [undefined, '', 'soon', '1.5', '-3', '10 seconds']) expect(parseRetryAfterMs(value, now)).toBeNull();
  });
});
