/**
 * Short versions of the Amber fault scenarios (429s; 5xx, timeouts, resets; malformed payloads), run by
 * the default `npm test`. The full suite is `npm run test:faults` (test/faults/).
 */
import { defineFaultSuite } from '../faults/suite.ts';
import { malformedPayloads } from '../faults/scenarios/payloads.ts';
import { rateLimiting } from '../faults/scenarios/rate-limiting.ts';
import { serverFaults } from '../faults/scenarios/server-faults.ts';

defineFaultSuite('short', 'test-artifacts/faults-short-amber.json', [rateLimiting, serverFaults, malformedPayloads]);
