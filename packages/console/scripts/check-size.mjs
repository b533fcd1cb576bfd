#!/usr/bin/env node
// The console's size budget: every JavaScript file of the build, gzipped (level 9, as a server
// or CDN would send it), must add up to at most 200 KB. Run by `npm test` after `npm run build`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 200 * 1024;
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
if (!fs.existsSync(path.join(dist, 'index.html'))) {
  console.error(`check-size: no build at ${dist}; run \`npm run build\` first`);
  process.exit(1);
}

const files = fs.readdirSync(dist, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && /\.m?js$/.test(f.name));
let raw = 0;
let gzipped = 0;
for (const f of files) {
  const bytes = fs.readFileSync(path.join(f.parentPath, f.name));
  raw += bytes.length;
  gzipped += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`console JavaScript: ${files.length} file(s), ${kb(raw)} raw, ${kb(gzipped)} gzipped (budget ${kb(BUDGET)})`);
if (files.length === 0) {
  console.error('check-size: the build has no JavaScript file');
  process.exit(1);
}
if (gzipped > BUDGET) {
  console.error(`check-size: over budget by ${kb(gzipped - BUDGET)}`);
  process.exit(1);
}
