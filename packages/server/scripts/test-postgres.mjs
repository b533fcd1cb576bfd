#!/usr/bin/env node
// Second pass of `npm test`: the store and end-to-end suites against PostgreSQL. With CI=true an
// unreachable server fails the run; elsewhere the pass is skipped with one line saying so.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const url = process.env.HOOKBRIDGE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
try {
  await client.connect();
  await client.end();
} catch (err) {
  if (process.env.CI === 'true') {
    console.error(`PostgreSQL at ${url} is unreachable (${err.message}); CI needs it. Failing.`);
    process.exit(1);
  }
  console.log(`SKIPPED: PostgreSQL half of the suite — no server at ${url} (${err.message}). Set HOOKBRIDGE_TEST_PG_URL or start PostgreSQL.`);
  process.exit(0);
}
const result = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    'test/',
    // Process-level tests are about the embedded store (its data-dir lock, its restart); the
    // multi-process PostgreSQL suite comes with --role.
    '--exclude',
    'test/process.test.ts',
    // PostgreSQL-only files: they run in the first pass already, on databases of their own.
    '--exclude',
    'test/postgres-outage.test.ts',
    '--exclude',
    'test/roles.test.ts',
    '--exclude',
    'test/multi-worker.test.ts',
    '--exclude',
    'test/worker-crash.test.ts',
    '--exclude',
    'test/migrate-store.test.ts',
    '--outputFile.json=test-results/vitest-postgres.json',
  ],
  { stdio: 'inherit', env: { ...process.env, HOOKBRIDGE_TEST_STORE: 'postgres', DIALECTS: 'postgres' } },
);
process.exit(result.status ?? 1);
