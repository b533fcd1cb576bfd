/**
 * Abuse limits (DESIGN.md §7): the per-project API rate limit (429 + Retry-After), the body and
 * header size limits (413, 431), and slow-request timeouts against slowloris clients — request
 * line and headers within HOOKBRIDGE_HEADERS_TIMEOUT_MS, the whole request within
 * HOOKBRIDGE_REQUEST_TIMEOUT_MS, else 408 and the connection is closed — while normal requests on
 * other connections are served meanwhile, and long-polls and WebSocket streams, which are received
 * at once and then answered slowly, are not cut by those timeouts.
 *
 * The timeouts are small here (1 s and 2 s) to keep the file fast; all traffic is on loopback.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_KEY, createProject, expectApiError, rawConnection, useServer, waitUntil } from './helpers.js';

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
/** Node checks the deadlines periodically (every 250 ms with these settings); leave room for a busy machine. */
const SLACK_MS = 1500;

const s = useServer({
  HOOKBRIDGE_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
  HOOKBRIDGE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  HOOKBRIDGE_MAX_HEADER_BYTES: '8192',
  HOOKBRIDGE_MAX_PAYLOAD_BYTES: '1024',
});

/** A raw loopback connection to the server (see rawClient in helpers.ts). */
const rawClient = (head: string, trickle = '', everyMs = 200) => rawConnection(s.server.url, head, trickle, everyMs);

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 0);
const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

/** A normal request on its own connection, timed. */
async function quickHealth(): Promise<number> {
  const t = Date.now();
  const res = await fetch(`${s.server.url}/healthz`);
  expect(res.status).toBe(200);
  return Date.now() - t;
}

describe('per-project API rate limit', () => {
  it('answers 429 rate_limited with an integer Retry-After ≥ 1 once a project is over its limit', async () => {
    const p = await createProject(s.api, 'limited');
    expect((await s.api.patch(`/v1/projects/${p.projectId}`, { api_rate_limit_per_minute: 2 })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await p.api.get('/v1/endpoints')).status).toBe(200);
    const over = await p.api.get('/v1/endpoints');
    expectApiError(over, 429, 'rate_limited');
    const retryAfter = over.headers.get('retry-after') ?? '';
    expect(retryAfter).toMatch(/^\d+$/);
    // 2 per minute: one request is allowed again after 30 s.
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(30);
    // Other projects are not limited by it.
    expect((await s.api.get('/v1/endpoints')).status).toBe(200);
  });
});

describe('size limits', () => {
  it('refuses a body over the limit with 413 payload_too_large', async () => {
    const res = await s.api.post('/v1/messages', { event_type: 'big', payload: 'x'.repeat(70 * 1024) });
    expectApiError(res, 413, 'payload_too_large');
  });

  it('refuses headers over HOOKBRIDGE_MAX_HEADER_BYTES with 431 and closes, without harm to the server', async () => {
    const request = (filler: number) => `GET /v1/endpoints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nX-Filler: ${'a'.repeat(filler)}\r\n\r\n`;
    const big = await rawClient(request(9 * 1024));
    expect(statusOf(big.answer), big.answer).toBe(431);
    expect(bodyOf(big.answer)).toEqual({ error: { code: 'headers_too_large', message: expect.any(String), request_id: expect.stringMatching(/^req_/) } });
    expect(big.ms).toBeLessThan(5000);
    // Also on the ingest route, which needs no key.
    const ingest = await rawClient(`POST /in/in_unknown HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-Filler: ${'a'.repeat(9 * 1024)}\r\n\r\n{}`);
    expect(statusOf(ingest.answer)).toBe(431);
    // Under the limit it is an ordinary request; and the server is fine.
    const fits = await rawClient(request(6 * 1024).replace('HTTP/1.1\r\n', 'HTTP/1.1\r\nConnection: close\r\n'));
    expect(statusOf(fits.answer), fits.answer.slice(0, 200)).toBe(200);
    await quickHealth();
  });

  it('answers what Node cannot parse in the API error shape (400)', async () => {
    const bad = await rawClient('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(statusOf(bad.answer)).toBe(400);
    expect(bodyOf(bad.answer)).toEqual({ error: { code: 'invalid_request', message: expect.any(String), request_id: expect.stringMatching(/^req_/) } });
  });
});

describe('slow clients (slowloris)', () => {
  it('closes a connection whose headers trickle in slower than the headers timeout, with 408, and serves others meanwhile', async () => {
    const slow = rawClient('GET /healthz HTTP/1.1\r\nHost: x\r\n', `X-Slow: ${'a'.repeat(200)}\r\n\r\n`, 200);
    // Served at once on other connections while the slow one hangs on.
    for (let i = 0; i < 3; i++) {
      expect(await quickHealth()).toBeLessThan(500);
      await new Promise((r) => setTimeout(r, 150));
    }
    const r = await slow;
    expect(r.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(r.ms).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
    expect(r.sent).toBeLessThan(20);
    expect(statusOf(r.answer)).toBe(408);
    expect(bodyOf(r.answer)).toEqual({ error: { code: 'request_timeout', message: expect.any(String), request_id: expect.stringMatching(/^req_/) } });
  });

  it('closes connections that send nothing, or stall after a partial request line, within the headers timeout', async () => {
    const clients = [
      ...Array.from({ length: 10 }, () => rawClient('')),
      ...Array.from({ length: 10 }, () => rawClient('POST /v1/messa')),
    ];
    expect(await quickHealth()).toBeLessThan(500);
    for (const r of await Promise.all(clients)) expect(r.ms).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('closes a connection whose body trickles in slower than the request timeout, with 408; nothing is stored', async () => {
    const body = JSON.stringify({ url: 'http://127.0.0.1:9/slow', description: 'x'.repeat(60) });
    const head = `POST /v1/endpoints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const slow = rawClient(head, body, 200);
    expect(await quickHealth()).toBeLessThan(500);
    const r = await slow;
    expect(r.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(r.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(r.sent).toBeLessThan(body.length);
    expect(statusOf(r.answer)).toBe(408);
    const list = await s.api.get('/v1/endpoints');
    expect(list.body.data.map((e: any) => e.url)).not.toContain('http://127.0.0.1:9/slow');
    await quickHealth();
  });

  it('lets a request whose body arrives within the request timeout through, however slowly', async () => {
    const body = JSON.stringify({ name: 'slow-but-ok' });
    const head = `POST /v1/event-types HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    // ~22 bytes, one per 50 ms: about 1.1 s, under the 2 s request timeout but over the headers one.
    const r = await rawClient(head, body, 50);
    expect(statusOf(r.answer), r.answer.slice(0, 300)).toBe(201);
  });
});

describe('long answers are not cut by the receive timeouts', () => {
  const holding = async (mode: 'pull' | 'cli') => {
    const res = await s.api.post('/v1/inbound-endpoints', { name: `hold-${mode}`, mode, verification: { type: 'none' } });
    expect(res.status).toBe(201);
    return res.body as { id: string; ingest_url: string };
  };

  it('a long-poll waiting well past the request timeout still answers 200', async () => {
    const ep = await holding('pull');
    const wait = (2.5 * REQUEST_TIMEOUT_MS) / 1000;
    const started = Date.now();
    const res = await s.api.get(`/v1/inbound-endpoints/${ep.id}/events?wait=${wait}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [], has_more: false, next_cursor: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(wait * 1000 - 100);
  });

  it('accepts the longest wait the API allows (60 s) and answers as soon as an event arrives', async () => {
    const ep = await holding('pull');
    const polling = s.api.get(`/v1/inbound-endpoints/${ep.id}/events?wait=60`);
    // Past both receive timeouts before the event comes.
    setTimeout(() => void fetch(ep.ingest_url, { method: 'POST', body: '{"late":true}', headers: { 'content-type': 'application/json' } }), REQUEST_TIMEOUT_MS + 1000);
    const res = await polling;
    expect(res.status).toBe(200);
    expect(res.body.data.map((e: any) => e.body)).toEqual(['{"late":true}']);
    expect((await s.api.get(`/v1/inbound-endpoints/${ep.id}/events?wait=61`)).status).toBe(400);
  });

  it('a WebSocket stream stays open past the request timeout and still delivers', async () => {
    const ep = await holding('cli');
    const ws = new WebSocket(`${s.server.url.replace(/^http/, 'ws')}/v1/inbound-endpoints/${ep.id}/stream`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const frames: any[] = [];
    let closed = false;
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    ws.on('close', () => (closed = true));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS + 1000));
    expect(closed).toBe(false);
    expect((await fetch(ep.ingest_url, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } })).status).toBe(202);
    await waitUntil(() => frames.length >= 1, 5000, 'the event on the stream');
    expect(frames[0]).toMatchObject({ type: 'event', body: '{"n":1}' });
    ws.close();
  });
});
