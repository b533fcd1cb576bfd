/**
 * Tenancy (DESIGN.md §7): a key of project B can neither read nor change anything of project A —
 * 404, not 403 — and its fan-out never reaches A's endpoints. Project and key management is for
 * the admin key only; revocation works on the very next request; the per-project API rate limit
 * throttles one project without touching another.
 *
 * One server for the whole file; the tests build on each other and run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, Client, startReceiver, startTestServer, waitForDelivery, waitUntil, type ApiResponse, type Receiver, type TestServer } from './helpers.js';

let server: TestServer;
let admin: Client;
let receiverA: Receiver;
let receiverB: Receiver;

/** Filled in as the file goes. */
const A = { projectId: '', endpointId: '', messageId: '', deliveryId: '', plainKeyId: '', plainKey: '' };
const B = { projectId: '', keyId: '', key: '', api: undefined as unknown as Client };

function expectError(res: ApiResponse, status: number, code: string) {
  expect(res.status, `${status} ${code} expected, got ${res.status} ${JSON.stringify(res.body)}`).toBe(status);
  expect(res.body).toMatchObject({ error: { code, message: expect.any(String) } });
}

beforeAll(async () => {
  [server, receiverA, receiverB] = await Promise.all([startTestServer(), startReceiver(), startReceiver()]);
  admin = server.api;
});

afterAll(async () => {
  await server?.close();
  await Promise.all([receiverA?.close(), receiverB?.close()]);
});

describe.sequential('tenancy', () => {
  it('the admin creates project B and a key for it, shown once', async () => {
    const own = await admin.get('/v1/api-keys');
    expect(own.status).toBe(200);
    A.projectId = own.body.data[0].project_id;
    expect(A.projectId).toMatch(/^proj_/);

    const p = await admin.post('/v1/projects', { name: 'project-b' });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({ id: expect.stringMatching(/^proj_/), name: 'project-b' });
    expect(p.body.id).not.toBe(A.projectId);
    B.projectId = p.body.id;

    const k = await admin.post(`/v1/projects/${B.projectId}/api-keys`, { label: 'b-main' });
    expect(k.status).toBe(201);
    expect(k.body).toMatchObject({ id: expect.stringMatching(/^key_/), project_id: B.projectId, label: 'b-main', admin: false });
    expect(k.body.key).toMatch(/^hb_(live|test)_/);
    B.keyId = k.body.id;
    B.key = k.body.key;
    B.api = admin.withKey(B.key);

    // The key is shown only at creation: listing never returns it.
    const listed = await admin.get(`/v1/projects/${B.projectId}/api-keys`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((x: any) => x.id)).toContain(B.keyId);
    for (const row of listed.body.data) expect(row).not.toHaveProperty('key');
    expect(JSON.stringify(listed.body)).not.toContain(B.key);

    // A second, non-admin key of project A (used below to prove B cannot revoke A's keys).
    const ak = await admin.post(`/v1/projects/${A.projectId}/api-keys`, { label: 'a-plain' });
    expect(ak.status).toBe(201);
    A.plainKeyId = ak.body.id;
    A.plainKey = ak.body.key;
  });

  it("A (admin key, default project) creates an endpoint and delivers a message to it", async () => {
    const ep = await admin.post('/v1/endpoints', { url: receiverA.url, retry_schedule: [0.1] });
    expect(ep.status).toBe(201);
    A.endpointId = ep.body.id;

    const msg = await admin.post('/v1/messages', { event_type: 'order.created', payload: { order: 1 }, endpoint_id: A.endpointId });
    expect(msg.status).toBe(202);
    A.messageId = msg.body.id;
    A.deliveryId = msg.body.deliveries[0].id;
    await receiverA.waitForRequests(1);
    await waitForDelivery(admin, A.deliveryId, ['succeeded']);
  });

  it("every single-object route answers B's key with 404 not_found for A's objects", async () => {
    const b = B.api;
    const ep = `/v1/endpoints/${A.endpointId}`;
    const dl = `/v1/deliveries/${A.deliveryId}`;
    const calls: Array<[string, () => Promise<ApiResponse>]> = [
      ['GET endpoint', () => b.get(ep)],
      ['PATCH endpoint', () => b.patch(ep, { description: 'taken over by B' })],
      ['PATCH endpoint url', () => b.patch(ep, { url: receiverB.url })],
      ['pause endpoint', () => b.post(`${ep}/pause`)],
      ['resume endpoint', () => b.post(`${ep}/resume`)],
      ['rotate secret', () => b.post(`${ep}/secret/rotate`, { grace_seconds: 0 })],
      ['GET message', () => b.get(`/v1/messages/${A.messageId}`)],
      ['GET delivery', () => b.get(dl)],
      ['GET attempts', () => b.get(`${dl}/attempts`)],
      ['retry delivery', () => b.post(`${dl}/retry`)],
      ['cancel delivery', () => b.post(`${dl}/cancel`)],
      ['replay delivery', () => b.post(`${dl}/replay`)],
      ['DELETE endpoint', () => b.delete(ep)],
    ];
    for (const [what, call] of calls) {
      const res = await call();
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(404);
      expect(res.body, what).toMatchObject({ error: { code: 'not_found', message: expect.any(String) } });
    }

    // Bulk replay by ids skips what is not B's.
    const bulk = await b.post('/v1/deliveries/replay', { ids: [A.deliveryId] });
    expect(bulk.status).toBe(202);
    expect(bulk.body).toEqual({ replayed: 0, skipped: 1, expired: 0 });

    // And nothing of A changed.
    const after = await admin.get(ep);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ id: A.endpointId, url: receiverA.url, status: 'active', description: null });
    const d = await admin.get(dl);
    expect(d.body).toMatchObject({ status: 'succeeded', replay_count: 0, attempt_count: 1 });
    expect(receiverA.requests).toHaveLength(1);
  });

  it("B's lists do not contain A's objects", async () => {
    for (const path of ['/v1/endpoints', '/v1/messages', '/v1/deliveries', `/v1/deliveries?endpoint_id=${A.endpointId}`, `/v1/deliveries?message_id=${A.messageId}`]) {
      const res = await B.api.get(path);
      expect(res.status, path).toBe(200);
      expect(res.body, path).toEqual({ data: [], has_more: false, next_cursor: null });
    }
    // Sanity: the same lists do show them to A.
    expect((await admin.get('/v1/endpoints')).body.data.map((e: any) => e.id)).toContain(A.endpointId);
    expect((await admin.get('/v1/messages')).body.data.map((m: any) => m.id)).toContain(A.messageId);
    expect((await admin.get('/v1/deliveries')).body.data.map((d: any) => d.id)).toContain(A.deliveryId);
  });

  it("B's metrics and event types see nothing of A", async () => {
    expect((await admin.post('/v1/event-types', { name: 'order.created', description: 'A only' })).status).toBe(201);
    const types = await B.api.get('/v1/event-types');
    expect(types.status).toBe(200);
    expect(types.body.data).toEqual([]);
    expectError(await B.api.get('/v1/event-types/order.created'), 404, 'not_found');
    // B may register the same name in its own project.
    expect((await B.api.post('/v1/event-types', { name: 'order.created' })).status).toBe(201);

    expectError(await B.api.get(`/v1/metrics?endpoint_id=${A.endpointId}`), 404, 'not_found');
    expectError(await B.api.get(`/v1/metrics/timeseries?endpoint_id=${A.endpointId}`), 404, 'not_found');
    const m = await B.api.get('/v1/metrics?window=1h');
    expect(m.status).toBe(200);
    expect(m.body).toMatchObject({ total_messages: 0, deliveries: 0, succeeded: 0, attempts: 0 });
    // Sanity: A's own metrics count them.
    expect((await admin.get('/v1/metrics?window=1h')).body).toMatchObject({ total_messages: 1, deliveries: 1, succeeded: 1 });
  });

  it("B cannot publish to A's endpoint by id", async () => {
    const res = await B.api.post('/v1/messages', { event_type: 'order.created', payload: { sneaky: true }, endpoint_id: A.endpointId });
    expectError(res, 404, 'not_found');
    expect((await B.api.get('/v1/messages')).body.data).toEqual([]);
  });

  it("B's fan-out (plain and broadcast) reaches B's endpoints only", async () => {
    const own = await B.api.post('/v1/endpoints', { url: receiverB.url, retry_schedule: [0.1] });
    expect(own.status).toBe(201);
    const aBefore = receiverA.requests.length;

    for (const extra of [{}, { broadcast: true }]) {
      const res = await B.api.post('/v1/messages', { event_type: 'order.created', payload: { from: 'B', ...extra }, ...extra });
      expect(res.status).toBe(202);
      expect(res.body.deliveries).toHaveLength(1);
      expect(res.body.deliveries[0].endpoint_id).toBe(own.body.id);
      await waitForDelivery(B.api, res.body.deliveries[0].id, ['succeeded']);
    }
    await receiverB.waitForRequests(2);
    expect(receiverB.requests).toHaveLength(2);
    expect(receiverA.requests.length).toBe(aBefore);
    // A's endpoint got no new delivery.
    const aDeliveries = await admin.get(`/v1/deliveries?endpoint_id=${A.endpointId}`);
    expect(aDeliveries.body.data.map((d: any) => d.id)).toEqual([A.deliveryId]);
  });

  it('a non-admin key gets 403 forbidden on /v1/projects*', async () => {
    const b = B.api;
    const calls: Array<[string, () => Promise<ApiResponse>]> = [
      ['GET projects', () => b.get('/v1/projects')],
      ['POST projects', () => b.post('/v1/projects', { name: 'evil' })],
      ['PATCH own project', () => b.patch(`/v1/projects/${B.projectId}`, { api_rate_limit_per_minute: 0 })],
      ['PATCH other project', () => b.patch(`/v1/projects/${A.projectId}`, { name: 'pwned' })],
      ['POST own api-keys', () => b.post(`/v1/projects/${B.projectId}/api-keys`, { label: 'x' })],
      ['POST other api-keys', () => b.post(`/v1/projects/${A.projectId}/api-keys`, { label: 'x' })],
      ['GET own api-keys', () => b.get(`/v1/projects/${B.projectId}/api-keys`)],
      ['GET other api-keys', () => b.get(`/v1/projects/${A.projectId}/api-keys`)],
    ];
    for (const [what, call] of calls) {
      const res = await call();
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body, what).toMatchObject({ error: { code: 'forbidden', message: expect.any(String) } });
    }
    // Nothing was created or renamed.
    const projects = await admin.get('/v1/projects');
    expect(projects.body.data.map((p: any) => p.name).sort()).toEqual(['default', 'project-b'].sort());
  });

  it("GET /v1/api-keys lists the caller's own project's keys, never the key itself", async () => {
    // last_used_at is written in the background after a key is used.
    let res!: ApiResponse;
    await waitUntil(async () => {
      res = await B.api.get('/v1/api-keys');
      return res.status === 200 && res.body.data.find((k: any) => k.id === B.keyId)?.last_used_at != null;
    }, 5_000, "B's key to show last_used_at");
    expect(res.body.data.map((k: any) => k.id)).toEqual([B.keyId]);
    const [row] = res.body.data;
    expect(row).toMatchObject({
      id: B.keyId,
      project_id: B.projectId,
      prefix: expect.any(String),
      label: 'b-main',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      last_used_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    });
    expect(B.key.startsWith(row.prefix)).toBe(true);
    expect(row.prefix.length).toBeLessThan(B.key.length);
    expect(row).not.toHaveProperty('key');
    expect(JSON.stringify(res.body)).not.toContain(B.key);

    const mine = await admin.get('/v1/api-keys');
    const ids = mine.body.data.map((k: any) => k.id);
    expect(ids).toContain(A.plainKeyId);
    expect(ids).not.toContain(B.keyId);
    expect(JSON.stringify(mine.body)).not.toContain(ADMIN_KEY);
    expect(JSON.stringify(mine.body)).not.toContain(A.plainKey);
  });

  it('a revoked key is refused on its very next request; B cannot revoke A keys', async () => {
    const extra = await admin.post(`/v1/projects/${B.projectId}/api-keys`, { label: 'b-temp' });
    expect(extra.status).toBe(201);
    const temp = admin.withKey(extra.body.key);
    expect((await temp.get('/v1/endpoints')).status).toBe(200);

    const del = await B.api.delete(`/v1/api-keys/${extra.body.id}`);
    expect(del.status).toBe(204);
    expectError(await temp.get('/v1/endpoints'), 401, 'unauthorized');
    expectError(await temp.get('/v1/api-keys'), 401, 'unauthorized');
    // The revoking key itself still works.
    expect((await B.api.get('/v1/endpoints')).status).toBe(200);

    // A's keys are not B's to revoke (404 as for any foreign id), and they keep working.
    expectError(await B.api.delete(`/v1/api-keys/${A.plainKeyId}`), 404, 'not_found');
    const adminKeyId = (await admin.get('/v1/api-keys')).body.data.find((k: any) => k.admin).id;
    expectError(await B.api.delete(`/v1/api-keys/${adminKeyId}`), 404, 'not_found');
    expectError(await B.api.delete('/v1/api-keys/key_doesnotexist'), 404, 'not_found');
    expect((await admin.withKey(A.plainKey).get('/v1/endpoints')).status).toBe(200);
    expect((await admin.get('/v1/endpoints')).status).toBe(200);
  });

  it('missing or garbage Authorization gets 401 unauthorized', async () => {
    const url = server.url;
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: 'Bearer hb_live_not_a_real_key_000000000000' },
      { authorization: `Basic ${Buffer.from(`x:${ADMIN_KEY}`).toString('base64')}` },
      { authorization: ADMIN_KEY },
      { authorization: `Bearer ${ADMIN_KEY} extra` },
      { authorization: '\u00ff\u00fe garbage' },
    ];
    for (const headers of cases) {
      const res = await fetch(`${url}/v1/endpoints`, { headers });
      const body = await res.json();
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(body, JSON.stringify(headers)).toMatchObject({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    // A write without a key is refused before anything is stored.
    const res = await new Client(url, undefined).post('/v1/endpoints', { url: receiverA.url });
    expectError(res, 401, 'unauthorized');
    expect((await admin.get('/v1/endpoints')).body.data).toHaveLength(1);
  });

  it("a project's API rate limit throttles that project only", async () => {
    const patched = await admin.patch(`/v1/projects/${B.projectId}`, { api_rate_limit_per_minute: 3 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: B.projectId, api_rate_limit_per_minute: 3 });

    for (let i = 0; i < 3; i++) expect((await B.api.get('/v1/endpoints')).status, `request ${i + 1}`).toBe(200);
    const fourth = await B.api.get('/v1/endpoints');
    expectError(fourth, 429, 'rate_limited');
    const retryAfter = fourth.headers.get('retry-after');
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    // Still limited: a write is refused too, and nothing is stored.
    expectError(await B.api.post('/v1/messages', { event_type: 'x', payload: {} }), 429, 'rate_limited');

    // A is unaffected.
    for (let i = 0; i < 10; i++) expect((await admin.get('/v1/endpoints')).status).toBe(200);

    // Lifting the limit (null = server default, unlimited here) lets B through again at once.
    expect((await admin.patch(`/v1/projects/${B.projectId}`, { api_rate_limit_per_minute: null })).status).toBe(200);
    expect((await B.api.get('/v1/endpoints')).status).toBe(200);
  });
});
