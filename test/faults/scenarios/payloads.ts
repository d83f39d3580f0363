/**
 * Scenario 3: Amber answers 200 with something other than what the collector expects: invalid JSON, one
 * element of a wrong type, enum values it has never seen, fields it has never seen, and an empty array
 * for a past day. The good data must land, the bad must be logged with a sample and fetched again later,
 * and nothing may crash.
 */
import { addDays } from '../../../src/domain/nem-time.ts';
import type { FaultSpec } from '../../fake-amber/server.ts';
import type { CapturedLogger } from '../../helpers/capture-logger.ts';
import { daemonTrial, type Scenario, type Size, type Trial } from '../trial.ts';
import type { World } from '../world.ts';

type LogExpectation = (log: CapturedLogger, world: World) => string[];

function trial(label: string, faults: (world: World) => FaultSpec[], days: number, expectations: LogExpectation[]): Trial {
  return {
    label,
    run: () =>
      daemonTrial({
        world: { days },
        before: (world) => faults(world).forEach((fault) => world.fake.inject(fault)),
        recoveryTimeoutMs: 60_000,
        expect: (world, daemon) => expectations.flatMap((check) => check(daemon.log, world)),
      }),
  };
}

/** A log line with `message` that carries a non-empty `field` (the sample a person needs to see the problem). */
function loggedWith(msg: string, field: string): LogExpectation {
  return (log) => {
    const line = log.lines.find((l) => l['message'] === msg);
    if (!line) return [`no "${msg}" line`];
    const value = line[field];
    const empty = value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
    return empty ? [`"${msg}" carries no ${field}`] : [];
  };
}

/** The fault fired on a price request for days before yesterday (a backfill chunk, not the trailing window). */
function hitPastDays(kind: string): LogExpectation {
  return (_log, world) => {
    const hit = world.fake.requests.find((r) => r.fault === kind && r.endpoint === 'prices');
    if (!hit) return [`the ${kind} fault never fired on prices`];
    const endDate = hit.query['endDate'] ?? '';
    return endDate < world.checkThrough ? [] : [`the ${kind} fault hit ${hit.query['startDate']}..${endDate}, not a past range`];
  };
}

const activeSite = (world: World, intervalLength: 5 | 30): string =>
  world.sites.find((s) => s.status === 'active' && s.intervalLength === intervalLength)!.id;

/**
 * A stream's first price request is the cycle's trailing window (the backfill reads its plan from the
 * database first): a harmless fault ahead in the queue takes it, so the next one meets the backfill's
 * first chunk. Usage needs no such care: every usage day the collector asks for is a past day.
 */
function onFirstBackfillChunk(fault: FaultSpec & { siteId: string; endpoint: 'prices' }): FaultSpec[] {
  return [{ kind: 'unknownFields', endpoint: fault.endpoint, siteId: fault.siteId }, fault];
}

export const malformedPayloads: Scenario = {
  name: '3 malformed payloads',
  trials(size: Size): Trial[] {
    const days = size === 'short' ? 14 : 30;
    const invalidJson = trial(
      'invalid JSON (a body cut half-way) ×2',
      () => [{ kind: 'truncated', endpoint: 'prices', times: 2 }],
      days,
      [loggedWith('Amber sent a body that is not a JSON array', 'sample')],
    );
    const wrongType = trial(
      'one element of a wrong type, in prices and in usage',
      (world) => [
        ...onFirstBackfillChunk({ kind: 'badRow', endpoint: 'prices', siteId: activeSite(world, 5) }),
        { kind: 'badRow', endpoint: 'usage', siteId: activeSite(world, 30) },
      ],
      days,
      [loggedWith('Amber response has elements that failed validation', 'sample')],
    );
    const newEnums = trial(
      'new enum values (site status, channel type, descriptor, spike status, tariff period)',
      () => [
        { kind: 'newEnum', endpoint: 'sites' },
        { kind: 'newEnum', endpoint: 'prices', times: 3 },
        { kind: 'newEnum', endpoint: 'usage', times: 2 },
      ],
      days,
      [],
    );
    const unknownFields = trial('unknown fields, one of them a nested object', () => [{ kind: 'unknownFields', times: 6 }], days, []);
    const emptyPastDays = trial(
      'an empty array for past days (the first backfill chunk of prices and of usage)',
      (world) => [
        ...onFirstBackfillChunk({ kind: 'empty', endpoint: 'prices', siteId: activeSite(world, 5) }),
        { kind: 'empty', endpoint: 'usage', siteId: activeSite(world, 30) },
      ],
      days,
      [hitPastDays('empty')],
    );
    const missingDay = trial(
      'one past day missing from a response that has the days around it',
      (world) => onFirstBackfillChunk({ kind: 'dropIntervals', fraction: 0, days: [addDays(world.startDate, 3)], endpoint: 'prices', siteId: activeSite(world, 5) }),
      days,
      [hitPastDays('dropIntervals')],
    );
    if (size === 'short') {
      return [
        trial(
          'all at once: invalid JSON, a wrong type, new enums, unknown fields, an empty past chunk',
          (world) => [
            ...onFirstBackfillChunk({ kind: 'empty', endpoint: 'prices', siteId: activeSite(world, 5) }),
            { kind: 'badRow', endpoint: 'usage', siteId: activeSite(world, 30) },
            { kind: 'newEnum', endpoint: 'sites' },
            { kind: 'truncated', endpoint: 'prices' },
            { kind: 'newEnum', endpoint: 'usage' },
          ],
          days,
          [
            loggedWith('Amber sent a body that is not a JSON array', 'sample'),
            loggedWith('Amber response has elements that failed validation', 'sample'),
            hitPastDays('empty'),
          ],
        ),
      ];
    }
    return [invalidJson, wrongType, newEnums, unknownFields, emptyPastDays, missingDay];
  },
};
