/**
 * The tenancy matrix (DESIGN.md §7), complete by construction: every route the app registers
 * (read from the app itself through routesOf(), not from a list kept by hand) must have an entry
 * in MATRIX below, or the first test fails — so a new route cannot skip tenancy unnoticed.
 *
 * Project A (the admin key's `default` project) owns real objects of every kind, in states where
 * a wrongly allowed action would show (an active endpoint to pause, a paused one to resume, a
 * pending_retry delivery to retry, a paused one to cancel, a succeeded one to replay, held events
 * to acknowledge…). A key of project B then calls every route:
 * - a route that takes an object id (in the path, or in the query/body where it names one) with
 *   A's ids → 404 not_found, and for the WebSocket stream the upgrade itself is refused with 404;
 * - list and create routes → B's answer mentions none of A's ids;
 * - /v1/projects* → 403 forbidden (non-admin key);
 * and afterwards everything of A reads back exactly as before (a snapshot of every A object and
 * list), and A's signing secrets still sign alone (B's rotations did nothing).
 * Then B's key is revoked, and every non-public route answers it 401 unauthorized at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { routesOf } from '../src/api/app.js';
import {
  createProject,
  expectApiError,
  resignedBy,
  startReceiver,
  startTestServer,
  waitForDelivery,
  waitUntil,
  type ApiResponse,
  type Client,
  type Receiver,
  type TestProject,
  type TestServer,
} from './helpers.js';

let server: TestServer;
let admin: Client;
let ok: Receiver;
let failing: Receiver;
let B: TestProject;

/** Project A's objects, created in beforeAll. */
const A = {
  projectId: '',
  plainKeyId: '',
  plainKey: '',
  adminKeyId: '',
  endpoint: { id: '', secret: '' },
  pausedEndpointId: '',
  failingEndpointId: '',
  messageId: '',
  pausedMessageId: '',
  deliveryId: '',
  pausedDeliveryId: '',
  retryingDeliveryId: '',
  forward: { id: '', secret: '', ingestUrl: '' },
  pullId: '',
  cliId: '',
  pausedInboundId: '',
  forwardedEventId: '',
  heldEventId: '',
  exportId: '',
};

const TOKEN = 'tok-tenancy-123456';
/** Names of A's objects (not ids) that no answer to B may contain. */
const NAMES_OF_A = ['a.type', 'A only', 'a-forward', 'a-pull', 'a-cli', 'a-paused', 'a-plain'];
const ingest = (url: string, body: string, token = TOKEN) => fetch(`${url}?key=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

async function created(res: Promise<ApiResponse>, status = 201): Promise<any> {
  const r = await res;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A WebSocket upgrade with this key: 101 if the server switched protocols, else its HTTP answer. */
function upgrade(key: string, path: string): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}${path}`, { headers: { authorization: `Bearer ${key}` } });
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: undefined, headers: new Headers() });
    });
    ws.once('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, headers: new Headers() });
      });
    });
    ws.once('error', reject);
  });
}

beforeAll(async () => {
  [server, ok, failing] = await Promise.all([startTestServer(), startReceiver(), startReceiver()]);
  failing.respondWith(500);
  admin = server.api;

  const keys = (await admin.get('/v1/api-keys')).body.data;
  A.projectId = keys[0].project_id;
  A.adminKeyId = keys.find((k: any) => k.admin).id;
  const plain = await created(admin.post('/v1/api-keys', { label: 'a-plain' }));
  A.plainKeyId = plain.id;
  A.plainKey = plain.key;
  B = await createProject(admin, 'project-b');

  // Outbound: an active endpoint with a succeeded delivery, a paused endpoint with a paused
  // delivery, and an endpoint whose receiver fails, so its delivery waits in pending_retry.
  const ep = await created(admin.post('/v1/endpoints', { url: ok.url, consumer_id: 'a-customer' }));
  A.endpoint = { id: ep.id, secret: ep.signing_secret };
  A.pausedEndpointId = (await created(admin.post('/v1/endpoints', { url: ok.url }))).id;
  await created(admin.post(`/v1/endpoints/${A.pausedEndpointId}/pause`), 200);
  A.failingEndpointId = (await created(admin.post('/v1/endpoints', { url: failing.url, retry_schedule: [3600] }))).id;
  const send = (endpointId: string) => created(admin.post('/v1/messages', { event_type: 'a.type', payload: { for: endpointId }, endpoint_id: endpointId }), 202);
  const m = await send(A.endpoint.id);
  A.messageId = m.id;
  A.deliveryId = m.deliveries[0].id;
  const pausedMessage = await send(A.pausedEndpointId);
  A.pausedMessageId = pausedMessage.id;
  A.pausedDeliveryId = pausedMessage.deliveries[0].id;
  A.retryingDeliveryId = (await send(A.failingEndpointId)).deliveries[0].id;
  await created(admin.post('/v1/event-types', { name: 'a.type', description: 'A only' }));

  // Inbound: a forwarding endpoint with a forwarded event, a pull endpoint holding an event (and a
  // refused request), a cli endpoint holding one, and a paused pull endpoint.
  const verification = { type: 'token', secret: TOKEN, query: 'key' };
  const fwd = await created(admin.post('/v1/inbound-endpoints', { name: 'a-forward', mode: 'forward', destination_url: `${ok.url}?forward`, verification }));
  A.forward = { id: fwd.id, secret: fwd.signing_secret, ingestUrl: fwd.ingest_url };
  const pull = await created(admin.post('/v1/inbound-endpoints', { name: 'a-pull', mode: 'pull', verification }));
  A.pullId = pull.id;
  const cli = await created(admin.post('/v1/inbound-endpoints', { name: 'a-cli', mode: 'cli', verification }));
  A.cliId = cli.id;
  A.pausedInboundId = (await created(admin.post('/v1/inbound-endpoints', { name: 'a-paused', mode: 'pull', verification }))).id;
  await created(admin.post(`/v1/inbound-endpoints/${A.pausedInboundId}/pause`), 200);
  A.forwardedEventId = ((await (await ingest(fwd.ingest_url, '{"a":"forward"}')).json()) as any).id;
  A.heldEventId = ((await (await ingest(pull.ingest_url, '{"a":"pull"}')).json()) as any).id;
  await ingest(cli.ingest_url, '{"a":"cli"}');
  expect((await ingest(pull.ingest_url, '{}', 'wrong-token')).status).toBe(401);

  await waitForDelivery(admin, A.deliveryId, ['succeeded']);
  await waitForDelivery(admin, A.retryingDeliveryId, ['pending_retry']);
  const forwarded = (await admin.get(`/v1/inbound-events/${A.forwardedEventId}`)).body.delivery.id;
  await waitForDelivery(admin, forwarded, ['succeeded']);
  A.exportId = (await created(admin.post('/v1/exports', { kind: 'deliveries', format: 'ndjson' }))).id;
});

afterAll(async () => {
  await server?.close();
  await Promise.all([ok?.close(), failing?.close()]);
});

/** Everything of A, read with A's key: its objects one by one and every list. */
async function snapshotOfA(): Promise<Record<string, unknown>> {
  const paths = [
    `/v1/api-keys`,
    `/v1/projects`,
    `/v1/projects/${A.projectId}`,
    `/v1/projects/${A.projectId}/api-keys`,
    `/v1/endpoints`,
    ...[A.endpoint.id, A.pausedEndpointId, A.failingEndpointId].map((id) => `/v1/endpoints/${id}`),
    `/v1/messages`,
    `/v1/messages/${A.messageId}`,
    `/v1/deliveries`,
    ...[A.deliveryId, A.pausedDeliveryId, A.retryingDeliveryId].flatMap((id) => [`/v1/deliveries/${id}`, `/v1/deliveries/${id}/attempts`]),
    `/v1/event-types`,
    `/v1/event-types/a.type`,
    `/v1/inbound-endpoints`,
    ...[A.forward.id, A.pullId, A.cliId, A.pausedInboundId].map((id) => `/v1/inbound-endpoints/${id}`),
    `/v1/inbound-events`,
    `/v1/inbound-events/${A.forwardedEventId}`,
    `/v1/inbound-events/${A.forwardedEventId}/attempts`,
    `/v1/inbound-events/${A.heldEventId}`,
    `/v1/inbound-rejections`,
    `/v1/inbound-endpoints/${A.pullId}/events`,
    `/v1/inbound-endpoints/${A.cliId}/events`,
    `/v1/exports`,
    `/v1/exports/${A.exportId}`,
    `/v1/exports/${A.exportId}/download`,
  ];
  const out: Record<string, unknown> = {};
  for (const p of paths) {
    const res = await admin.get(p);
    expect(res.status, p).toBe(200);
    // last_used_at moves whenever a key is used (at most once a minute); nothing else may move.
    out[p] = JSON.parse(JSON.stringify(res.body), (k, v) => (k === 'last_used_at' ? undefined : v));
  }
  out.received = [ok.requests.filter((r) => !r.url.endsWith('?b')).length, failing.requests.length];
  return out;
}

// --- the matrix ------------------------------------------------------------------------------

interface Probe {
  what: string;
  /** The call, made with the key given (B's; after revocation, B's revoked key). */
  call: (key: Client) => Promise<ApiResponse>;
  /** An error the answer must be; without one, the answer has this status and names nothing of A. */
  error?: [number, string];
  status?: number;
}

const notFound = (what: string, call: Probe['call']): Probe => ({ what, call, error: [404, 'not_found'] });
const forbidden = (what: string, call: Probe['call']): Probe => ({ what, call, error: [403, 'forbidden'] });
const clean = (what: string, call: Probe['call'], status = 200): Probe => ({ what, call, status });
const ws = (what: string, path: () => string): Probe => ({ what, call: (c) => upgrade(c.key!, path()), error: [404, 'not_found'] });

/** Routes that need no API key: health checks, the OpenAPI document, and ingest URLs (verified by their own rules). */
// The console's pages (api/console.ts) carry no data: the page calls the API with its own credential.
const PUBLIC = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json', 'POST /in/:id', 'GET /', 'GET /portal/:projectId', 'GET /assets/*'];

/** Every non-public route → what B's key tries on it. Ids are read when the probe runs. */
const MATRIX: Record<string, Probe[]> = {
  // projects and keys
  'GET /v1/projects': [forbidden('list projects', (c) => c.get('/v1/projects'))],
  'POST /v1/projects': [forbidden('create a project', (c) => c.post('/v1/projects', { name: 'b-made' }))],
  'GET /v1/projects/:id': [forbidden("read A's project", (c) => c.get(`/v1/projects/${A.projectId}`)), forbidden('read own project', (c) => c.get(`/v1/projects/${B.projectId}`))],
  'PATCH /v1/projects/:id': [forbidden("rename A's project", (c) => c.patch(`/v1/projects/${A.projectId}`, { name: 'pwned', api_rate_limit_per_minute: 1 }))],
  'POST /v1/projects/:id/api-keys': [forbidden('mint a key for A', (c) => c.post(`/v1/projects/${A.projectId}/api-keys`, { label: 'b-made' }))],
  'GET /v1/projects/:id/api-keys': [forbidden("list A's keys", (c) => c.get(`/v1/projects/${A.projectId}/api-keys`))],
  'GET /v1/api-keys': [clean('list keys', (c) => c.get('/v1/api-keys'))],
  'POST /v1/api-keys': [clean('create an own key', (c) => c.post('/v1/api-keys', { label: 'b-second' }), 201)],
  'DELETE /v1/api-keys/:id': [notFound("revoke A's key", (c) => c.delete(`/v1/api-keys/${A.plainKeyId}`)), notFound("revoke A's admin key", (c) => c.delete(`/v1/api-keys/${A.adminKeyId}`))],
  // outbound endpoints
  'POST /v1/endpoints': [clean('create an own endpoint', (c) => c.post('/v1/endpoints', { url: `${ok.url}?b`, consumer_id: 'a-customer' }), 201)],
  'GET /v1/endpoints': [
    clean('list endpoints', (c) => c.get('/v1/endpoints')),
    clean("list endpoints of A's consumer id", (c) => c.get('/v1/endpoints?consumer_id=a-customer')),
  ],
  'GET /v1/endpoints/:id': [notFound("read A's endpoint", (c) => c.get(`/v1/endpoints/${A.endpoint.id}`))],
  'PATCH /v1/endpoints/:id': [notFound("change A's endpoint", (c) => c.patch(`/v1/endpoints/${A.endpoint.id}`, { description: 'B was here', url: `${ok.url}?b` }))],
  'DELETE /v1/endpoints/:id': [notFound("delete A's endpoint", (c) => c.delete(`/v1/endpoints/${A.endpoint.id}`))],
  'POST /v1/endpoints/:id/pause': [notFound("pause A's active endpoint", (c) => c.post(`/v1/endpoints/${A.endpoint.id}/pause`))],
  'POST /v1/endpoints/:id/resume': [notFound("resume A's paused endpoint", (c) => c.post(`/v1/endpoints/${A.pausedEndpointId}/resume`))],
  'POST /v1/endpoints/:id/secret/rotate': [notFound("rotate A's signing secret", (c) => c.post(`/v1/endpoints/${A.endpoint.id}/secret/rotate`, { grace_seconds: 0 }))],
  // messages and deliveries
  'POST /v1/messages': [
    notFound("send to A's endpoint by id", (c) => c.post('/v1/messages', { event_type: 'b.type', payload: {}, endpoint_id: A.endpoint.id })),
    clean("fan out to A's consumer id", (c) => c.post('/v1/messages', { event_type: 'b.type', payload: { from: 'B' }, consumer_id: 'a-customer' }), 202),
    clean('broadcast', (c) => c.post('/v1/messages', { event_type: 'b.type', payload: { from: 'B' }, broadcast: true }), 202),
  ],
  'GET /v1/messages': [clean('list messages', (c) => c.get('/v1/messages')), clean("list messages of A's consumer id", (c) => c.get('/v1/messages?consumer_id=a-customer'))],
  'GET /v1/messages/:id': [notFound("read A's message", (c) => c.get(`/v1/messages/${A.messageId}`))],
  'DELETE /v1/messages/:id': [
    notFound("delete A's message (its payload)", (c) => c.delete(`/v1/messages/${A.messageId}`)),
    notFound("delete A's message with a paused delivery", (c) => c.delete(`/v1/messages/${A.pausedMessageId}`)),
  ],
  'GET /v1/deliveries': [
    clean('list deliveries', (c) => c.get('/v1/deliveries')),
    clean("list deliveries of A's endpoint", (c) => c.get(`/v1/deliveries?endpoint_id=${A.endpoint.id}`)),
    clean("list deliveries of A's message", (c) => c.get(`/v1/deliveries?message_id=${A.messageId}`)),
    clean("list deliveries of A's consumer id", (c) => c.get('/v1/deliveries?consumer_id=a-customer')),
  ],
  'GET /v1/deliveries/:id': [notFound("read A's delivery", (c) => c.get(`/v1/deliveries/${A.deliveryId}`))],
  'GET /v1/deliveries/:id/attempts': [notFound("read A's attempts", (c) => c.get(`/v1/deliveries/${A.deliveryId}/attempts`))],
  'POST /v1/deliveries/:id/retry': [notFound("retry A's pending_retry delivery", (c) => c.post(`/v1/deliveries/${A.retryingDeliveryId}/retry`))],
  'POST /v1/deliveries/:id/cancel': [notFound("cancel A's paused delivery", (c) => c.post(`/v1/deliveries/${A.pausedDeliveryId}/cancel`))],
  'POST /v1/deliveries/:id/replay': [notFound("replay A's succeeded delivery", (c) => c.post(`/v1/deliveries/${A.deliveryId}/replay`))],
  'POST /v1/deliveries/replay': [
    clean("bulk replay of A's ids", (c) => c.post('/v1/deliveries/replay', { ids: [A.deliveryId, A.pausedDeliveryId, A.retryingDeliveryId] }), 202),
    clean("bulk replay by A's endpoint", (c) => c.post('/v1/deliveries/replay', { status: 'succeeded', endpoint_id: A.endpoint.id }), 202),
  ],
  // event types and metrics
  'POST /v1/event-types': [clean('register an own event type', (c) => c.post('/v1/event-types', { name: 'b.type' }), 201)],
  'GET /v1/event-types': [clean('list event types', (c) => c.get('/v1/event-types'))],
  'GET /v1/event-types/:name': [notFound("read A's event type", (c) => c.get('/v1/event-types/a.type'))],
  'GET /v1/metrics': [
    notFound("metrics of A's endpoint", (c) => c.get(`/v1/metrics?endpoint_id=${A.endpoint.id}`)),
    notFound("inbound metrics of A's endpoint", (c) => c.get(`/v1/metrics?direction=inbound&endpoint_id=${A.forward.id}`)),
  ],
  // The backlog names no ids: A's paused and retrying deliveries must simply not be counted for B.
  'GET /v1/metrics/backlog': [
    clean("backlog without A's paused and scheduled deliveries", async (c) => {
      const r = await c.get('/v1/metrics/backlog');
      return r.status === 200 && (r.body.paused !== 0 || r.body.scheduled !== 0) ? { ...r, status: 599 } : r;
    }),
  ],
  'GET /v1/metrics/endpoints': [clean('endpoint metrics', (c) => c.get('/v1/metrics/endpoints?window=7d'))],
  'GET /v1/metrics/timeseries': [
    notFound("timeseries of A's endpoint", (c) => c.get(`/v1/metrics/timeseries?endpoint_id=${A.endpoint.id}`)),
    notFound("inbound timeseries of A's endpoint", (c) => c.get(`/v1/metrics/timeseries?direction=inbound&endpoint_id=${A.forward.id}`)),
  ],
  // inbound endpoints
  'POST /v1/inbound-endpoints': [clean('create an own inbound endpoint', (c) => c.post('/v1/inbound-endpoints', { name: 'b-pull', mode: 'pull', verification: { type: 'none' } }), 201)],
  'GET /v1/inbound-endpoints': [clean('list inbound endpoints', (c) => c.get('/v1/inbound-endpoints'))],
  'GET /v1/inbound-endpoints/:id': [notFound("read A's inbound endpoint", (c) => c.get(`/v1/inbound-endpoints/${A.forward.id}`))],
  'PATCH /v1/inbound-endpoints/:id': [notFound("change A's inbound endpoint", (c) => c.patch(`/v1/inbound-endpoints/${A.pullId}`, { name: 'B was here', verification: { type: 'none' } }))],
  'DELETE /v1/inbound-endpoints/:id': [notFound("delete A's inbound endpoint", (c) => c.delete(`/v1/inbound-endpoints/${A.pullId}`))],
  'POST /v1/inbound-endpoints/:id/pause': [notFound("pause A's active inbound endpoint", (c) => c.post(`/v1/inbound-endpoints/${A.pullId}/pause`))],
  'POST /v1/inbound-endpoints/:id/resume': [notFound("resume A's paused inbound endpoint", (c) => c.post(`/v1/inbound-endpoints/${A.pausedInboundId}/resume`))],
  'POST /v1/inbound-endpoints/:id/secret/rotate': [notFound("rotate A's forwarding secret", (c) => c.post(`/v1/inbound-endpoints/${A.forward.id}/secret/rotate`, { grace_seconds: 0 }))],
  'GET /v1/inbound-endpoints/:id/events': [
    notFound("pull A's held events", (c) => c.get(`/v1/inbound-endpoints/${A.pullId}/events`)),
    notFound("long-poll A's cli endpoint", (c) => c.get(`/v1/inbound-endpoints/${A.cliId}/events?wait=1`)),
  ],
  'POST /v1/inbound-endpoints/:id/events/ack': [notFound("acknowledge A's held event", (c) => c.post(`/v1/inbound-endpoints/${A.pullId}/events/ack`, { ids: [A.heldEventId] }))],
  'GET /v1/inbound-endpoints/:id/stream': [
    ws("stream A's cli endpoint (WebSocket upgrade)", () => `/v1/inbound-endpoints/${A.cliId}/stream`),
    notFound("the stream route without an upgrade", (c) => c.get(`/v1/inbound-endpoints/${A.cliId}/stream`)),
  ],
  // inbound events and rejections
  'GET /v1/inbound-events': [
    clean('list inbound events', (c) => c.get('/v1/inbound-events')),
    clean("list inbound events of A's endpoint", (c) => c.get(`/v1/inbound-events?inbound_endpoint_id=${A.forward.id}`)),
  ],
  'GET /v1/inbound-events/:id': [notFound("read A's inbound event", (c) => c.get(`/v1/inbound-events/${A.forwardedEventId}`)), notFound("read A's held event", (c) => c.get(`/v1/inbound-events/${A.heldEventId}`))],
  'GET /v1/inbound-events/:id/attempts': [notFound("read A's forwarding attempts", (c) => c.get(`/v1/inbound-events/${A.forwardedEventId}/attempts`))],
  'POST /v1/inbound-events/:id/replay': [notFound("replay A's forwarded event", (c) => c.post(`/v1/inbound-events/${A.forwardedEventId}/replay`))],
  // exports: B's own export of everything, downloaded, must hold nothing of A
  'POST /v1/exports': [
    clean('export all deliveries', (c) => c.post('/v1/exports', { kind: 'deliveries', format: 'csv' }), 201),
    clean('export all inbound events', (c) => c.post('/v1/exports', { kind: 'inbound-events', format: 'ndjson' }), 201),
  ],
  'GET /v1/exports': [clean('list exports', (c) => c.get('/v1/exports'))],
  'GET /v1/exports/:id': [notFound("read A's export", (c) => c.get(`/v1/exports/${A.exportId}`))],
  'GET /v1/exports/:id/download': [
    notFound("download A's export", (c) => c.get(`/v1/exports/${A.exportId}/download`)),
    clean("download B's export of all deliveries", async (c) => c.get(`/v1/exports/${(await c.post('/v1/exports', { kind: 'deliveries', format: 'ndjson' })).body.id}/download`)),
    clean("download B's export of all inbound events", async (c) => c.get(`/v1/exports/${(await c.post('/v1/exports', { kind: 'inbound-events', format: 'csv' })).body.id}/download`)),
  ],
  // portal sessions: B's session for A's consumer id sees nothing of A (a consumer id is per project)
  'POST /v1/portal-sessions': [
    clean('create a portal session', (c) => c.post('/v1/portal-sessions', { consumer_id: 'a-customer' }), 201),
    clean("a portal session of B for A's consumer id lists none of A's endpoints", async (c) => c.withKey((await c.post('/v1/portal-sessions', { consumer_id: 'a-customer' })).body.token).get('/v1/endpoints')),
    clean("a portal session of B for A's consumer id lists none of A's deliveries", async (c) => c.withKey((await c.post('/v1/portal-sessions', { consumer_id: 'a-customer' })).body.token).get('/v1/deliveries')),
    notFound("a portal session of B for A's consumer id reads A's endpoint", async (c) => c.withKey((await c.post('/v1/portal-sessions', { consumer_id: 'a-customer' })).body.token).get(`/v1/endpoints/${A.endpoint.id}`)),
  ],
  'GET /v1/portal-sessions/current': [forbidden('read the portal session of an API key', (c) => c.get('/v1/portal-sessions/current'))],
  'GET /v1/inbound-rejections': [
    clean('list rejections', (c) => c.get('/v1/inbound-rejections')),
    clean("list rejections of A's endpoint", (c) => c.get(`/v1/inbound-rejections?inbound_endpoint_id=${A.pullId}`)),
  ],
};

const routeKey = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

describe.sequential('tenancy matrix', () => {
  it('covers every route the app serves, and nothing else', () => {
    const routes = routesOf(server.app);
    expect(routes.length).toBeGreaterThan(40);
    const served = routes.filter((r) => !r.public).map(routeKey).sort();
    expect(served, 'MATRIX must have exactly the non-public routes').toEqual(Object.keys(MATRIX).sort());
    expect(routes.filter((r) => r.public).map(routeKey).sort(), 'PUBLIC must have exactly the public routes').toEqual([...PUBLIC].sort());
    for (const r of routes.filter((x) => !x.public)) {
      const probes = MATRIX[routeKey(r)];
      expect(probes.length, routeKey(r)).toBeGreaterThan(0);
      // A route that takes an id in its path must be tried with A's id and refused.
      if (r.url.includes('/:')) expect(probes.some((p) => p.error), `${routeKey(r)} takes an id: it needs a refusal probe`).toBe(true);
    }
    // The WebSocket route is among them and is probed with a real upgrade.
    expect(routes.filter((r) => r.websocket).map(routeKey)).toEqual(['GET /v1/inbound-endpoints/:id/stream']);
  });

  let before: Record<string, unknown>;
  let idsOfA: string[];

  it("A's objects are in the states the probes would change", async () => {
    before = await snapshotOfA();
    const get = (p: string) => before[p] as any;
    expect(get(`/v1/endpoints/${A.endpoint.id}`)).toMatchObject({ status: 'active', description: null });
    expect(get(`/v1/endpoints/${A.pausedEndpointId}`)).toMatchObject({ status: 'paused' });
    expect(get(`/v1/deliveries/${A.deliveryId}`)).toMatchObject({ status: 'succeeded', replay_count: 0 });
    expect(get(`/v1/deliveries/${A.pausedDeliveryId}`)).toMatchObject({ status: 'paused' });
    expect(get(`/v1/deliveries/${A.retryingDeliveryId}`)).toMatchObject({ status: 'pending_retry', attempt_count: 1 });
    expect(get(`/v1/inbound-endpoints/${A.pullId}`)).toMatchObject({ status: 'active', name: 'a-pull' });
    expect(get(`/v1/inbound-endpoints/${A.pausedInboundId}`)).toMatchObject({ status: 'paused' });
    expect(get(`/v1/inbound-endpoints/${A.pullId}/events`).data.map((e: any) => e.id)).toEqual([A.heldEventId]);
    expect(get(`/v1/inbound-endpoints/${A.cliId}/events`).data).toHaveLength(1);
    expect(get('/v1/inbound-rejections').data).toHaveLength(1);
    expect(get(`/v1/deliveries/${A.deliveryId}/attempts`).data).toHaveLength(1);
    // Every id of A that B could name (B's own project and key appear in the admin's lists: not A's).
    const found = JSON.stringify(before).match(/\b(?:proj|key|ep|msg|dlv|att|in|ie|rej|exp)_[A-Za-z0-9]+/g) ?? [];
    idsOfA = [...new Set(found)].filter((id) => id !== B.projectId && id !== B.keyId);
    expect(idsOfA.length).toBeGreaterThan(20);
  });

  it("B's key: every route refuses A's ids, and B's lists and creations show nothing of A", async () => {
    let checks = 0;
    for (const [route, probes] of Object.entries(MATRIX)) {
      for (const p of probes) {
        const what = `${route} — ${p.what}`;
        const res = await p.call(B.api);
        if (p.error) {
          expectApiError(res, p.error[0], p.error[1], what);
        } else {
          expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(p.status);
        }
        const text = JSON.stringify(res.body ?? null);
        for (const id of idsOfA) expect(text.includes(id), `${what}: answer names A's ${id}: ${text}`).toBe(false);
        for (const name of NAMES_OF_A) expect(text, `${what}: answer names A's "${name}"`).not.toContain(name);
        checks++;
      }
    }
    expect(checks).toBeGreaterThanOrEqual(Object.keys(MATRIX).length);
  });

  it("nothing of A changed, and A's signing secrets still sign alone", async () => {
    // B's fan-outs had to reach B's endpoint only.
    await waitUntil(async () => ((await B.api.get('/v1/deliveries?status=succeeded')).body.data.length >= 2), 10_000, "B's own deliveries");
    expect(await snapshotOfA()).toEqual(before);
  });

  it("B's revoked key is refused on every route at once (401 unauthorized)", async () => {
    expect((await B.api.delete(`/v1/api-keys/${B.keyId}`)).status).toBe(204);
    for (const [route, probes] of Object.entries(MATRIX)) {
      const res = await probes[0].call(B.api);
      expectApiError(res, 401, 'unauthorized', `${route} with a revoked key`);
    }
    expect(await snapshotOfA()).toEqual(before);
  });

  it("A's endpoint and forwarding signatures are by A's original secrets only", async () => {
    const n = ok.requests.length;
    await created(admin.post('/v1/messages', { event_type: 'a.type', payload: { after: true }, endpoint_id: A.endpoint.id }), 202);
    expect((await ingest(A.forward.ingestUrl, '{"after":true}')).status).toBe(202);
    const got = (await ok.waitForRequests(n + 2)).slice(n);
    expect(got).toHaveLength(2);
    for (const r of got) {
      const secret = r.url.includes('forward') ? A.forward.secret : A.endpoint.secret;
      expect(String(r.headers['webhook-signature']).split(' '), r.url).toHaveLength(1);
      expect(resignedBy(secret, r), r.url).toBe(true);
    }
  });
});
