import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**', 'node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each file gets its own database, so files run in parallel safely. Two at a time even on 2 cores (vitest's
    // default there is one): most of a file's time is spent waiting on daemons, databases and timers, not the CPU.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
