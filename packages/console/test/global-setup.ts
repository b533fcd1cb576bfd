/**
 * Once per run: find chromium (HOOKBRIDGE_CHROMIUM, else Debian's /usr/bin/chromium) and check that
 * what the tests start is built. Without chromium, CI fails; elsewhere the browser tests skip
 * with one line saying so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    chromium: string | null;
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));

export default function setup(project: TestProject): void {
  const chromium = process.env.HOOKBRIDGE_CHROMIUM ?? '/usr/bin/chromium';
  const found = fs.existsSync(chromium);
  if (!found) {
    const why = `no chromium at ${chromium} (install it with \`apt-get install -y chromium\`, or set HOOKBRIDGE_CHROMIUM)`;
    if (process.env.CI === 'true') throw new Error(`browser tests: ${why}; CI needs it. Failing.`);
    console.log(`SKIPPED: browser tests of the console — ${why}.`);
  }
  for (const built of ['../dist/index.html', '../../server/dist/cli/index.js']) {
    if (found && !fs.existsSync(path.join(here, built))) throw new Error(`browser tests: ${path.resolve(here, built)} is missing; run \`npm run build\` at the repository root first`);
  }
  project.provide('chromium', found ? chromium : null);
}
