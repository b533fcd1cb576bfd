// The figures the reliability tests write (test-results/figures/<test>-<store>.json, one object
// each) as Markdown: a table per test, a column per store. `writeReliabilityDocs` puts them between
// the generated-block markers of docs/RELIABILITY.md and leaves the hand-written text alone.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'RELIABILITY.md');
const START = '<!-- reliability:figures:start -->';
const END = '<!-- reliability:figures:end -->';

function readFigures(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

const cell = (v) => (v !== null && typeof v === 'object' ? Object.entries(v).map(([k, n]) => `${k}: ${n}`).join(', ') : String(v));

export function renderFigures(dir) {
  const all = readFigures(dir);
  if (all.length === 0) return 'no figures were written';
  const byTest = new Map();
  for (const f of all) byTest.set(f.name, [...(byTest.get(f.name) ?? []), f]);
  const out = [];
  // A row per figure, a column per store: the stores side by side read as a comparison.
  for (const [name, rows] of byTest) {
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !['name', 'store', 'at'].includes(k));
    out.push(`**${name}**`, '', `| figure | ${rows.map((r) => r.store).join(' | ')} |`, `|${' --- |'.repeat(rows.length + 1)}`);
    for (const k of keys) out.push(`| ${k.replaceAll('_', ' ')} | ${rows.map((r) => (k in r ? cell(r[k]) : '')).join(' | ')} |`);
    out.push('', `<sub>${rows.map((r) => `${r.store}: ${r.at}`).join(' · ')}</sub>`, '');
  }
  return out.join('\n').trimEnd();
}

export function writeReliabilityDocs(dir, doc = DOC) {
  const text = fs.readFileSync(doc, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start === -1 || end < start) throw new Error(`${doc} has no ${START} … ${END} block`);
  fs.writeFileSync(doc, `${text.slice(0, start + START.length)}\n${renderFigures(dir)}\n${text.slice(end)}`);
  return doc;
}
