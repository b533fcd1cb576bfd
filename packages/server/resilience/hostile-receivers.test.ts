/**
 * Slow and hostile receivers (DESIGN.md §4): each attempt is bounded by the endpoint's timeout and
 * the 16 KiB read cap, and recorded as the status line decides — a 2xx with a huge or slow body is
 * a success with its body cut; no status line in time is a timeout; a redirect is not followed
 * and is retried. Meanwhile a healthy endpoint on the same server is served as usual.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, startTestServer, waitForDelivery, type Receiver, type TestServer } from '../test/helpers.js';
import { TEST_STORE, writeFigures } from './fleet.js';

const TIMEOUT_MS = 2000;
const EXCERPT = 16 * 1024;
const HUGE = 100 * 1024 * 1024;

let server: TestServer;
let hostile: http.Server;
let hostileBase = '';
let redirectTarget: Receiver;
let healthy: Receiver;
const sockets = new Set<Socket>();
/** Bytes each hostile route managed to write before the client hung up. */
const written = new Map<string, number>();

function streamBody(res: http.ServerResponse, path: string, total: number) {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  const pump = () => {
    while (sent < total && !res.destroyed) {
      sent += chunk.length;
      written.set(path, sent);
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

beforeAll(async () => {
  server = await startTestServer({ HOOKBRIDGE_DEFAULT_TIMEOUT_MS: String(TIMEOUT_MS) });
  [redirectTarget, healthy] = await Promise.all([startReceiver(), startReceiver()]);
  hostile = http.createServer((req, res) => {
    req.resume();
    const path = req.url ?? '';
    if (path === '/hang') return; // never answers
    if (path === '/slow-headers') {
      // The status line trickles in a byte a second and never completes within the timeout.
      const socket = res.socket!;
      let i = 0;
      const line = 'HTTP/1.1 200 OK\r\n';
      const t = setInterval(() => (i < line.length ? socket.write(line[i++]) : undefined), 1000);
      socket.on('close', () => clearInterval(t));
      return;
    }
    if (path === '/trickle-200') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('.'), 1000); // 1 byte/s, forever
      res.on('close', () => clearInterval(t));
      return;
    }
    if (path === '/huge-200' || path === '/huge-500') {
      res.writeHead(path === '/huge-200' ? 200 : 500, { 'content-type': 'application/octet-stream', 'content-length': String(HUGE) });
      return streamBody(res, path, HUGE);
    }
    if (path === '/redirect') {
      res.writeHead(302, { location: redirectTarget.url }).end();
      return;
    }
    res.writeHead(404).end();
  });
  hostile.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
  hostileBase = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => hostile?.close(r));
  await Promise.all([redirectTarget?.close(), healthy?.close()]);
  await server?.close();
});

interface Case {
  path: string;
  /** What the first attempt must record. */
  expect: { outcome: 'succeeded' | 'retry'; status_code: number | null; error_class: string | null; truncated: boolean };
  /** Longest the attempt may take. */
  maxMs: number;
}

const CASES: Case[] = [
  { path: '/hang', expect: { outcome: 'retry', status_code: null, error_class: 'timeout', truncated: false }, maxMs: TIMEOUT_MS + 1500 },
  { path: '/slow-headers', expect: { outcome: 'retry', status_code: null, error_class: 'timeout', truncated: false }, maxMs: TIMEOUT_MS + 1500 },
  { path: '/trickle-200', expect: { outcome: 'succeeded', status_code: 200, error_class: null, truncated: true }, maxMs: TIMEOUT_MS + 1500 },
  { path: '/huge-200', expect: { outcome: 'succeeded', status_code: 200, error_class: null, truncated: true }, maxMs: TIMEOUT_MS },
  { path: '/huge-500', expect: { outcome: 'retry', status_code: 500, error_class: null, truncated: true }, maxMs: TIMEOUT_MS },
  { path: '/redirect', expect: { outcome: 'retry', status_code: 302, error_class: null, truncated: false }, maxMs: TIMEOUT_MS },
];

describe(`slow and hostile receivers (${TEST_STORE})`, () => {
  it('bounds every attempt by the timeout and the 16 KiB cap, records it by the status line, and keeps a healthy endpoint unaffected', async () => {
    const rssBefore = process.memoryUsage().rss;
    const endpoints = new Map<string, string>();
    for (const c of CASES) {
      // A long first retry keeps each case to one attempt while the test looks at it.
      const res = await server.api.post('/v1/endpoints', { url: hostileBase + c.path, retry_schedule: [3600] });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      endpoints.set(c.path, res.body.id);
    }
    const healthyId = (await server.api.post('/v1/endpoints', { url: healthy.url })).body.id;

    const deliveries = new Map<string, string>();
    for (const c of CASES) {
      const m = await server.api.post('/v1/messages', { event_type: 'hostile.test', payload: { case: c.path }, endpoint_id: endpoints.get(c.path) });
      expect(m.status).toBe(202);
      deliveries.set(c.path, m.body.deliveries[0].id);
    }
    // While the hostile attempts are open, the healthy endpoint gets 50 messages through.
    const healthyStart = Date.now();
    for (let i = 0; i < 50; i++) expect((await server.api.post('/v1/messages', { event_type: 'hostile.test', payload: { i }, endpoint_id: healthyId })).status).toBe(202);
    await healthy.waitForRequests(50, TIMEOUT_MS);
    const healthyMs = Date.now() - healthyStart;

    const recorded: Record<string, unknown> = {};
    for (const c of CASES) {
      const d = await waitForDelivery(server.api, deliveries.get(c.path)!, ['succeeded', 'pending_retry', 'failed'], TIMEOUT_MS * 3);
      const [a] = (await server.api.get(`/v1/deliveries/${d.id}/attempts`)).body.data;
      expect({ path: c.path, outcome: a.outcome, status_code: a.status_code, error_class: a.error_class, truncated: a.response_truncated }).toEqual({ path: c.path, ...c.expect });
      expect(a.duration_ms, `${c.path} attempt took ${a.duration_ms} ms`).toBeLessThanOrEqual(c.maxMs);
      expect(Buffer.byteLength(a.response_body ?? '', 'utf8')).toBeLessThanOrEqual(EXCERPT);
      if (c.path.startsWith('/huge')) expect(a.response_body.length).toBe(EXCERPT);
      recorded[c.path] = `${a.outcome} ${a.status_code ?? a.error_class} in ${a.duration_ms} ms${a.response_truncated ? ', body cut' : ''}`;
    }
    // Not followed: the redirect's target never saw a request.
    expect(redirectTarget.requests).toHaveLength(0);
    // The 100 MiB answers were dropped after the excerpt, not read to the end.
    for (const path of ['/huge-200', '/huge-500']) expect(written.get(path) ?? 0, `${path} bytes written`).toBeLessThan(HUGE);
    const rssGrowthMb = Math.round((process.memoryUsage().rss - rssBefore) / 1048576);
    expect(rssGrowthMb, 'RSS growth while answering 2 × 100 MiB').toBeLessThan(100);

    writeFigures('hostile-receivers', {
      timeout_ms: TIMEOUT_MS,
      ...recorded,
      redirect_target_requests: redirectTarget.requests.length,
      huge_bytes_written_before_hangup_mb: Math.round(Math.max(written.get('/huge-200') ?? 0, written.get('/huge-500') ?? 0) / 1048576),
      healthy_50_messages_ms: healthyMs,
      rss_growth_mb: rssGrowthMb,
    });
  });
});
