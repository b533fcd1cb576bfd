/**
 * The console's pages as the server serves them (api/console.ts): index.html at / and at
 * /portal/<project> with no-cache, hashed assets cached for a year, the security headers (CSP, and
 * frame-ancestors from the project's portal_frame_ancestors), a page that says how to build a
 * missing console, HOOKBRIDGE_CONSOLE=off, and the API's own 404 left as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf } from '../src/api/app.js';
import { defaultConsoleDir } from '../src/api/console.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createProject, expectApiError, startTestServer, tempDir, testEnv, type TestServer } from './helpers.js';
import { createTestDatabase, TEST_MASTER_KEY, TEST_STORE, type TestDatabase } from './postgres.js';

const POLICY = "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'";
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script></head><body><div id="app"></div></body></html>';
const SCRIPT = 'console.log("console")';

/** A console build of its own, so the test knows every byte. */
function fakeBuild(): string {
  const dir = tempDir('hookbridge-console-');
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), INDEX);
  fs.writeFileSync(path.join(dir, 'assets', 'index-AbC123.js'), SCRIPT);
  fs.writeFileSync(path.join(dir, 'assets', '.secret'), 'dotfile');
  return dir;
}

const get = (base: string, p: string, headers: Record<string, string> = {}) => fetch(base + p, { headers });

function expectPageHeaders(res: Response, frameAncestors: string): void {
  expect(res.headers.get('content-security-policy')).toBe(`${POLICY}; frame-ancestors ${frameAncestors}`);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('x-frame-options')).toBe(frameAncestors === "'none'" ? 'DENY' : null);
}

describe('console served from a build', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ HOOKBRIDGE_CONSOLE_DIR: fakeBuild() });
  });
  afterAll(() => server?.close());

  it('serves index.html at / without a key, never cached, under the strict policy', async () => {
    const res = await get(server.url, '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expectPageHeaders(res, "'none'");
    expect(await res.text()).toBe(INDEX);
  });

  it('serves hashed assets with a long cache, and 404s the rest in the API shape', async () => {
    const res = await get(server.url, '/assets/index-AbC123.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(SCRIPT);
    for (const missing of ['/assets/nope.js', '/assets/.secret', '/assets/', '/assets/..%2Findex.html', '/assets/x/..%2f..%2findex.html']) {
      const r = await get(server.url, missing);
      expect(r.status, missing).toBe(404);
      expect(await r.json(), missing).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it('frames the portal only from the project and the origins it lists', async () => {
    const p = await createProject(server.api, 'portal-frames');
    let res = await get(server.url, `/portal/${p.projectId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expectPageHeaders(res, "'self'");
    expect(await res.text()).toBe(INDEX);

    const patch = await server.api.patch(`/v1/projects/${p.projectId}`, { portal_frame_ancestors: ['https://app.example.com', 'http://127.0.0.1:5123'] });
    expect(patch.status, JSON.stringify(patch.body)).toBe(200);
    res = await get(server.url, `/portal/${p.projectId}`);
    expectPageHeaders(res, "'self' https://app.example.com http://127.0.0.1:5123");

    // Another project's list applies to that project's portal only.
    res = await get(server.url, `/portal/${(await createProject(server.api, 'portal-other')).projectId}`);
    expectPageHeaders(res, "'self'");
    // An unknown project still gets the page (which says so), framable by itself only.
    res = await get(server.url, '/portal/prj_unknown');
    expect(res.status).toBe(200);
    expectPageHeaders(res, "'self'");
    expect(await res.text()).toBe(INDEX);
  });

  it('leaves the API as it was: JSON 404s, no console routes in the OpenAPI document', async () => {
    expectApiError(await server.api.get('/v1/nope'), 404, 'not_found', '/v1/nope');
    expectApiError(await server.api.get('/nope'), 404, 'not_found', '/nope');
    const res = await get(server.url, '/v1/nope');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-security-policy')).toBeNull();
    expectApiError(await server.api.post('/', {}), 404, 'not_found', 'POST /');
    const doc = (await server.api.get('/openapi.json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/v1/') && !['/healthz', '/readyz', '/metrics'].includes(p))).toEqual([]);
    const publicRoutes = routesOf(server.app).filter((r) => r.public).map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes).toEqual(expect.arrayContaining(['GET /', 'GET /portal/:projectId', 'GET /assets/*']));
  });
});

describe('console not built, or switched off', () => {
  let missing: TestServer;
  let off: TestServer;
  let missingDir: string;
  beforeAll(async () => {
    missingDir = path.join(tempDir('hookbridge-console-'), 'dist');
    [missing, off] = await Promise.all([startTestServer({ HOOKBRIDGE_CONSOLE_DIR: missingDir }), startTestServer({ HOOKBRIDGE_CONSOLE: 'off' })]);
  });
  afterAll(() => Promise.all([missing?.close(), off?.close()]));

  it('answers a page saying how to build the console when there is no build', async () => {
    for (const p of ['/', '/portal/prj_any']) {
      const res = await get(missing.url, p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const text = await res.text();
      expect(text).toContain('The console is not built');
      expect(text).toContain('npm run build');
      expect(text).toContain(missingDir);
    }
    expectApiError(await missing.api.get('/assets/index.js'), 404, 'not_found', 'asset of a missing build');
    // Built later: served at once, without a restart.
    fs.mkdirSync(missingDir, { recursive: true });
    fs.writeFileSync(path.join(missingDir, 'index.html'), INDEX);
    expect(await (await get(missing.url, '/')).text()).toBe(INDEX);
  });

  it('serves no console with HOOKBRIDGE_CONSOLE=off', async () => {
    expectApiError(await off.api.get('/'), 404, 'not_found', '/ when off');
    expectApiError(await off.api.get('/portal/prj_any'), 404, 'not_found', 'portal when off');
    expect(routesOf(off.app).some((r) => r.url === '/' || r.url.startsWith('/portal') || r.url.startsWith('/assets'))).toBe(false);
    expect((await off.api.get('/v1/endpoints')).status).toBe(200);
  });

  it('finds the build of the @hookbridge/console package by default', () => {
    expect(fs.realpathSync(path.dirname(defaultConsoleDir()))).toBe(path.resolve(import.meta.dirname, '../../console'));
    expect(path.basename(defaultConsoleDir())).toBe('dist');
    expect(loadConfig(testEnv()).consoleDir).toBeUndefined();
    expect(loadConfig(testEnv({ HOOKBRIDGE_CONSOLE_DIR: 'some/dir' })).consoleDir).toBe(path.resolve('some/dir'));
    expect(() => loadConfig(testEnv({ HOOKBRIDGE_CONSOLE: 'maybe' }))).toThrow(/HOOKBRIDGE_CONSOLE must be one of on, off/);
  });
});

describe.runIf(TEST_STORE === 'postgres')('a worker-role process', () => {
  let database: TestDatabase;
  let worker: RunningServer;
  beforeAll(async () => {
    database = await createTestDatabase();
    const env = testEnv({ HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY, HOOKBRIDGE_ROLE: 'worker', HOOKBRIDGE_CONSOLE_DIR: fakeBuild() });
    worker = await startServer(loadConfig(env), { logger: createLogger('silent') });
  });
  afterAll(async () => {
    await worker?.close();
    await database?.drop();
  });

  it('serves no console', async () => {
    // No route: the API's refusal of an unknown path without a key, in JSON.
    const res = await get(worker.url, '/');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(routesOf(worker.app).some((r) => r.url === '/')).toBe(false);
  });
});
