/**
 * What the browser tests stand on: a real `hookbridge serve` process per test file (embedded store
 * in a temp dir, on 127.0.0.1), real loopback receivers, Debian's chromium driven by
 * playwright-core, and numbered screenshots of every step in test-results/screenshots/<test>/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';

export const CONSOLE_PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(CONSOLE_PACKAGE, '../..');
const HOOKBRIDGE_BIN = path.join(REPO, 'packages/server/bin/hookbridge.js');
export const SCREENSHOTS = path.join(CONSOLE_PACKAGE, 'test-results/screenshots');

/** The chromium to drive, or null when test/global-setup.ts found none (the tests then skip). */
export const CHROMIUM: string | null = inject('chromium');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// --- the server -----------------------------------------------------------------------------------

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

export interface Hookbridge {
  url: string;
  /** The admin key the server printed on its first start, as a newcomer would copy it. */
  adminKey: string;
  /** Calls the API (paths under /v1), with the admin key unless another bearer token is given. */
  api<T = any>(method: string, p: string, body?: unknown, token?: string): Promise<ApiAnswer<T>>;
  output(): string;
  stop(): Promise<void>;
}

/** `hookbridge serve` from the built launcher, as a user starts it. Needs `npm run build`. */
export async function startHookbridge(env: Record<string, string> = {}): Promise<Hookbridge> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookbridge-browser-'));
  // None of the caller's HOOKBRIDGE_* settings leak in: the test decides all of them.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HOOKBRIDGE_')));
  const child: ChildProcess = spawn(process.execPath, [HOOKBRIDGE_BIN, 'serve'], {
    env: {
      ...base,
      HOOKBRIDGE_HOST: '127.0.0.1',
      HOOKBRIDGE_PORT: String(port),
      HOOKBRIDGE_PUBLIC_URL: url,
      HOOKBRIDGE_DATA_DIR: dataDir,
      HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,::1/128',
      // The portal test's consumers create endpoints to loopback receivers too.
      HOOKBRIDGE_PORTAL_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32',
      HOOKBRIDGE_THROTTLE_MIN_DELAY_SECONDS: '0.2',
      HOOKBRIDGE_POLL_INTERVAL_MS: '200',
      HOOKBRIDGE_SHUTDOWN_GRACE_SECONDS: '1',
      HOOKBRIDGE_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`hookbridge serve exited early:\n${out}`);
        return /Hookbridge is serving on/.test(out) && /^ {4}(hb_\S+)$/m.test(out);
      },
      20_000,
      'hookbridge serve to print its banner and admin key',
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const adminKey = /^ {4}(hb_\S+)$/m.exec(out)![1];
  return {
    url,
    adminKey,
    async api(method, p, body, token = adminKey) {
      const res = await fetch(`${url}/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The API's answer, or a thrown error naming what was expected. */
export function expectStatus<T>(res: ApiAnswer<T>, status: number, what: string): T {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// --- receivers ------------------------------------------------------------------------------------

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  origin: string;
  requests: Received[];
  /** What the next requests are answered with. */
  answer: { status: number; body: string };
  waitForRequests(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that records every request. */
export async function startReceiver(handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => boolean): Promise<Receiver> {
  const requests: Received[] = [];
  const answer = { status: 200, body: 'ok' };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (handler?.(req, res, body)) return;
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/hook`,
    origin,
    requests,
    answer,
    async waitForRequests(n, timeoutMs = 15_000) {
      await waitUntil(() => requests.length >= n, timeoutMs, `${n} requests at ${origin} (got ${requests.length})`);
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// --- the browser ----------------------------------------------------------------------------------

/** Chromium with the flags CI uses; playwright gives it a fresh, empty --user-data-dir of its own. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM!,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    timeout: 30_000,
  });
}

export async function newContext(browser: Browser, opts: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', ...opts });
  context.setDefaultTimeout(15_000);
  return context;
}

/** Numbered screenshots of one test's steps: test-results/screenshots/<test>/<n>-<step>.png. */
export function screenshots(test: string): (page: Page, step: string) => Promise<string> {
  const dir = path.join(SCREENSHOTS, test);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  return async (page, step) => {
    const file = path.join(dir, `${String(++n).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
}

/** Errors the page logs or throws: a test fails on any of them. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A refused request the test provokes on purpose shows as a console error too: those are expected.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (4\d\d)/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Signs in on the console's sign-in form. */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Follows a link of the main navigation. */
export async function nav(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
}

// --- one browser test file's set-up ------------------------------------------------------------------

export type ReceiverHandler = NonNullable<Parameters<typeof startReceiver>[0]>;

export interface BrowserTestOptions {
  /** The loopback receivers to start beside the server (default 1); a function is that receiver's handler (startReceiver). */
  receivers?: number | Array<ReceiverHandler | undefined>;
  /** Permissions granted to the page's context on the server's origin (e.g. the clipboard). */
  permissions?: string[];
  /** More set-up once the server, receivers and page are up (API calls, more servers to close by `onClose`). */
  setup?: (t: BrowserTest) => Promise<void>;
  /** beforeAll's timeout, for a long `setup` (default: vitest.config's hookTimeout). */
  timeoutMs?: number;
}

export interface BrowserTest {
  readonly hb: Hookbridge;
  readonly receivers: Receiver[];
  /** The first of `receivers`. */
  readonly receiver: Receiver;
  readonly browser: Browser;
  /** The context of `page`. */
  readonly context: BrowserContext;
  readonly page: Page;
  /** What `page` logged or threw (collectPageErrors). */
  readonly errors: string[];
  /** Numbered screenshots in test-results/screenshots/<name>/. */
  readonly shot: (page: Page, step: string) => Promise<string>;
  /** Another browser context (a second user), closed with the page's, before the browser. */
  newContext(opts?: BrowserContextOptions): Promise<BrowserContext>;
  /** Closed in afterAll once the browser is, with the receivers, before the server stops. */
  onClose(close: () => Promise<void>): void;
}

/**
 * A browser test file's beforeAll and afterAll: a hookbridge server, receivers, chromium, one
 * context and page whose errors are collected; all closed after. Call it in the describe; read
 * its fields inside the tests (they throw before beforeAll has run).
 */
export function useBrowserTest(name: string, opts: BrowserTestOptions = {}): BrowserTest {
  let hb: Hookbridge | undefined;
  let receivers: Receiver[] = [];
  let browser: Browser | undefined;
  let page: Page | undefined;
  let errors: string[] = [];
  const contexts: BrowserContext[] = [];
  const closers: Array<() => Promise<void>> = [];
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${name}: ${what} is not started (beforeAll has not run, or failed)`);
    return value;
  };
  const handlers = typeof opts.receivers === 'number' ? Array.from({ length: opts.receivers }, () => undefined) : (opts.receivers ?? [undefined]);

  const t: BrowserTest = {
    get hb() {
      return ready(hb, 'the server');
    },
    get receivers() {
      return receivers;
    },
    get receiver() {
      return ready(receivers[0], 'the receiver');
    },
    get browser() {
      return ready(browser, 'the browser');
    },
    get context() {
      return ready(contexts[0], 'the context');
    },
    get page() {
      return ready(page, 'the page');
    },
    get errors() {
      return errors;
    },
    shot: screenshots(name),
    async newContext(contextOpts) {
      const context = await newContext(t.browser, contextOpts);
      contexts.push(context);
      return context;
    },
    onClose(close) {
      closers.push(close);
    },
  };

  beforeAll(async () => {
    const started = Promise.all(handlers.map((h) => startReceiver(h)));
    [hb, receivers, browser] = await Promise.all([startHookbridge(), started, launchBrowser()]);
    const context = await t.newContext();
    if (opts.permissions) await context.grantPermissions(opts.permissions, { origin: hb.url });
    page = await context.newPage();
    errors = collectPageErrors(page);
    await opts.setup?.(t);
  }, opts.timeoutMs);

  afterAll(async () => {
    for (const context of contexts.reverse()) await context.close();
    await browser?.close();
    await Promise.all([...receivers.map((r) => r.close()), ...closers.map((close) => close())]);
    await hb?.stop();
  });

  return t;
}
