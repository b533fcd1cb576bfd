import { defineConfig } from 'vitest/config';

// Two cores: run two files at a time. scripts/run-tests.mjs runs the files that start server
// processes in passes of their own, one file at a time.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
