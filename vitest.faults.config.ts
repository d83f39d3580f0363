import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the full fault-injection suite (test/faults/). Minutes, not seconds: it kills
 * processes, cuts database connections and waits out rate-limit windows, many times over. The default
 * `npm test` runs a short version of every scenario (test/faults-short.test.ts).
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // One scenario at a time: trials time kills and pauses, and a second busy file would skew them.
    fileParallelism: false,
    testTimeout: 20 * 60_000,
    hookTimeout: 120_000,
  },
});
