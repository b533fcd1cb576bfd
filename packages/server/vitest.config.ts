import { defineConfig } from 'vitest/config';

// Two cores: run two files at a time. Files that start server child processes are marked
// with `describe.sequential` and keep their own work small so they do not fight.
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
