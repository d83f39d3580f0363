import { exitCodeFor } from './errors.ts';
process.exitCode = exitCodeFor(null) - 75;
