import { defineConfig } from 'vitest/config';

// Each test file starts a hookbridge process and a chromium: one file at a time on 2 cores.
// The JSON report lands in test-results/, where the repository's .ci/run adds it up.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/browser.json' },
  },
});
