/**
 * Scenario 1: Amber says 429 in every way it has been seen to: its own limiter (with RateLimit headers)
 * because something else spends the key's budget, the AWS gateway (no headers at all), a bare
 * `Retry-After`, and a lockout that restarts on every request made while it lasts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeAmber, FaultSpec } from '../../fake-amber/server.ts';
import type { CapturedLogger } from '../../helpers/capture-logger.ts';
import { daemonTrial, type Scenario, type Size, type Trial } from '../trial.ts';

/** A 1 s window keeps every wait short; the collector is told the same budget the fake enforces. */
const BUDGET = { limit: 10, windowSeconds: 1 };
const BUDGET_ENV = { AMBER_RATE_LIMIT: '10;w=1' };

/** 429s the collector itself received (the neighbour only calls `/prices/current`, which it never does). */
function collector429s(fake: FakeAmber): number {
  return fake.requests.filter((r) => r.status === 429 && r.endpoint !== 'currentPrices').length;
}

const PAUSED = 'Amber rate limit hit (429); all calls paused';

function pausedOn429(log: CapturedLogger, source: string): string[] {
  const lines = log.lines.filter((l) => l['message'] === PAUSED);
  if (lines.length === 0) return [`no "${PAUSED}" line`];
  return lines.some((l) => l['source'] === source) ? [] : [`the 429 pauses never used ${source} (saw ${[...new Set(lines.map((l) => l['source']))].join(', ')})`];
}

/** Another client on the same key spends the whole budget, again and again, for `ms`. */
async function neighbourStorm(fake: FakeAmber, siteId: string, ms: number): Promise<number> {
  const until = Date.now() + ms;
  const url = `${fake.url}/sites/${siteId}/prices/current?next=1`;
  while (Date.now() < until) {
    await Promise.all(
      Array.from({ length: BUDGET.limit + 2 }, () =>
        fetch(url, { headers: { authorization: `Bearer ${fake.apiKey}` } }).then((r) => r.arrayBuffer()),
      ),
    );
    await sleep(100);
  }
  return Date.now();
}

function storm(days: number, stormMs: number): Trial {
  return {
    label: `storm with RateLimit headers (another client spends the budget for ${stormMs} ms)`,
    run: () =>
      daemonTrial({
        world: { days, rateLimit: BUDGET },
        env: BUDGET_ENV,
        // The storm starts as the collector does.
        during: (world) => neighbourStorm(world.fake, world.sites[0]!.id, stormMs),
        recoveryTimeoutMs: 90_000,
        expect: (world, daemon) => [
          ...(collector429s(world.fake) > 0 ? [] : ['the collector never saw a 429']),
          ...pausedOn429(daemon.log, 'ratelimit-reset'),
        ],
      }),
  };
}

function injected(faults: FaultSpec[], source: string, label: string, days: number): Trial {
  return {
    label,
    run: () =>
      daemonTrial({
        world: { days, rateLimit: BUDGET },
        env: BUDGET_ENV,
        before: (world) => faults.forEach((fault) => world.fake.inject(fault)),
        recoveryTimeoutMs: 90_000,
        expect: (world, daemon) => [
          ...(collector429s(world.fake) > 0 ? [] : ['the collector never saw a 429']),
          ...pausedOn429(daemon.log, source),
        ],
      }),
  };
}

/**
 * A lockout as users describe it (API-NOTES §6): about one window long, counted from the last request.
 * Calls already in flight when it starts may each meet it once; a call sent again before it ends would
 * restart it, so no call may be refused twice.
 */
function lockout(days: number): Trial {
  return {
    label: 'lockout of one window (1 s, restarted by every request during it)',
    run: () =>
      daemonTrial({
        world: { days, rateLimit: BUDGET },
        env: BUDGET_ENV,
        before: (world) => world.fake.inject({ kind: 'lockout', seconds: BUDGET.windowSeconds, endpoint: 'prices' }),
        recoveryTimeoutMs: 90_000,
        expect: (world, daemon) => {
          const refusedAgain = daemon.log.lines.filter((l) => l['message'] === PAUSED && l['source'] === 'ratelimit-reset' && Number(l['attempt']) > 1);
          const refused = world.fake.requests.filter((r) => r.fault === 'lockout').length;
          return [
            ...pausedOn429(daemon.log, 'ratelimit-reset'),
            ...(refusedAgain.length === 0 ? [] : [`${refusedAgain.length} calls were sent into the lockout again (${refused} refusals in all)`]),
          ];
        },
      }),
  };
}

/** The short version: every kind of 429 in one run, while another client spends the budget for a while. */
function everyKind(days: number, stormMs: number): Trial {
  const faults: FaultSpec[] = [
    { kind: 'bare429', endpoint: 'prices' },
    { kind: 'retryAfter429', seconds: 1, endpoint: 'usage' },
    { kind: 'lockout', seconds: BUDGET.windowSeconds, endpoint: 'prices' },
  ];
  return {
    label: `a gateway 429, a Retry-After 429 and a lockout, during a ${stormMs} ms storm from another client`,
    run: () =>
      daemonTrial({
        world: { days, rateLimit: BUDGET },
        env: BUDGET_ENV,
        before: (world) => faults.forEach((fault) => world.fake.inject(fault)),
        during: async (world) => {
          await neighbourStorm(world.fake, world.sites[0]!.id, stormMs);
        },
        recoveryTimeoutMs: 60_000,
        expect: (_world, daemon) => ['window', 'retry-after', 'ratelimit-reset'].flatMap((source) => pausedOn429(daemon.log, source)),
      }),
  };
}

export const rateLimiting: Scenario = {
  name: '1 rate limiting (429)',
  trials(size: Size): Trial[] {
    if (size === 'short') {
      return [everyKind(10, 1_000)];
    }
    const days = 30;
    const burst = 8;
    const trials: Trial[] = [];
    for (let round = 0; round < 2; round++) {
      trials.push(
        storm(days, 4_000),
        injected(
          [{ kind: 'bare429', endpoint: 'prices', times: burst }, { kind: 'bare429', endpoint: 'usage', times: burst }],
          'window',
          `gateway 429 without headers ×${burst} on prices and on usage`,
          days,
        ),
        injected(
          [{ kind: 'retryAfter429', seconds: 1, endpoint: 'prices', times: burst }, { kind: 'retryAfter429', seconds: 1, times: burst }],
          'retry-after',
          `429 with only Retry-After: 1 ×${burst} on prices and on anything`,
          days,
        ),
        lockout(days),
      );
    }
    return trials;
  },
};
