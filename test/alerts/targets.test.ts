/** Naming webhook targets without their secrets, and quiet hours in NEM time. */
import { describe, expect, it } from 'vitest';
import { isQuiet, quietEnds } from '../../src/alerts/quiet-hours.ts';
import { describeTarget, scrubbedErrorText } from '../../src/alerts/targets.ts';

describe('webhook targets', () => {
  it('are named by scheme and host only', () => {
    expect(describeTarget('https://discord.com/api/webhooks/123/SECRET')).toBe('https://discord.com/…');
    expect(describeTarget('https://user:SECRET@ha.example.net:8123/api/webhook/SECRET?token=SECRET')).toBe('https://ha.example.net:8123/…');
    expect(describeTarget('http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000/');
  });

  it('scrub the URL, its path and its query out of error texts', () => {
    const url = 'https://ntfy.example.net/SECRET-topic?auth=SECRET';
    expect(scrubbedErrorText(new Error(`POST ${url} failed`), url)).toBe('POST … failed');
    expect(scrubbedErrorText(Object.assign(new Error('bad /SECRET-topic?auth=SECRET'), { code: 'ECONNRESET' }), url)).toBe('ECONNRESET: bad …');
  });
});

describe('quiet hours (NEM time)', () => {
  const overnight = { from: 22 * 60, to: 7 * 60 };
  it('hold from the start minute to the end minute, across midnight', () => {
    expect(isQuiet(overnight, new Date('2025-11-21T11:59:00Z'))).toBe(false); // 21:59 NEM
    expect(isQuiet(overnight, new Date('2025-11-21T12:00:00Z'))).toBe(true); // 22:00 NEM
    expect(isQuiet(overnight, new Date('2025-11-21T20:59:59Z'))).toBe(true); // 06:59 NEM
    expect(isQuiet(overnight, new Date('2025-11-21T21:00:00Z'))).toBe(false); // 07:00 NEM
    expect(isQuiet({ from: 60, to: 120 }, new Date('2025-11-21T15:30:00Z'))).toBe(true); // 01:30 NEM
    expect(isQuiet(null, new Date())).toBe(false);
  });

  it('end at the next end minute', () => {
    expect(quietEnds(overnight, new Date('2025-11-21T12:00:30Z')).toISOString()).toBe('2025-11-21T21:00:00.000Z');
    expect(quietEnds(overnight, new Date('2025-11-21T20:59:59Z')).toISOString()).toBe('2025-11-21T21:00:00.000Z');
  });
});
