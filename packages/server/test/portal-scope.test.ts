/**
 * Consumer portal sessions (issue 9): a portal token is a bearer credential limited to one
 * consumer, enforced by the API. These tests prove, on the store under test, that a token
 * - may call only the portal routes (the list is read from the app: a new route is refused to
 *   portal tokens unless it is marked, and then it must appear here);
 * - sees and changes nothing of another consumer, nor of the operator's own endpoints (404), and
 *   lists nothing of theirs;
 * - cannot create portal sessions, cannot write when read only, and stops at expires_at, or when
 *   the key that made it is revoked, or when it is forged.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { routesOf } from '../src/api/app.js';
import { signPortalToken, verifyPortalToken } from '../src/core/portal-token.js';
import { createProject, expectApiError, startReceiver, startTestServer, waitForDelivery, type ApiResponse, type Client, type Receiver, type TestServer } from './helpers.js';

let server: TestServer;
let admin: Client;
let ok: Receiver;
let failing: Receiver;
/** Portal clients of consumer acme: read-write and read-only. */
let acme: Client;
let acmeRead: Client;
let acmeToken: string;

const ids = {
  acmeEndpoint: '',
  acmePaused: '',
  acmeFailing: '',
  globexEndpoint: '',
  globexFailing: '',
  operatorEndpoint: '',
  acmeMessage: '',
  globexMessage: '',
  acmeDelivery: '',
  globexDelivery: '',
  globexRetrying: '',
  operatorDelivery: '',
};

async function ok2xx(res: Promise<ApiResponse>, status = 201): Promise<any> {
  const r = await res;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function portalSession(body: Record<string, unknown>, by: Client = admin): Promise<{ client: Client; body: any }> {
  const s = await ok2xx(by.post('/v1/portal-sessions', body));
  return { client: admin.withKey(s.token), body: s };
}

function upgrade(token: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}${path}`, { headers: { authorization: `Bearer ${token}` } });
    ws.once('open', () => (ws.terminate(), resolve(101)));
    ws.once('unexpected-response', (req, res) => (req.destroy(), resolve(res.statusCode ?? 0)));
    ws.once('error', reject);
  });
}

beforeAll(async () => {
  // Consumers may reach 127.0.0.1 (the receivers here); the operator may reach all of 127.0.0.0/8.
  [server, ok, failing] = await Promise.all([startTestServer({ HOOKBRIDGE_PORTAL_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32' }), startReceiver(), startReceiver()]);
  failing.respondWith(500);
  admin = server.api;
  const endpoint = async (url: string, consumer: string | undefined, extra: Record<string, unknown> = {}) =>
    (await ok2xx(admin.post('/v1/endpoints', { url, ...(consumer ? { consumer_id: consumer } : {}), ...extra }))).id as string;
  ids.acmeEndpoint = await endpoint(`${ok.url}/acme`, 'acme');
  ids.acmePaused = await endpoint(`${ok.url}/acme-paused`, 'acme');
  await ok2xx(admin.post(`/v1/endpoints/${ids.acmePaused}/pause`), 200);
  ids.acmeFailing = await endpoint(failing.url, 'acme', { retry_schedule: [3600] });
  ids.globexEndpoint = await endpoint(`${ok.url}/globex`, 'globex');
  ids.globexFailing = await endpoint(failing.url, 'globex', { retry_schedule: [3600] });
  ids.operatorEndpoint = await endpoint(`${ok.url}/operator`, undefined);
  const send = (endpointId: string) => ok2xx(admin.post('/v1/messages', { event_type: 'order.paid', payload: { to: endpointId }, endpoint_id: endpointId }), 202);
  const a = await send(ids.acmeEndpoint);
  ids.acmeMessage = a.id;
  ids.acmeDelivery = a.deliveries[0].id;
  await send(ids.acmeFailing);
  const g = await send(ids.globexEndpoint);
  ids.globexMessage = g.id;
  ids.globexDelivery = g.deliveries[0].id;
  ids.globexRetrying = (await send(ids.globexFailing)).deliveries[0].id;
  ids.operatorDelivery = (await send(ids.operatorEndpoint)).deliveries[0].id;
  await Promise.all([
    waitForDelivery(admin, ids.acmeDelivery, ['succeeded']),
    waitForDelivery(admin, ids.globexDelivery, ['succeeded']),
    waitForDelivery(admin, ids.globexRetrying, ['pending_retry']),
    waitForDelivery(admin, ids.operatorDelivery, ['succeeded']),
  ]);
  const s = await portalSession({ consumer_id: 'acme' });
  acme = s.client;
  acmeToken = s.body.token;
  acmeRead = (await portalSession({ consumer_id: 'acme', read_only: true })).client;
});

afterAll(async () => {
  await server?.close();
  await Promise.all([ok?.close(), failing?.close()]);
});

/** What a portal session may call: changing this list is a decision about what consumers reach. */
const PORTAL_ROUTES = [
  'DELETE /v1/endpoints/:id',
  'GET /v1/deliveries',
  'GET /v1/deliveries/:id',
  'GET /v1/deliveries/:id/attempts',
  'GET /v1/endpoints',
  'GET /v1/endpoints/:id',
  'GET /v1/event-types',
  'GET /v1/messages/:id',
  'GET /v1/portal-sessions/current',
  'PATCH /v1/endpoints/:id',
  'POST /v1/deliveries/:id/cancel',
  'POST /v1/deliveries/:id/replay',
  'POST /v1/deliveries/:id/retry',
  'POST /v1/deliveries/replay',
  'POST /v1/endpoints',
  'POST /v1/endpoints/:id/pause',
  'POST /v1/endpoints/:id/resume',
  'POST /v1/endpoints/:id/secret/rotate',
  'POST /v1/messages',
];

/** Everything of globex and of the operator, read with the admin key. */
async function othersSnapshot(): Promise<unknown> {
  const paths = [
    ...[ids.globexEndpoint, ids.globexFailing, ids.operatorEndpoint].map((id) => `/v1/endpoints/${id}`),
    ...[ids.globexDelivery, ids.globexRetrying, ids.operatorDelivery].flatMap((id) => [`/v1/deliveries/${id}`, `/v1/deliveries/${id}/attempts`]),
    `/v1/messages/${ids.globexMessage}`,
  ];
  const out: Record<string, unknown> = {};
  for (const p of paths) out[p] = (await admin.get(p)).body;
  out.received = ok.requests.filter((r) => !r.url.includes('/acme')).length;
  return out;
}

describe.sequential('consumer portal sessions', () => {
  it('creates a session: a URL to the portal with the token in its fragment, and expires_at', async () => {
    const before = Date.now();
    const { body } = await portalSession({ consumer_id: 'acme', ttl_seconds: 600 });
    const projectId = (await admin.get('/v1/api-keys')).body.data[0].project_id;
    expect(body).toMatchObject({ id: expect.stringMatching(/^psess_/), consumer_id: 'acme', read_only: false, token: expect.stringMatching(/^hbp_/) });
    // The server's public URL (HOOKBRIDGE_PUBLIC_URL, by default http://localhost:<port>).
    const url = new URL(body.url);
    expect([url.port, url.pathname, url.hash]).toEqual([new URL(server.url).port, `/portal/${projectId}`, `#token=${body.token}`]);
    const expires = Date.parse(body.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 600_000);
    const current = await admin.withKey(body.token).get('/v1/portal-sessions/current');
    expect(current.status).toBe(200);
    expect(current.body).toEqual({ id: body.id, consumer_id: 'acme', read_only: false, expires_at: body.expires_at, brand: { name: 'default', color: null, logo_url: null } });
  });

  it('refuses bad session requests with 400', async () => {
    for (const body of [{}, { consumer_id: '' }, { consumer_id: 'acme', ttl_seconds: 59 }, { consumer_id: 'acme', ttl_seconds: 7 * 86400 + 1 }, { consumer_id: 'acme', read_only: 'yes' }, { consumer_id: 'acme', extra: 1 }]) {
      expectApiError(await admin.post('/v1/portal-sessions', body), 400, 'invalid_request', JSON.stringify(body));
    }
  });

  it('marks exactly the portal routes', () => {
    const portal = routesOf(server.app).filter((r) => r.portal).map((r) => `${r.method} ${r.url}`).sort();
    expect(portal).toEqual([...PORTAL_ROUTES].sort());
  });

  it('refuses every other route to a portal token with 403, creating portal sessions among them', async () => {
    const others = routesOf(server.app).filter((r) => !r.public && !r.portal);
    expect(others.length).toBeGreaterThan(25);
    for (const r of others) {
      const path = r.url.replace(/:(\w+)/g, (_m, name) => (name === 'id' ? ids.acmeEndpoint : 'x'));
      if (r.websocket) {
        expect(await upgrade(acmeToken, path), `${r.method} ${r.url}`).toBe(403);
        continue;
      }
      expectApiError(await acme.call(r.method, path, r.method === 'GET' || r.method === 'DELETE' ? undefined : {}), 403, 'forbidden', `${r.method} ${r.url}`);
    }
    expectApiError(await acme.post('/v1/portal-sessions', { consumer_id: 'acme' }), 403, 'forbidden', 'a portal session creating a session');
    expectApiError(await acme.post('/v1/portal-sessions', { consumer_id: 'globex' }), 403, 'forbidden', 'a portal session creating a session for another consumer');
  });

  it("answers 404 for another consumer's and the operator's endpoints, deliveries and messages, and lists none of them", async () => {
    const before = await othersSnapshot();
    const foreignEndpoints = [ids.globexEndpoint, ids.globexFailing, ids.operatorEndpoint];
    for (const id of foreignEndpoints) {
      for (const [method, path, body] of [
        ['GET', `/v1/endpoints/${id}`],
        ['PATCH', `/v1/endpoints/${id}`, { description: 'taken over' }],
        ['DELETE', `/v1/endpoints/${id}`],
        ['POST', `/v1/endpoints/${id}/pause`],
        ['POST', `/v1/endpoints/${id}/resume`],
        ['POST', `/v1/endpoints/${id}/secret/rotate`],
        ['POST', '/v1/messages', { event_type: 'order.paid', payload: {}, endpoint_id: id }],
      ] as [string, string, unknown?][]) {
        expectApiError(await acme.call(method, path, body), 404, 'not_found', `${method} ${path}`);
      }
    }
    for (const id of [ids.globexDelivery, ids.globexRetrying, ids.operatorDelivery]) {
      for (const [method, path] of [
        ['GET', `/v1/deliveries/${id}`],
        ['GET', `/v1/deliveries/${id}/attempts`],
        ['POST', `/v1/deliveries/${id}/retry`],
        ['POST', `/v1/deliveries/${id}/cancel`],
        ['POST', `/v1/deliveries/${id}/replay`],
      ]) {
        expectApiError(await acme.call(method, path), 404, 'not_found', `${method} ${path}`);
      }
    }
    expectApiError(await acme.get(`/v1/messages/${ids.globexMessage}`), 404, 'not_found', "globex's message");
    expect((await acme.get(`/v1/messages/${ids.acmeMessage}`)).body).toMatchObject({ id: ids.acmeMessage, payload: { to: ids.acmeEndpoint } });

    const listed = (await acme.get('/v1/endpoints?limit=100')).body.data.map((e: any) => e.id);
    expect(new Set(listed)).toEqual(new Set([ids.acmeEndpoint, ids.acmePaused, ids.acmeFailing]));
    expect((await acme.get('/v1/endpoints?consumer_id=globex')).body).toEqual({ data: [], has_more: false, next_cursor: null });
    const deliveries = (await acme.get('/v1/deliveries?limit=100')).body.data;
    expect(deliveries.map((d: any) => d.id)).toContain(ids.acmeDelivery);
    expect(deliveries.every((d: any) => d.consumer_id === 'acme')).toBe(true);
    for (const q of ['consumer_id=globex', `endpoint_id=${ids.globexEndpoint}`, `endpoint_id=${ids.operatorEndpoint}`]) {
      expect((await acme.get(`/v1/deliveries?${q}`)).body.data, q).toEqual([]);
    }

    // Writing consumer_id to another consumer is refused, not silently changed.
    expectApiError(await acme.post('/v1/endpoints', { url: `${ok.url}/acme-new`, consumer_id: 'globex' }), 403, 'forbidden', 'create for globex');
    expectApiError(await acme.patch(`/v1/endpoints/${ids.acmeEndpoint}`, { consumer_id: 'globex' }), 403, 'forbidden', 'move to globex');
    // Sends only to one of its endpoints.
    for (const body of [{ consumer_id: 'acme' }, { broadcast: true }, {}]) {
      expectApiError(await acme.post('/v1/messages', { event_type: 'order.paid', payload: {}, ...body }), 403, 'forbidden', JSON.stringify(body));
    }
    // Bulk replay: another consumer's ids do nothing; a filter reaches only its own.
    expect((await acme.post('/v1/deliveries/replay', { ids: [ids.globexDelivery, ids.operatorDelivery] })).body).toEqual({ replayed: 0, skipped: 2, expired: 0 });
    const bulk = await acme.post('/v1/deliveries/replay', { status: 'succeeded' });
    expect(bulk.status).toBe(202);
    expect(bulk.body.replayed).toBe(1);
    await waitForDelivery(admin, ids.acmeDelivery, ['succeeded']);
    expect((await admin.get(`/v1/deliveries/${ids.acmeDelivery}`)).body.replay_count).toBe(1);

    expect(await othersSnapshot()).toEqual(before);
  });

  it("manages its own endpoints: create (for its consumer), pause, resume, rotate, send a test event, replay", async () => {
    const created = await ok2xx(acme.post('/v1/endpoints', { url: `${ok.url}/acme-new`, event_types: ['order.paid'] }));
    expect(created).toMatchObject({ consumer_id: 'acme', signing_secret: expect.stringMatching(/^whsec_/) });
    expect((await acme.post(`/v1/endpoints/${created.id}/pause`)).body.status).toBe('paused');
    expect((await acme.post(`/v1/endpoints/${created.id}/resume`)).body.status).toBe('active');
    const rotated = await ok2xx(acme.post(`/v1/endpoints/${created.id}/secret/rotate`), 200);
    expect(rotated.signing_secret).not.toBe(created.signing_secret);
    const sent = await ok2xx(acme.post('/v1/messages', { event_type: 'order.paid', payload: { test: true }, endpoint_id: created.id }), 202);
    const delivered = await waitForDelivery(acme, sent.deliveries[0].id, ['succeeded']);
    expect(delivered.consumer_id).toBe('acme');
    expect((await acme.get(`/v1/deliveries/${delivered.id}/attempts`)).body.data).toHaveLength(1);
    expect((await acme.post(`/v1/deliveries/${delivered.id}/replay`)).status).toBe(202);
    await waitForDelivery(acme, delivered.id, ['succeeded']);
    expect((await acme.patch(`/v1/endpoints/${created.id}`, { description: 'mine', consumer_id: 'acme' })).body.description).toBe('mine');
    expect((await acme.get('/v1/event-types')).status).toBe(200);
    expect((await acme.delete(`/v1/endpoints/${created.id}`)).status).toBe(204);
  });

  it('a read-only session reads but cannot change anything (403)', async () => {
    expect((await acmeRead.get('/v1/endpoints')).status).toBe(200);
    expect((await acmeRead.get(`/v1/deliveries/${ids.acmeDelivery}/attempts`)).status).toBe(200);
    expect((await acmeRead.get('/v1/portal-sessions/current')).body.read_only).toBe(true);
    for (const route of PORTAL_ROUTES.filter((r) => !r.startsWith('GET '))) {
      const [method, url] = route.split(' ');
      const path = url.replace(':id', url.includes('deliveries') ? ids.acmeDelivery : ids.acmeEndpoint);
      expectApiError(await acmeRead.call(method, path, method === 'DELETE' ? undefined : {}), 403, 'forbidden', route);
    }
    expect((await admin.get(`/v1/endpoints/${ids.acmeEndpoint}`)).body.status).toBe('active');
  });

  it('shows the project portal branding to the session', async () => {
    const projectId = (await admin.get('/v1/api-keys')).body.data[0].project_id;
    const settings = { portal_brand_name: 'Acme Webhooks', portal_brand_color: '#aa3300', portal_logo_url: 'https://cdn.example.com/logo.png', portal_frame_ancestors: ['https://app.example.com', 'http://127.0.0.1:8080'] };
    expect((await admin.patch(`/v1/projects/${projectId}`, settings)).body).toMatchObject(settings);
    await new Promise((r) => setTimeout(r, 1100)); // the project cache holds settings up to 1 s
    expect((await acme.get('/v1/portal-sessions/current')).body.brand).toEqual({ name: 'Acme Webhooks', color: '#aa3300', logo_url: 'https://cdn.example.com/logo.png' });
    // Values that would break out of their place (a CSP header, a style, an attribute) are refused.
    for (const bad of [{ portal_brand_color: 'red;x' }, { portal_logo_url: 'javascript:alert(1)' }, { portal_frame_ancestors: ["https://a.example.com; script-src 'unsafe-inline'"] }, { portal_frame_ancestors: ['*'] }]) {
      expectApiError(await admin.patch(`/v1/projects/${projectId}`, bad), 400, 'invalid_request', JSON.stringify(bad));
    }
    await admin.patch(`/v1/projects/${projectId}`, { portal_brand_name: null, portal_brand_color: null, portal_logo_url: null, portal_frame_ancestors: null });
  });

  it('stops working when the key that created it is revoked', async () => {
    const key = await ok2xx(admin.post('/v1/api-keys', { label: 'portal-maker' }));
    const { client } = await portalSession({ consumer_id: 'acme' }, admin.withKey(key.key));
    expect((await client.get('/v1/endpoints')).status).toBe(200);
    expect((await admin.delete(`/v1/api-keys/${key.id}`)).status).toBe(204);
    expectApiError(await client.get('/v1/endpoints'), 401, 'unauthorized', 'after revocation');
  });

  it('refuses forged tokens: changed claims, another signing key', async () => {
    const [body, sig] = acmeToken.slice(4).split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forged = `hbp_${Buffer.from(JSON.stringify({ ...claims, c: 'globex' })).toString('base64url')}.${sig}`;
    expectApiError(await admin.withKey(forged).get('/v1/endpoints'), 401, 'unauthorized', 'changed consumer');
    const other = signPortalToken(randomBytes(32), { sessionId: 'psess_x', projectId: claims.p, consumerId: 'globex', readOnly: false, expiresAt: Date.now() + 60_000, keyId: claims.k });
    expect(verifyPortalToken(randomBytes(32), other, Date.now())).toEqual({ error: 'bad_signature' });
    expectApiError(await admin.withKey(other).get('/v1/endpoints'), 401, 'unauthorized', 'signed by another key');
  });

  it('stops working at expires_at', async () => {
    const { client, body } = await portalSession({ consumer_id: 'acme', ttl_seconds: 60 });
    const expiresAt = Date.parse(body.expires_at);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(expiresAt - 1000);
      expect((await client.get('/v1/endpoints')).status).toBe(200);
      vi.setSystemTime(expiresAt);
      const res = await client.get('/v1/endpoints');
      expectApiError(res, 401, 'unauthorized', 'at expires_at');
      expect(res.body.error.message).toMatch(/expired/);
      expectApiError(await client.get('/v1/portal-sessions/current'), 401, 'unauthorized', 'current at expires_at');
    } finally {
      vi.useRealTimers();
    }
  });
});

/** Findings of a security review of the portal: each test failed while its hole was open. */
describe.sequential('consumer portal sessions: holes closed', () => {
  it('token edge cases: odd bearer forms answer 401, never 500 or another credential', async () => {
    const [body, sig] = acmeToken.slice(4).split('.');
    const bad = [
      `${acmeToken}.x`,
      `${acmeToken}x`,
      `HBP_${acmeToken.slice(4)}`,
      `hbp_${body}.${sig.slice(0, -1)}`,
      `hbp_${body}`,
      `hbp_.${sig}`,
      'hbp_',
      `hbp_${'A'.repeat(12_000)}.${sig}`,
      `hbp_${body}=.${sig}`,
    ];
    for (const t of bad) expect((await admin.withKey(t).get('/v1/endpoints')).status, t.slice(0, 40)).toBe(401);
    // Non-ASCII in the header: fetch refuses to send it, so go through the raw header bytes.
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${server.url}/v1/endpoints`);
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, headers: { authorization: Buffer.from(`Bearer ${acmeToken}\u00e9`, 'latin1').toString('latin1') } }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(401);
    // Whitespace and case of the scheme are tolerated, like API keys.
    expect((await admin.withKey(`${acmeToken}  `).call('GET', '/v1/endpoints')).status).toBe(200);
    // HEAD: a read-only session may HEAD its GET routes, and nothing else.
    expect((await acmeRead.call('HEAD', '/v1/endpoints')).status).toBe(200);
    expect((await acmeRead.call('HEAD', '/v1/metrics')).status).toBe(403);
    expect((await acme.call('HEAD', '/v1/api-keys')).status).toBe(403);
  });

  it("does not reveal or let a consumer claim the operator's idempotency keys", async () => {
    // Idempotency keys are unique per project: a portal test event takes none, so a key that
    // exists and one that does not get the same answer, and no key can be taken first.
    expect((await admin.post('/v1/messages', { event_type: 'order.paid', payload: { n: 42 }, consumer_id: 'globex', idempotency_key: 'invoice-42' })).status).toBe(202);
    for (const key of ['invoice-42', 'invoice-43']) {
      const send = { event_type: 'order.paid', payload: {}, endpoint_id: ids.acmeEndpoint };
      expectApiError(await acme.post('/v1/messages', { ...send, idempotency_key: key }), 403, 'forbidden', `body key ${key}`);
      expectApiError(await acme.post('/v1/messages', send, { 'idempotency-key': key }), 403, 'forbidden', `header key ${key}`);
    }
    const real = await admin.post('/v1/messages', { event_type: 'order.paid', payload: { n: 43 }, consumer_id: 'globex', idempotency_key: 'invoice-43' });
    expect(real.status, "the operator's message with a key a portal tried").toBe(202);
  });

  it("an endpoint the operator moves to another consumer takes its deliveries along: the old consumer can no longer read or replay them", async () => {
    const moved = await ok2xx(admin.post('/v1/endpoints', { url: `${ok.url}/acme-moved`, consumer_id: 'acme' }));
    const sent = await ok2xx(admin.post('/v1/messages', { event_type: 'order.paid', payload: { for: 'acme' }, endpoint_id: moved.id }), 202);
    const deliveryId = sent.deliveries[0].id;
    await waitForDelivery(admin, deliveryId, ['succeeded']);
    // The operator hands the endpoint (URL, secret, headers) to globex.
    expect((await admin.patch(`/v1/endpoints/${moved.id}`, { consumer_id: 'globex', url: `${ok.url}/globex-moved` })).status).toBe(200);
    expectApiError(await acme.get(`/v1/endpoints/${moved.id}`), 404, 'not_found', 'the endpoint itself');
    const before = ok.requests.filter((r) => r.url.includes('/globex-moved')).length;
    const replay = await acme.post(`/v1/deliveries/${deliveryId}/replay`);
    // Open: 202, and acme's replay goes to globex's server, whose answer acme reads in the attempts.
    if (replay.status === 202) {
      await waitForDelivery(admin, deliveryId, ['succeeded']);
      const attempts = (await acme.get(`/v1/deliveries/${deliveryId}/attempts`)).body.data;
      expect(ok.requests.filter((r) => r.url.includes('/globex-moved')).length).toBe(before + 1);
      expect(attempts.length).toBe(2);
    }
    expectApiError(replay, 404, 'not_found', "replay of a delivery to globex's endpoint");
    expectApiError(await acme.get(`/v1/deliveries/${deliveryId}`), 404, 'not_found', "a delivery of globex's endpoint");
    expectApiError(await acme.get(`/v1/deliveries/${deliveryId}/attempts`), 404, 'not_found', "attempts at globex's endpoint");
    expect((await acme.get(`/v1/deliveries?endpoint_id=${moved.id}`)).body.data).toEqual([]);
    expect((await acme.post('/v1/deliveries/replay', { ids: [deliveryId] })).body.replayed).toBe(0);
    // Nor does the new owner see what was sent to the old one.
    const globex = (await portalSession({ consumer_id: 'globex' })).client;
    expectApiError(await globex.get(`/v1/deliveries/${deliveryId}`), 404, 'not_found', "globex reading acme's old delivery");
    expect((await globex.get(`/v1/deliveries?endpoint_id=${moved.id}`)).body.data).toEqual([]);
    expectApiError(await globex.get(`/v1/messages/${sent.id}`), 404, 'not_found', "globex reading acme's old message");
  });

  it("a consumer's portal traffic does not spend the operator's API rate limit", async () => {
    const p = await createProject(admin, 'rate-limited-portal');
    expect((await admin.patch(`/v1/projects/${p.projectId}`, { api_rate_limit_per_minute: 5 })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100)); // the project cache
    const s = await ok2xx(p.api.post('/v1/portal-sessions', { consumer_id: 'acme' }));
    const portal = admin.withKey(s.token);
    for (let i = 0; i < 6; i++) await portal.get('/v1/endpoints');
    expect((await p.api.get('/v1/endpoints')).status, "the operator's key after a portal session spent the bucket").toBe(200);
  });

  it('a portal session cannot point an endpoint at the private networks the operator opened for its own endpoints', async () => {
    // HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS is 127.0.0.0/8 here (the operator's own endpoints), the
    // portal's list only 127.0.0.1/32. Refused when set, so nothing is ever connected to.
    const internal = 'http://127.0.0.2:9/admin';
    expectApiError(await acme.post('/v1/endpoints', { url: internal }), 422, 'url_not_allowed', 'portal create');
    expectApiError(await acme.patch(`/v1/endpoints/${ids.acmeEndpoint}`, { url: internal }), 422, 'url_not_allowed', 'portal patch');
    const operators = await ok2xx(admin.post('/v1/endpoints', { url: internal, consumer_id: 'acme' }));
    expect((await admin.delete(`/v1/endpoints/${operators.id}`)).status).toBe(204);
  });

  it('sends to a URL set in a portal under the portal network policy at every connection (DNS rebinding)', async () => {
    // rebind.test answers a public address when the URL is checked, then 127.0.0.2, which the
    // operator's list (127.0.0.0/8) allows and the portal's (127.0.0.1/32) does not. The public
    // address is only ever looked up, never connected to.
    let answer = '93.184.216.34';
    const t = await startTestServer({ HOOKBRIDGE_PORTAL_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32' }, { resolver: async () => [{ address: answer, family: 4 }] });
    let reached = 0;
    const internal = http.createServer((_req, res) => (reached++, res.end('internal')));
    await new Promise<void>((r) => internal.listen(0, '127.0.0.2', r));
    const port = (internal.address() as AddressInfo).port;
    try {
      const portal = t.api.withKey((await ok2xx(t.api.post('/v1/portal-sessions', { consumer_id: 'acme' }))).token);
      const ep = await ok2xx(portal.post('/v1/endpoints', { url: `http://rebind.test:${port}/hook` }));
      answer = '127.0.0.2';
      const sent = await ok2xx(portal.post('/v1/messages', { event_type: 'order.paid', payload: {}, endpoint_id: ep.id }), 202);
      await waitForDelivery(portal, sent.deliveries[0].id, ['pending_retry', 'failed']);
      const [attempt] = (await portal.get(`/v1/deliveries/${sent.deliveries[0].id}/attempts`)).body.data;
      expect(attempt).toMatchObject({ status_code: null, error_class: 'url_not_allowed' });
      expect(reached).toBe(0);
      // The operator sets the same URL: its own policy applies, and the request arrives.
      answer = '93.184.216.34';
      await ok2xx(t.api.patch(`/v1/endpoints/${ep.id}`, { url: `http://rebind.test:${port}/hook` }), 200);
      answer = '127.0.0.2';
      const again = await ok2xx(t.api.post('/v1/messages', { event_type: 'order.paid', payload: {}, endpoint_id: ep.id }), 202);
      await waitForDelivery(t.api, again.deliveries[0].id, ['succeeded']);
      expect(reached).toBe(1);
    } finally {
      await new Promise((r) => internal.close(r));
      await t.close();
    }
  });

  it("leaves the operator's knobs to the operator: retries, timeouts, auto-disable, metadata", async () => {
    for (const field of [{ retry_schedule: [0, 0, 0] }, { retry_client_errors: true }, { timeout_ms: 30_000 }, { disable_after_seconds: 0 }, { disable_min_failures: 1_000_000 }, { metadata: { plan: 'free' } }, { ordering: 'fifo' }]) {
      expectApiError(await acme.post('/v1/endpoints', { url: `${ok.url}/acme-knobs`, ...field }), 403, 'forbidden', `create with ${JSON.stringify(field)}`);
      expectApiError(await acme.patch(`/v1/endpoints/${ids.acmeEndpoint}`, field), 403, 'forbidden', `patch with ${JSON.stringify(field)}`);
    }
    expect((await acme.get(`/v1/messages/${ids.acmeMessage}`)).body).toMatchObject({ idempotency_key: null, request_id: null });
  });
});
