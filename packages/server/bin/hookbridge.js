#!/usr/bin/env node
// Launcher for the `hookbridge` command. It is committed (dist/ is not), so npm can link it at
// install time; it loads the compiled CLI and says how to build it when it is missing.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, '..', 'dist', 'cli', 'index.js');
if (!existsSync(entry)) {
  process.stderr.write(
    'hookbridge: the server is not built yet (missing packages/server/dist).\n' +
      'Run `npm run build` in the repository root (or `npm start`, which builds and serves).\n',
  );
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
await main(process.argv);
