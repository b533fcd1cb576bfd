#!/usr/bin/env node
// `npm run test:resilience`: the resilience suite (resilience/*.test.ts) on the embedded store,
// then on PostgreSQL, each pass writing its own JSON report beside npm test's (the repository's
// .ci/run adds them all up). The tests write their figures to test-results/figures/; this script
// prints them, and with --docs rewrites the generated block of docs/RELIABILITY.md.
//
// Sizes come from the environment (see resilience/*.test.ts): HOOKBRIDGE_RESILIENCE_MESSAGES,
// HOOKBRIDGE_RESILIENCE_KILLS, HOOKBRIDGE_RESILIENCE_SEED. PostgreSQL as in run-tests.mjs: with
// CI=true an unreachable server fails the run; elsewhere that pass is skipped, saying so.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { renderFigures, writeReliabilityDocs } from './reliability-figures.mjs';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIGURES = path.join(PACKAGE, 'test-results', 'figures');
const args = process.argv.slice(2);
const writeDocs = args.includes('--docs');
const only = args.filter((a) => !a.startsWith('--'));

let failed = false;
function vitest(name, env = {}) {
  console.log(`\n=== ${name} ===`);
  const r = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.resilience.config.ts', ...only, `--outputFile.json=test-results/${name}.json`], {
    stdio: 'inherit',
    cwd: PACKAGE,
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) failed = true;
}

vitest('resilience-embedded');

const url = process.env.HOOKBRIDGE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
try {
  await client.connect();
  await client.end();
  vitest('resilience-postgres', { HOOKBRIDGE_TEST_STORE: 'postgres', DIALECTS: 'postgres' });
} catch (err) {
  if (process.env.CI === 'true') {
    console.error(`PostgreSQL at ${url} is unreachable (${err.message}); CI needs it. Failing.`);
    failed = true;
  } else {
    console.log(`\nSKIPPED: PostgreSQL half of the resilience suite — no server at ${url} (${err.message}).`);
  }
}

console.log('\n' + renderFigures(FIGURES));
if (writeDocs) {
  if (failed) console.log('not writing docs/RELIABILITY.md: the run had failures');
  else console.log(`wrote ${writeReliabilityDocs(FIGURES)}`);
}
process.exit(failed ? 1 : 0);
