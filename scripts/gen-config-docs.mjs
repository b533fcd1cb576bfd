#!/usr/bin/env node
// Regenerates docs/configuration.md from the settings table in packages/server/src/config.ts
// (via the build), so the documented settings are exactly the ones the server reads.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { settingsMarkdown } = await import(pathToFileURL(path.join(root, 'packages/server/dist/config.js')).href);
const doc = `# Configuration

Every setting of \`hookbridge serve\`, generated from \`packages/server/src/config.ts\` by
\`npm run docs:config\` (a test fails when this page and the code disagree). Each setting can be
given as an environment variable or as a flag; the flag wins. Empty environment variables count as
unset.

${settingsMarkdown()}

Notes:
- Without \`HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS\`, endpoints on loopback or private addresses are refused
  with 422 \`url_not_allowed\` (and at connect time too, so DNS tricks do not help). For local testing
  use \`HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8,::1/128\`.
- \`HOOKBRIDGE_BOOTSTRAP_API_KEY\` and \`HOOKBRIDGE_MASTER_KEY\` are secrets: prefer the environment over
  flags, which other users of the machine can read in the process list.
- The data dir holds \`hookbridge.db\` (+ \`-wal\`) and \`master.key\` (mode 0600). Back up both: without
  the master key the endpoints' signing secrets cannot be read.
`;
fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
fs.writeFileSync(path.join(root, 'docs/configuration.md'), doc);
console.log('wrote docs/configuration.md');
