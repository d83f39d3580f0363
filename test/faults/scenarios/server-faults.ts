/**
 * Scenario 2: Amber (or its gateway) fails the request itself: bursts of 5xx, answers that stall past the
 * request timeout (before the headers, or half-way through the body), and connections reset mid-body.
 */
import type { FaultSpec } from '../../fake-amber/server.ts';
import { daemonTrial, type Scenario, type Size, type Trial } from '../trial.ts';

/** Requests give up after 1 s, so a 1.5 s stall is a timeout. */
const SHORT_TIMEOUT_ENV = { AMBER_REQUEST_TIMEOUT_SECONDS: '1' };
const STALL_MS = 1_500;

function trial(label: string, faults: FaultSpec[], days: number): Trial {
  return {
    label,
    run: () =>
      daemonTrial({
        world: { days },
        env: SHORT_TIMEOUT_ENV,
        before: (world) => faults.forEach((fault) => world.fake.inject(fault)),
        recoveryTimeoutMs: 90_000,
        expect: (world) => {
          const fired = world.fake.requests.filter((r) => r.fault !== null).length;
          const queued = faults.reduce((n, f) => n + (f.times ?? 1), 0);
          return fired === queued ? [] : [`only ${fired} of ${queued} queued faults fired`];
        },
      }),
  };
}

export const serverFaults: Scenario = {
  name: '2 5xx, timeouts, resets',
  trials(size: Size): Trial[] {
    const days = size === 'short' ? 10 : 30;
    if (size === 'short') {
      return [
        trial(
          'one of each: 503, 502, slow headers, slow body, reset',
          [
            { kind: 'status', status: 503, endpoint: 'prices' },
            { kind: 'status', status: 502, endpoint: 'usage' },
            { kind: 'slowHeaders', ms: STALL_MS, endpoint: 'prices' },
            { kind: 'slowBody', ms: STALL_MS, endpoint: 'usage' },
            { kind: 'reset', endpoint: 'prices' },
          ],
          days,
        ),
      ];
    }
    return [
      trial('5xx burst: 500 ×2, 502 ×2, 503 ×3, 504 ×2', [
        { kind: 'status', status: 500, times: 2 },
        { kind: 'status', status: 502, endpoint: 'usage', times: 2 },
        { kind: 'status', status: 503, endpoint: 'prices', times: 3 },
        { kind: 'status', status: 504, times: 2 },
      ], days),
      // Six failures in a row outlast the client's five attempts: the stream must fail and be resumed.
      trial('5xx burst longer than the retry budget: 503 ×6 on prices', [{ kind: 'status', status: 503, endpoint: 'prices', times: 6 }], days),
      trial(`slow headers (${STALL_MS} ms, timeout 1 s) ×3`, [{ kind: 'slowHeaders', ms: STALL_MS, times: 3 }], days),
      trial(`slow body (${STALL_MS} ms mid-body, timeout 1 s) ×3`, [{ kind: 'slowBody', ms: STALL_MS, times: 3 }], days),
      trial('connection reset mid-body ×4', [
        { kind: 'reset', endpoint: 'prices', times: 2 },
        { kind: 'reset', endpoint: 'usage', times: 2 },
      ], days),
      trial('everything at once', [
        { kind: 'status', status: 502, times: 2 },
        { kind: 'slowHeaders', ms: STALL_MS, endpoint: 'prices' },
        { kind: 'reset', endpoint: 'usage' },
        { kind: 'slowBody', ms: STALL_MS, endpoint: 'prices' },
        { kind: 'status', status: 500, endpoint: 'sites' },
      ], days),
    ];
  },
};
