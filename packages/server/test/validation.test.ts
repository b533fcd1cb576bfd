/**
 * Bad input gets the right 4xx with an error code — never a 5xx — and the server keeps serving
 * (DESIGN.md §3). Plus the public operational routes, the OpenAPI document and list pagination.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, startReceiver, startTestServer, waitForDelivery, type ApiResponse, type Receiver, type TestServer } from './helpers.js';

let server: TestServer;
let api: Client;
let receiver: Receiver;
/** Every response seen in this file, so the last test can check none was a 5xx. */
const seen: Array<{ what: string; status: number }> = [];

beforeAll(async () => {
  [server, receiver] = await Promise.all([startTestServer(), startReceiver()]);
  const raw = server.api;
  // Same client, but recording every status.
  api = new (class extends Client {
    override async call<T = any>(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>> {
      const res = await raw.call<T>(method, url, body, headers);
      seen.push({ what: `${method} ${url}`, status: res.status });
      return res;
    }
  })(raw.baseUrl, raw.key);
});

afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

/** Asserts the error shape {error:{code,message,details?}} and nothing else at the top level. */
function expectError(res: ApiResponse, status: number, code: string) {
  expect(res.status, `${status} ${code} expected, got ${res.status} ${JSON.stringify(res.body)}`).toBe(status);
  expect(res.body).toMatchObject({ error: { code, message: expect.any(String) } });
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(res.body.error.message.length).toBeGreaterThan(0);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

/** Asserts a 400 whose details name `field` (exactly, or as the parent of the failing path). */
function expectFieldError(res: ApiResponse, field: string) {
  expectError(res, 400, 'invalid_request');
  expect(Array.isArray(res.body.error.details), JSON.stringify(res.body)).toBe(true);
  const fields: string[] = res.body.error.details.map((d: any) => String(d.field));
  expect(
    fields.some((f) => f === field || f.startsWith(`${field}.`)),
    `details ${JSON.stringify(res.body.error.details)} should name ${field}`,
  ).toBe(true);
}

async function endpoint(extra: Record<string, unknown> = {}) {
  const res = await api.post('/v1/endpoints', { url: receiver.url, retry_schedule: [0.1], ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe.sequential('bad input', () => {
  it('malformed JSON → 400 invalid_request', async () => {
    for (const body of ['{not json', '{"url": ', '[1,2', 'nul', '{"a":1}}']) {
      expectError(await api.post('/v1/endpoints', body), 400, 'invalid_request');
      expectError(await api.post('/v1/messages', body), 400, 'invalid_request');
    }
  });

  it('wrong types → 400 with details naming the field', async () => {
    expectFieldError(await api.post('/v1/endpoints', { url: 5 }), 'url');
    expectFieldError(await api.post('/v1/messages', { event_type: 1, payload: {} }), 'event_type');
    expectFieldError(await api.post('/v1/endpoints', { url: receiver.url, timeout_ms: 'fast' }), 'timeout_ms');
    expectFieldError(await api.post('/v1/endpoints', { url: receiver.url, retry_schedule: ['x'] }), 'retry_schedule');
    expectFieldError(await api.post('/v1/endpoints', { url: receiver.url, retry_schedule: 5 }), 'retry_schedule');
    expectFieldError(await api.post('/v1/endpoints', { url: receiver.url, event_types: 'a.b' }), 'event_types');
    expectFieldError(await api.post('/v1/endpoints', { url: receiver.url, retry_client_errors: 'yes' }), 'retry_client_errors');
    expectFieldError(await api.post('/v1/endpoints', { url: receiver.url, signature_scheme: 'md5' }), 'signature_scheme');
    expectFieldError(await api.post('/v1/messages', { event_type: 'a.b', payload: {}, broadcast: 'true' }), 'broadcast');
    // Out of range is as bad as the wrong type.
    expectFieldError(await api.post('/v1/endpoints', { url: receiver.url, timeout_ms: 10 }), 'timeout_ms');
    expectFieldError(await api.post('/v1/endpoints', { url: receiver.url, retry_schedule: [-1] }), 'retry_schedule');
    // A body that is JSON but not an object.
    expectError(await api.post('/v1/endpoints', '[]'), 400, 'invalid_request');
    expectError(await api.post('/v1/endpoints', '"https://x.example/"'), 400, 'invalid_request');
    expectError(await api.post('/v1/messages', 'null'), 400, 'invalid_request');
    // PATCH validates the same way.
    const ep = await endpoint();
    expectFieldError(await api.patch(`/v1/endpoints/${ep.id}`, { timeout_ms: 'fast' }), 'timeout_ms');
  });

  it('unknown fields → 400 naming them', async () => {
    expectFieldError(await api.post('/v1/endpoints', { url: receiver.url, bogus: 1 }), 'bogus');
    expectFieldError(await api.post('/v1/messages', { event_type: 'a.b', payload: {}, evil: true }), 'evil');
    const ep = await endpoint();
    expectFieldError(await api.patch(`/v1/endpoints/${ep.id}`, { status: 'disabled' }), 'status');
  });

  it('missing required fields → 400', async () => {
    expectFieldError(await api.post('/v1/messages', { event_type: 'a.b' }), 'payload');
    expectFieldError(await api.post('/v1/messages', { payload: {} }), 'event_type');
    expectFieldError(await api.post('/v1/endpoints', {}), 'url');
    expectError(await api.post('/v1/endpoints'), 400, 'invalid_request');
  });

  it('payload over 1 MiB → 413 payload_too_large', async () => {
    // Far over the body limit: refused while reading.
    const huge = await api.post('/v1/messages', { event_type: 'big.one', payload: { blob: 'x'.repeat(2 * 1024 * 1024) } });
    expectError(huge, 413, 'payload_too_large');
    // Just over the payload limit but inside the room left for the envelope: refused by the route.
    const over = await api.post('/v1/messages', { event_type: 'big.one', payload: 'y'.repeat(1024 * 1024) });
    expectError(over, 413, 'payload_too_large');
    // Nothing was stored.
    expect((await api.get('/v1/messages?event_type=big.one')).body.data).toEqual([]);
  });

  it('a body that is not JSON → 415 unsupported_media_type', async () => {
    const body = JSON.stringify({ event_type: 'a.b', payload: {} });
    expectError(await api.post('/v1/messages', body, { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
    expectError(await api.post('/v1/messages', body, { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectError(await api.post('/v1/endpoints', JSON.stringify({ url: receiver.url }), { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
    expect((await api.get('/v1/messages?event_type=a.b')).body.data).toEqual([]);
  });

  it('unknown ids → 404 not_found; unknown routes → 404 in the error shape', async () => {
    for (const path of [
      '/v1/endpoints/ep_doesnotexist',
      '/v1/messages/msg_doesnotexist',
      '/v1/deliveries/dlv_doesnotexist',
      '/v1/deliveries/dlv_doesnotexist/attempts',
      '/v1/endpoints/not-even-a-prefix',
    ]) {
      expectError(await api.get(path), 404, 'not_found');
    }
    expectError(await api.patch('/v1/endpoints/ep_doesnotexist', { description: 'x' }), 404, 'not_found');
    expectError(await api.delete('/v1/endpoints/ep_doesnotexist'), 404, 'not_found');
    expectError(await api.post('/v1/endpoints/ep_doesnotexist/pause'), 404, 'not_found');
    expectError(await api.post('/v1/deliveries/dlv_doesnotexist/retry'), 404, 'not_found');
    expectError(await api.post('/v1/deliveries/dlv_doesnotexist/cancel'), 404, 'not_found');
    expectError(await api.post('/v1/deliveries/dlv_doesnotexist/replay'), 404, 'not_found');
    expectError(await api.post('/v1/messages', { event_type: 'a.b', payload: {}, endpoint_id: 'ep_doesnotexist' }), 404, 'not_found');

    expectError(await api.get('/v1/no-such-thing'), 404, 'not_found');
    expectError(await api.get('/nope'), 404, 'not_found');
    expectError(await api.post('/v1/endpoints/ep_x/explode', {}), 404, 'not_found');
    expectError(await api.call('PUT', '/v1/messages', {}), 404, 'not_found');
  });

  it('actions in the wrong state → 409 invalid_state', async () => {
    const ep = await endpoint();
    const msg = await api.post('/v1/messages', { event_type: 'a.b', payload: { n: 1 }, endpoint_id: ep.id });
    expect(msg.status).toBe(202);
    const id = msg.body.deliveries[0].id;
    await waitForDelivery(api, id, ['succeeded']);

    expectError(await api.post(`/v1/deliveries/${id}/cancel`), 409, 'invalid_state');
    expectError(await api.post(`/v1/deliveries/${id}/retry`), 409, 'invalid_state');
    // Still succeeded, nothing re-sent.
    expect((await api.get(`/v1/deliveries/${id}`)).body).toMatchObject({ status: 'succeeded', attempt_count: 1 });

    // Cancelled: retry and cancel again are both refused.
    await api.post(`/v1/endpoints/${ep.id}/pause`);
    const held = await api.post('/v1/messages', { event_type: 'a.b', payload: { n: 2 }, endpoint_id: ep.id });
    const heldId = held.body.deliveries[0].id;
    expect(held.body.deliveries[0].status).toBe('paused');
    expect((await api.post(`/v1/deliveries/${heldId}/cancel`)).status).toBe(202);
    expectError(await api.post(`/v1/deliveries/${heldId}/cancel`), 409, 'invalid_state');
    expectError(await api.post(`/v1/deliveries/${heldId}/retry`), 409, 'invalid_state');
    await api.post(`/v1/endpoints/${ep.id}/resume`);
  });

  it('endpoint headers that Hookbridge owns → 400', async () => {
    for (const headers of [{ Host: 'evil.example' }, { 'webhook-id': 'x' }, { 'Content-Type': 'text/plain' }, { 'X-Webhook-Signature': 'x' }, { Connection: 'close' }, { 'bad header': 'x' }]) {
      const res = await api.post('/v1/endpoints', { url: receiver.url, headers });
      expectFieldError(res, 'headers');
    }
    const ep = await endpoint({ headers: { 'X-Api-Token': 'secret' } });
    expectFieldError(await api.patch(`/v1/endpoints/${ep.id}`, { headers: { HOST: 'evil.example' } }), 'headers');
  });

  it('conflicting message scopes → 400', async () => {
    expectError(await api.post('/v1/messages', { event_type: 'a.b', payload: {}, consumer_id: 'c1', broadcast: true }), 400, 'invalid_request');
    expectError(await api.post('/v1/messages', { event_type: 'a.b', payload: {}, consumer_id: 'c1', endpoint_id: 'ep_x' }), 400, 'invalid_request');
  });

  it('bad list parameters → 400', async () => {
    for (const path of [
      '/v1/endpoints?limit=0',
      '/v1/endpoints?limit=1000',
      '/v1/endpoints?limit=abc',
      '/v1/messages?limit=0',
      '/v1/deliveries?limit=1000',
      '/v1/deliveries?status=bogus',
      '/v1/endpoints?status=bogus',
      '/v1/deliveries?since=yesterday',
    ]) {
      const res = await api.get(path);
      expectError(res, 400, 'invalid_request');
    }
    expect((await api.get('/v1/endpoints?limit=250')).status).toBe(200);
    expect((await api.get('/v1/endpoints?limit=1')).status).toBe(200);
  });

  it('deeply nested JSON → 400, not a 5xx', async () => {
    // Parses fine, but would overflow the stack when serialized again.
    const arrays = '['.repeat(5000) + ']'.repeat(5000);
    expectError(await api.post('/v1/messages', `{"event_type":"a.b","payload":${arrays}}`), 400, 'invalid_request');
    const objects = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    expectError(await api.post('/v1/endpoints', `{"url":"${receiver.url}","metadata":${objects}}`), 400, 'invalid_request');
    // Brackets inside strings are not nesting; ordinary depth is fine.
    const ok = await api.post('/v1/messages', { event_type: 'a.b', payload: { text: '['.repeat(5000), deep: JSON.parse('['.repeat(50) + ']'.repeat(50)) } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
  });

  it('malformed URL paths answer in the error shape too', async () => {
    // Rejected by Fastify's router before any route runs.
    expectError(await api.get('/v1/endpoints/%E0%A4%A'), 400, 'invalid_request');
    expectError(await api.get(`/v1/endpoints/ep_${'x'.repeat(200)}`), 404, 'not_found');
    expectError(await api.post(`/v1/deliveries/dlv_${'x'.repeat(200)}/replay`), 404, 'not_found');
  });

  it('after all of it the server still serves', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const ep = await endpoint();
    const msg = await api.post('/v1/messages', { event_type: 'still.alive', payload: { ok: true }, endpoint_id: ep.id });
    expect(msg.status).toBe(202);
    await waitForDelivery(api, msg.body.deliveries[0].id, ['succeeded']);
  });

  it('and none of it was answered with a 5xx', () => {
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.filter((s) => s.status >= 500)).toEqual([]);
  });
});

describe('public routes', () => {
  it('/healthz and /readyz answer 200 without a key', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toMatchObject({ status: expect.any(String) });
    }
  });

  it('GET /openapi.json is an OpenAPI 3 document of the API, without a key', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const paths = Object.keys(doc.paths);
    for (const p of ['/v1/endpoints', '/v1/messages', '/v1/deliveries/{id}/replay']) expect(paths, p).toContain(p);
    expect(doc.paths['/v1/endpoints'].post).toBeDefined();
    expect(doc.paths['/v1/messages'].post).toBeDefined();
    expect(doc.paths['/v1/deliveries/{id}/replay'].post).toBeDefined();
  });
});

describe('pagination', () => {
  it('walks a list with limit and cursor, each item exactly once', async () => {
    const consumer = `pager-${Date.now()}`;
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await endpoint({ consumer_id: consumer, description: `ep ${i}` })).id);

    const first = await api.get(`/v1/endpoints?consumer_id=${consumer}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.has_more).toBe(true);
    expect(first.body.next_cursor).toEqual(expect.any(String));

    const seenIds: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: ApiResponse = await api.get(`/v1/endpoints?consumer_id=${consumer}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seenIds.push(...res.body.data.map((e: any) => e.id));
      expect(res.body.has_more).toBe(res.body.next_cursor !== null);
      cursor = res.body.next_cursor;
      pages++;
      expect(pages).toBeLessThan(10);
    } while (cursor);

    expect(pages).toBe(3);
    expect(seenIds).toHaveLength(5);
    expect(new Set(seenIds).size).toBe(5);
    expect([...seenIds].sort()).toEqual([...created].sort());

    // One big page says there is no more.
    const all = await api.get(`/v1/endpoints?consumer_id=${consumer}&limit=5`);
    expect(all.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(all.body.data).toHaveLength(5);
  });
});
