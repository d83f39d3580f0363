/**
 * Short versions of the database fault scenarios (PostgreSQL down or cut; two collectors on one database),
 * run by the default `npm test`. The full suite is `npm run test:faults` (test/faults/).
 */
import { defineFaultSuite } from '../faults/suite.ts';
import { databaseFaults } from '../faults/scenarios/database.ts';
import { twoCollectorsScenario } from '../faults/scenarios/two-collectors.ts';

defineFaultSuite('short', 'test-artifacts/faults-short-database.json', [databaseFaults, twoCollectorsScenario]);
