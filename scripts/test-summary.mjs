#!/usr/bin/env node
// Adds up Vitest JSON reports into the one closing line CI reads: `N passed, N failed`.
// Exits 1 when anything failed, when a test file could not even load, or when no report exists.
import fs from 'node:fs';

const files = process.argv.slice(2).filter((f) => fs.existsSync(f));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that fails to load has no failed tests of its own; count it so it cannot pass silently.
  const brokenFiles = (r.testResults ?? []).filter((t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed += (r.numFailedTests ?? 0) + brokenFiles;
}
if (files.length === 0) {
  console.log('no test report found');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
