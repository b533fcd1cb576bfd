/**
 * The web console (the build of packages/console) at `/`, and the consumer portal at
 * `/portal/:projectId`: the same single page, under a strict Content-Security-Policy. The console
 * may not be framed; the portal may be framed by the origins its project lists in
 * settings.portal_frame_ancestors. The page talks to the public API only, so nothing here needs a key.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { portalFrameAncestors } from '../core/frame-ancestors.js';
import { isIdOf } from '../core/ids.js';
import type { ProjectCache } from './project-cache.js';

export interface ConsoleOptions {
  /** The console's build (holding index.html and assets/); unset: the @hookbridge/console package's dist. */
  dir?: string;
}

/** The build of the @hookbridge/console workspace package, else the one beside this package in the repository. */
export function defaultConsoleDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('@hookbridge/console/package.json')), 'dist');
  } catch {
    // src/api/console.ts and dist/api/console.js are both three levels under packages/.
    return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../console/dist');
  }
}

// The page loads its own script and styles and calls its own origin's API; logos may come from
// any https URL (portal_logo_url). No inline script, so an injected one cannot run.
const POLICY = "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'";

function secure(reply: FastifyReply, frameAncestors: string): FastifyReply {
  void reply.header('content-security-policy', `${POLICY}; frame-ancestors ${frameAncestors}`);
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'no-referrer');
  if (frameAncestors === "'none'") void reply.header('x-frame-options', 'DENY');
  return reply;
}

function notBuiltPage(dir: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Hookbridge: console not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>The console is not built</h1>
<p>This server runs, but it found no console build in <code>${escapeHtml(dir)}</code>.</p>
<p>Build it from the repository root with <code>npm run build</code> (or <code>npm run build -w packages/console</code>), then reload this page.
Elsewhere, point <code>HOOKBRIDGE_CONSOLE_DIR</code> at a build.</p>
<p>The API works meanwhile: it is under <code>/v1</code>, described by <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>
`;
}

const ASSET_PATH = /^[\w-][\w.-]*(\/[\w-][\w.-]*)*$/;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function consoleRoutes(app: FastifyInstance, opts: ConsoleOptions & { projectCache: ProjectCache }): Promise<void> {
  const dir = path.resolve(opts.dir ?? defaultConsoleDir());
  const assets = path.join(dir, 'assets');
  // Only the reply.sendFile decorator: the routes are declared here, public and out of the OpenAPI document.
  await app.register(fastifyStatic, { serve: false });
  const route = { config: { public: true }, schema: { hide: true } } as const;

  // Read on each request (a few hundred bytes): a console built after the server started is served at once.
  async function sendIndex(reply: FastifyReply): Promise<FastifyReply> {
    void reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8');
    try {
      return reply.send(await fs.readFile(path.join(dir, 'index.html')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return reply.send(notBuiltPage(dir));
    }
  }

  app.get('/', route, async (_req, reply) => sendIndex(secure(reply, "'none'")));

  app.get<{ Params: { projectId: string } }>('/portal/:projectId', route, async (req, reply) => {
    // An unknown project still gets the page (it tells the visitor so), framable by itself only.
    let origins: string[] | undefined;
    try {
      // This page is public: an id that cannot be a project's costs no store read.
      const project = isIdOf('proj', req.params.projectId) ? await opts.projectCache.get(req.params.projectId, Date.now()) : null;
      origins = project?.settings.portal_frame_ancestors;
    } catch (err) {
      req.log.warn({ err }, 'could not read the project of a portal page');
    }
    return sendIndex(secure(reply, portalFrameAncestors(origins)));
  });

  // Vite names every file under assets/ by a hash of its content: a new build has new names.
  app.get<{ Params: { '*': string } }>('/assets/*', route, async (req, reply) => {
    // Plain names only: no dot files, nothing above assets/ (send would answer those 403).
    if (!ASSET_PATH.test(req.params['*'])) return reply.callNotFound();
    return secure(reply, "'none'").sendFile(req.params['*'], assets, { maxAge: '365d', immutable: true, dotfiles: 'ignore', index: false });
  });
}
