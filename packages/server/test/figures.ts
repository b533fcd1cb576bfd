/**
 * Figures that tests publish (docs/RELIABILITY.md): one JSON object per test and store in
 * test-results/figures/, collected by scripts/reliability-figures.mjs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SERVER_PACKAGE } from './helpers.js';
import { TEST_STORE } from './postgres.js';

export const FIGURES_DIR = path.join(SERVER_PACKAGE, 'test-results', 'figures');

export function writeFigures(name: string, figures: Record<string, unknown>): void {
  fs.mkdirSync(FIGURES_DIR, { recursive: true });
  const file = path.join(FIGURES_DIR, `${name}-${TEST_STORE}.json`);
  fs.writeFileSync(file, JSON.stringify({ name, store: TEST_STORE, at: new Date().toISOString(), ...figures }, null, 2) + '\n');
  console.log(`[${name} · ${TEST_STORE}] ${JSON.stringify(figures)}`);
}
