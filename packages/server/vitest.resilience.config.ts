import { defineConfig } from 'vitest/config';

// `npm run test:resilience` (scripts/run-resilience.mjs): server processes killed and restarted,
// receivers that fail on purpose. One file at a time: they would fight over the 2 cores.
export default defineConfig({
  test: {
    include: ['resilience/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    reporters: ['default', 'json'],
  },
});
