#!/usr/bin/env node
// `npm test` for the server package: the suite in passes, each writing its own JSON report (the
// repository's .ci/run adds them up).
//   1. everything on the embedded store, two files at a time;
//   2. tests that start server processes, one file at a time (they would fight over 2 cores);
//   3. the store and end-to-end suites again on PostgreSQL, two at a time;
//   4. the PostgreSQL multi-process tests, one file at a time.
// Passes 3 and 4 need PostgreSQL (HOOKBRIDGE_TEST_PG_URL, default the local server): with CI=true an
// unreachable server fails the run; elsewhere they are skipped with one line saying so.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const PROCESS_TESTS = ['test/process.test.ts', 'test/bench-smoke.test.ts', 'test/cli.test.ts', 'test/listen.test.ts', 'test/backup.test.ts', 'test/export-memory.test.ts'];
const POSTGRES_ONLY = ['test/roles.test.ts', 'test/migrate-store.test.ts'];
const POSTGRES_PROCESS_TESTS = ['test/multi-worker.test.ts', 'test/worker-crash.test.ts', 'test/scale-out.test.ts', 'test/postgres-outage.test.ts', 'test/export-memory.test.ts'];

const exclude = (files) => files.flatMap((f) => ['--exclude', f]);
let failed = false;
function vitest(name, args, env = {}) {
  console.log(`\n=== ${name} ===`);
  const r = spawnSync('npx', ['vitest', 'run', ...args, `--outputFile.json=test-results/${name}.json`], { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) failed = true;
}

vitest('embedded', exclude([...PROCESS_TESTS, ...POSTGRES_ONLY, ...POSTGRES_PROCESS_TESTS]));
vitest('processes', ['--no-file-parallelism', ...PROCESS_TESTS]);

const url = process.env.HOOKBRIDGE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
let reachable = true;
try {
  await client.connect();
  await client.end();
} catch (err) {
  reachable = false;
  if (process.env.CI === 'true') {
    console.error(`PostgreSQL at ${url} is unreachable (${err.message}); CI needs it. Failing.`);
    failed = true;
  } else {
    console.log(`\nSKIPPED: PostgreSQL half of the suite — no server at ${url} (${err.message}). Set HOOKBRIDGE_TEST_PG_URL or start PostgreSQL.`);
  }
}
if (reachable) {
  const pgEnv = { HOOKBRIDGE_TEST_STORE: 'postgres', DIALECTS: 'postgres' };
  vitest('postgres', ['test/', ...exclude([...PROCESS_TESTS, ...POSTGRES_PROCESS_TESTS])], pgEnv);
  vitest('postgres-processes', ['--no-file-parallelism', ...POSTGRES_PROCESS_TESTS], pgEnv);
}
process.exit(failed ? 1 : 0);
