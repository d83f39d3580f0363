import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**', 'node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Bounds on a hang, not speed tests: two files at a time on a busy 2-core machine can take minutes where a
    // quiet one takes seconds, and a test that measures a duration says so with its own assertion.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file gets its own database, so files run in parallel safely. At least two at a time, even on 2 cores
    // (vitest's default there is one): most of a file's time is spent waiting on daemons, databases and timers,
    // not the CPU. The tests wait for conditions, not for fixed times, so a busy CPU slows them without failing them.
    fileParallelism: true,
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
