/**
 * Short versions of the process scenarios (SIGKILL and SIGTERM; paused past several cycles; bad
 * configuration), run by the default `npm test`. The full suite is `npm run test:faults` (test/faults/).
 */
import { defineFaultSuite } from '../faults/suite.ts';
import { configuration } from '../faults/scenarios/configuration.ts';
import { processKills } from '../faults/scenarios/kills.ts';
import { pauses } from '../faults/scenarios/pauses.ts';

defineFaultSuite('short', 'test-artifacts/faults-short-process.json', [processKills, pauses, configuration]);
