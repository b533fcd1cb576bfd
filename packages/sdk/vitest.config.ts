import { defineConfig } from 'vitest/config';

// Two cores shared with other people's runs: two files at a time. The JSON report is what the
// repository's CI adds up (scripts/test-summary.mjs reads packages/*/test-results/*.json).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/sdk.json' },
  },
});
