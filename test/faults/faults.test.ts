/**
 * The full fault-injection suite (`npm run test:faults`): every scenario, many trials each. Ends with a
 * table on stdout and `test-artifacts/faults-report.json`.
 */
import { defineFaultSuite } from './suite.ts';

defineFaultSuite('full', 'test-artifacts/faults-report.json');
