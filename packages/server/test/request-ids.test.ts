/**
 * Request ids (issue 8 part 7): every answer carries `x-request-id`, error bodies repeat it as
 * `request_id`, the message and the inbound event a request created keep it, every attempt sends
 * its own as `x-hookbridge-request-id` and records it, and the log lines of a failing request
 * carry it. On both stores (HOOKBRIDGE_TEST_STORE).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_KEY, rawConnection, type ApiResponse, type Receiver, useServer, waitForDelivery } from './helpers.js';

const GENERATED = /^req_[0-9a-z]{26}$/;
const lines: string[] = [];
const t = useServer({ HOOKBRIDGE_LOG_LEVEL: 'debug', HOOKBRIDGE_MAX_PAYLOAD_BYTES: '1024' }, { logLines: lines });
let r: Receiver;

beforeAll(async () => {
  r = await t.receiver();
});

/** The answer's id; for an error, also the one in its body. */
function idOf(res: ApiResponse, what: string): string {
  const id = res.headers.get('x-request-id');
  expect(id, `${what}: x-request-id`).toBeTruthy();
  if (res.status >= 400) {
    expect(res.body, what).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(res.body.error.request_id, `${what}: error body request_id`).toBe(id);
  }
  return id!;
}

async function raw(url: string, init: RequestInit = {}): Promise<ApiResponse> {
  const res = await fetch(t.server.url + url, init);
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

describe('request ids', () => {
  it('are on every answer, and error bodies repeat them', async () => {
    const cases: Array<[string, Promise<ApiResponse>, number]> = [
      ['success', t.api.get('/v1/endpoints'), 200],
      ['validation', t.api.post('/v1/endpoints', { url: 5 }), 400],
      ['unknown route', t.api.get('/v1/nothing-here'), 404],
      ['unknown id', t.api.get('/v1/endpoints/ep_00000000000000000000000000'), 404],
      ['no key', t.api.withKey(undefined).get('/v1/endpoints'), 401],
      ['wrong key', t.api.withKey('hb_live_nope').get('/v1/endpoints'), 401],
      ['text/plain', t.api.post('/v1/endpoints', 'url=x', { 'content-type': 'text/plain' }), 415],
      ['payload over the limit', t.api.post('/v1/messages', { event_type: 'big', payload: 'x'.repeat(2048) }), 413],
      ['body over the limit', t.api.post('/v1/messages', { event_type: 'big', payload: 'x'.repeat(100 * 1024) }), 413],
      ['bad percent-encoding (router)', raw('/v1/endpoints/%E0%A4%A', { headers: { authorization: `Bearer ${ADMIN_KEY}` } }), 400],
      ['invalid JSON', t.api.post('/v1/endpoints', '{"url":', { 'content-type': 'application/json' }), 400],
    ];
    const ids = new Set<string>();
    for (const [what, pending, status] of cases) {
      const res = await pending;
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(status);
      const id = idOf(res, what);
      expect(id, what).toMatch(GENERATED);
      ids.add(id);
    }
    expect(ids.size, 'each request its own id').toBe(cases.length);
  });

  it("echoes a client's plain x-request-id and replaces any other", async () => {
    const mine = 'client-trace_1.2:3';
    const ok = await t.api.call('GET', '/v1/endpoints', undefined, { 'x-request-id': mine });
    expect(idOf(ok, 'valid, success')).toBe(mine);
    const refused = await t.api.call('POST', '/v1/endpoints', { url: 5 }, { 'x-request-id': mine });
    expect(idOf(refused, 'valid, error')).toBe(mine);
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '<script>']) {
      const res = await t.api.call('GET', '/v1/nothing', undefined, { 'x-request-id': bad });
      expect(idOf(res, `invalid ${bad}`)).toMatch(GENERATED);
    }
  });

  it('are on a WebSocket upgrade (101) and on a refused one', async () => {
    const ep = (await t.api.post('/v1/inbound-endpoints', { name: 'ws-ids', mode: 'cli', verification: { type: 'none' } })).body;
    const url = `${t.server.url.replace(/^http/, 'ws')}/v1/inbound-endpoints/${ep.id}/stream`;
    const upgraded = await new Promise<string | undefined>((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-request-id': 'ws-trace-1' } });
      ws.on('upgrade', (res) => resolve(res.headers['x-request-id'] as string | undefined));
      ws.on('open', () => ws.close());
      ws.on('error', reject);
    });
    expect(upgraded).toBe('ws-trace-1');
    const refused = await new Promise<{ status?: number; id?: string }>((resolve) => {
      const ws = new WebSocket(url, { headers: { authorization: 'Bearer hb_live_nope' } });
      ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode, id: res.headers['x-request-id'] as string | undefined }));
      ws.on('error', () => undefined);
    });
    expect(refused).toEqual({ status: 401, id: expect.stringMatching(GENERATED) });
  });

  it('are on answers made before any request exists (header overflow), in header and body alike', async () => {
    const res = await rawConnection(t.server.url, `GET /v1/endpoints HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    const [head, body] = res.answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431/);
    const header = /\r\nX-Request-Id: (\S+)/i.exec(head)?.[1];
    expect(header).toMatch(GENERATED);
    expect(JSON.parse(body)).toEqual({ error: { code: 'headers_too_large', message: expect.any(String), request_id: header } });
  });

  it('are on ingest refusals and kept on the inbound event an ingest created', async () => {
    const ep = (await t.api.post('/v1/inbound-endpoints', { name: 'ids', mode: 'pull', verification: { type: 'token', secret: 'ingest-token-value', query: 'token' } })).body;
    const refused = await raw(`/in/${ep.id}?token=wrong`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: { code: 'invalid_token', message: 'request refused', request_id: refused.headers.get('x-request-id') } });
    const unknown = await raw('/in/in_00000000000000000000000000', { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    idOf(unknown, 'unknown inbound endpoint');

    const accepted = await raw(`/in/${ep.id}?token=ingest-token-value`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json', 'x-request-id': 'provider-42' } });
    expect(accepted.status).toBeLessThan(300);
    expect(accepted.headers.get('x-request-id')).toBe('provider-42');
    const event = await t.api.get(`/v1/inbound-events/${accepted.body.id}`);
    expect(event.status, JSON.stringify(event.body)).toBe(200);
    expect(event.body.request_id).toBe('provider-42');
  });

  it("keep the creating request's id on the message, and give each attempt its own, sent and recorded", async () => {
    r.respondWith(500, 200);
    const ep = await t.endpoint(r.url, { retry_schedule: [0.1] });
    const posted = await t.api.post('/v1/messages', { event_type: 'ids.test', payload: { a: 1 }, endpoint_id: ep.id });
    expect(posted.status).toBe(202);
    const postId = idOf(posted, 'publish');
    const message = await t.api.get(`/v1/messages/${posted.body.id}`);
    expect(message.body.request_id).toBe(postId);
    expect((await t.api.get('/v1/messages?limit=5')).body.data.find((m: any) => m.id === posted.body.id).request_id).toBe(postId);

    const deliveryId = posted.body.deliveries[0].id;
    await waitForDelivery(t.api, deliveryId, ['succeeded']);
    const attempts = (await t.api.get(`/v1/deliveries/${deliveryId}/attempts`)).body.data as any[];
    expect(attempts).toHaveLength(2);
    const sent = r.requests.filter((q) => q.headers['x-hookbridge-delivery-id'] === deliveryId).map((q) => q.headers['x-hookbridge-request-id']);
    expect(attempts.map((a) => a.request_id)).toEqual(sent);
    for (const a of attempts) expect(a.request_id).toMatch(GENERATED);
    expect(new Set([postId, ...sent]).size, 'each attempt is a request of its own').toBe(3);
    // The worker's attempt log line names it.
    await expect.poll(() => lines.some((l) => l.includes(sent[1] as string) && l.includes('attempt recorded'))).toBe(true);
  });

  it('are on the log lines of a failing request', async () => {
    const res = await t.api.call('POST', '/v1/endpoints', { url: 5 }, { 'x-request-id': 'find-me-in-the-log' });
    expect(res.status).toBe(400);
    await expect.poll(() => lines.filter((l) => l.includes('find-me-in-the-log')).length).toBeGreaterThan(0);
    const logged = lines.filter((l) => l.includes('find-me-in-the-log')).map((l) => JSON.parse(l));
    expect(logged[0]).toMatchObject({ request_id: 'find-me-in-the-log', msg: 'request failed', statusCode: 400, req: { method: 'POST', url: '/v1/endpoints' } });
  });
});
