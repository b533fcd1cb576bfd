/**
 * Test harness: real servers (in-process through startServer, or as child processes), real
 * loopback receivers, and a small API client. Everything listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import net, { type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { Resolver } from '../src/delivery/ssrf-guard.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createLogger } from '../src/logger.js';
import { createTestDatabase, TEST_MASTER_KEY, TEST_STORE } from './postgres.js';

export const ADMIN_KEY = 'hb_test_admin_key_for_tests_only_000000';
export const SERVER_PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The `hookbridge` launcher, as a user runs it (needs `npm run build`). */
export const LAUNCHER = path.join(SERVER_PACKAGE, 'bin', 'hookbridge.js');

export function tempDir(prefix = 'hookbridge-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Settings for fast tests: loopback allowed, short throttle and poll, quiet logs. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    HOOKBRIDGE_PORT: '0',
    HOOKBRIDGE_HOST: '127.0.0.1',
    HOOKBRIDGE_DATA_DIR: tempDir(),
    HOOKBRIDGE_BOOTSTRAP_API_KEY: ADMIN_KEY,
    HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,::1/128',
    HOOKBRIDGE_THROTTLE_MIN_DELAY_SECONDS: '0.2',
    HOOKBRIDGE_POLL_INTERVAL_MS: '200',
    HOOKBRIDGE_SHUTDOWN_GRACE_SECONDS: '2',
    HOOKBRIDGE_LOG_LEVEL: 'silent',
    ...overrides,
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class Client {
  constructor(
    readonly baseUrl: string,
    readonly key: string | undefined,
  ) {}

  withKey(key: string | undefined): Client {
    return new Client(this.baseUrl, key);
  }

  async call<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.key) h.authorization = `Bearer ${this.key}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + url, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  get = <T = any>(url: string) => this.call<T>('GET', url);
  post = <T = any>(url: string, body?: unknown, headers?: Record<string, string>) => this.call<T>('POST', url, body, headers);
  patch = <T = any>(url: string, body?: unknown) => this.call<T>('PATCH', url, body);
  delete = <T = any>(url: string) => this.call<T>('DELETE', url);
}

export interface TestServer extends RunningServer {
  api: Client;
  dataDir: string;
}

/** Starts the real server in-process, on the store under test (a fresh database for PostgreSQL). */
export async function startTestServer(env: Record<string, string> = {}, opts: { resolver?: Resolver; logLines?: string[] } = {}): Promise<TestServer> {
  const database = TEST_STORE === 'postgres' ? await createTestDatabase() : undefined;
  const e = testEnv(database ? { HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY, ...env } : env);
  const config = loadConfig(e);
  const sink = opts.logLines ? { write: (line: string) => void opts.logLines!.push(line) } : undefined;
  const server = await startServer(config, { logger: createLogger(e.HOOKBRIDGE_LOG_LEVEL, config.logFormat, sink), resolver: opts.resolver });
  const close = server.close.bind(server);
  return Object.assign(server, {
    api: new Client(server.url, ADMIN_KEY),
    dataDir: config.dataDir,
    async close() {
      await close();
      await database?.drop();
    },
  });
}

// --- receivers -------------------------------------------------------------------------------

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The exact bytes received. */
  raw: Buffer;
  at: number;
}

export type ReceiverHandler = (req: ReceivedRequest, res: http.ServerResponse) => void;

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  connections: number;
  /** Answers in turn with these statuses, then with the last one. */
  respondWith(...statuses: number[]): void;
  handle(handler: ReceiverHandler): void;
  waitForRequests(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let handler: ReceiverHandler = (_req, res) => res.writeHead(200).end('ok');
  const sockets = new Set<import('node:net').Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw.toString('utf8'), raw, at: Date.now() };
      requests.push(r);
      handler(r, res);
    });
  });
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${actualPort}/hook`,
    port: actualPort,
    requests,
    get connections() {
      return connections;
    },
    respondWith(...statuses) {
      let i = 0;
      handler = (_req, res) => {
        const status = statuses[Math.min(i++, statuses.length - 1)];
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
      };
    },
    handle(h) {
      handler = h;
    },
    async waitForRequests(n, timeoutMs = 10_000) {
      await waitUntil(() => requests.length >= n, timeoutMs, `${n} requests at the receiver (got ${requests.length})`);
      return requests;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a delivery until it reaches one of `statuses`. */
export async function waitForDelivery(api: Client, id: string, statuses: string[], timeoutMs = 10_000): Promise<any> {
  let last: any;
  await waitUntil(
    async () => {
      last = (await api.get(`/v1/deliveries/${id}`)).body;
      return statuses.includes(last?.status);
    },
    timeoutMs,
    `delivery ${id} to become ${statuses.join('|')} (last: ${last?.status})`,
  );
  return last;
}

// --- child-process servers -------------------------------------------------------------------

export interface ChildServer {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Runs `hookbridge serve` from the built launcher, as a user would. Needs `npm run build`. */
export async function spawnServer(env: Record<string, string>, port: number): Promise<ChildServer> {
  const child = spawn(process.execPath, [path.join(SERVER_PACKAGE, 'bin', 'hookbridge.js'), 'serve'], {
    env: { ...process.env, ...env, HOOKBRIDGE_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
      try {
        return (await fetch(`${url}/healthz`)).ok;
      } catch {
        return false;
      }
    },
    15_000,
    'the server to answer /healthz',
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return { child, url, output: () => out, exited };
}

/** A free loopback port (bound then released). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// --- a server per test file ------------------------------------------------------------------

/**
 * An `--role api` and an `--role worker` server on one fresh PostgreSQL database, in-process, and
 * a receiver: started before a file's tests, stopped after.
 */
export function useApiAndWorker(env: Record<string, string> = {}) {
  const running: { api?: RunningServer; worker?: RunningServer; receiver?: Receiver; drop?: () => Promise<void> } = {};
  beforeAll(async () => {
    const database = await createTestDatabase();
    running.drop = () => database.drop();
    const shared = { HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY, ...env };
    running.api = await startServer(loadConfig(testEnv({ ...shared, HOOKBRIDGE_ROLE: 'api' })), { logger: createLogger('silent') });
    running.worker = await startServer(loadConfig(testEnv({ ...shared, HOOKBRIDGE_ROLE: 'worker' })), { logger: createLogger('silent') });
    running.receiver = await startReceiver();
  });
  afterAll(async () => {
    await running.api?.close();
    await running.worker?.close();
    await running.receiver?.close();
    await running.drop?.();
  });
  return running as Required<typeof running>;
}

/**
 * One in-process server for a test file (started before its tests, stopped after), with
 * receivers that are closed with it and the few calls most delivery tests make.
 */
export function useServer(env: Record<string, string> = {}, opts: { logLines?: string[] } = {}) {
  let server: TestServer | undefined;
  const receivers: Receiver[] = [];
  beforeAll(async () => {
    server = await startTestServer(env, opts);
  });
  afterAll(async () => {
    await server?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });
  const api = () => server!.api;
  return {
    get server(): TestServer {
      return server!;
    },
    get api(): Client {
      return api();
    },
    async receiver(): Promise<Receiver> {
      const r = await startReceiver();
      receivers.push(r);
      return r;
    },
    /** Creates an endpoint and returns its JSON (with signing_secret). */
    async endpoint(url: string, fields: Record<string, unknown> = {}): Promise<any> {
      const res = await api().post('/v1/endpoints', { url, ...fields });
      if (res.status !== 201) throw new Error(`endpoint not created: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    /** Sends a message straight to one endpoint and returns the 202 body. */
    async send(endpointId: string, payload: unknown = {}, eventType = 'test.event'): Promise<any> {
      const res = await api().post('/v1/messages', { event_type: eventType, payload, endpoint_id: endpointId });
      if (res.status !== 202) throw new Error(`message not accepted: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
  };
}

/**
 * Whether a forwarded request carries a valid Standard Webhooks signature by `secret`, computed
 * by the spec's algorithm over the raw bytes (standardwebhooks' verify() also parses the body as
 * JSON, and its sign() takes text, so neither fits binary or form bodies).
 */
export function resignedBy(secret: string, r: { raw: Buffer; headers: Record<string, unknown> }): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.`).update(r.raw).digest('base64');
  return String(r.headers['webhook-signature']).split(' ').includes(`v1,${mac}`);
}

// --- tenants and error assertions ------------------------------------------------------------

export interface TestProject {
  projectId: string;
  keyId: string;
  /** The (non-admin) API key, as shown once at creation. */
  key: string;
  /** A client on the same server acting with that key. */
  api: Client;
}

/** Creates a project with the admin client and one API key of it. */
export async function createProject(admin: Client, name: string, label = `${name}-key`): Promise<TestProject> {
  const p = await admin.post('/v1/projects', { name });
  if (p.status !== 201) throw new Error(`project not created: ${p.status} ${JSON.stringify(p.body)}`);
  const k = await admin.post(`/v1/projects/${p.body.id}/api-keys`, { label });
  if (k.status !== 201) throw new Error(`key not created: ${k.status} ${JSON.stringify(k.body)}`);
  return { projectId: p.body.id, keyId: k.body.id, key: k.body.key, api: admin.withKey(k.body.key) };
}

/** The API's error shape with this status and code. */
export function expectApiError(res: { status: number; body: any }, status: number, code: string, what = ''): void {
  expect(res.status, `${what}: ${status} ${code} expected, got ${res.status} ${JSON.stringify(res.body)}`).toBe(status);
  expect(res.body, what).toMatchObject({ error: { code, message: expect.any(String) } });
}

// --- raw connections -------------------------------------------------------------------------

export interface RawResult {
  /** Everything the server wrote. */
  answer: string;
  /** From connecting until the server closed the connection. */
  ms: number;
  /** Bytes of `trickle` written before that. */
  sent: number;
}

/**
 * A raw TCP connection to a loopback server, for what fetch cannot send: writes `head` at once,
 * then `trickle` one byte every `everyMs`, and resolves when the server closes the connection
 * (or after `giveUpMs`, with ms = Infinity).
 */
export function rawConnection(baseUrl: string, head: string, trickle = '', everyMs = 200, giveUpMs = 15_000): Promise<RawResult> {
  return new Promise((resolve) => {
    const url = new URL(baseUrl);
    const started = Date.now();
    const socket = net.connect(Number(url.port), url.hostname);
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (ms: number) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ answer, ms, sent });
    };
    const giveUp = setTimeout(() => finish(Infinity), giveUpMs);
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(Date.now() - started));
    socket.on('connect', () => {
      if (head) socket.write(head);
      if (trickle) {
        timer = setInterval(() => {
          if (sent < trickle.length && socket.writable) socket.write(trickle[sent++]);
        }, everyMs);
      }
    });
  });
}

export const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

/** Sends `signal` and waits (at most 15 s) for the child to be gone. */
export async function kill(c: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!alive(c)) return;
  const gone = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill(signal);
  await Promise.race([gone, sleep(15_000)]);
}

/**
 * What a test file that starts processes registers for cleanup: after each test (also a failed
 * one) every child still alive is killed, every receiver closed and every temp dir removed.
 */
export function reapAfterEach(): { children: ChildProcess[]; receivers: Receiver[]; dirs: string[] } {
  const held = { children: [] as ChildProcess[], receivers: [] as Receiver[], dirs: [] as string[] };
  afterEach(async () => {
    await Promise.all(held.children.splice(0).map((c) => kill(c)));
    await Promise.all(held.receivers.splice(0).map((r) => r.close()));
    for (const d of held.dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return held;
}
