/**
 * GET /metrics end to end: the text is valid Prometheus exposition (test/prometheus-text.ts is a
 * strict parser), and the counters move by exactly the attempts, deliveries, messages and ingest
 * requests the test makes; the backlog gauges read the store; metricsAuth and metricsPort decide
 * who reaches it and where; a worker-role process serves it too (PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf } from '../src/api/app.js';
import type { Resolver } from '../src/delivery/ssrf-guard.js';
import { BACKLOG_CACHE_MS } from '../src/ops/metrics.js';
import {
  ADMIN_KEY,
  Client,
  createProject,
  expectApiError,
  sleep,
  startReceiver,
  startTestServer,
  testEnv,
  waitForDelivery,
  waitUntil,
  type Receiver,
  type TestServer,
  useApiAndWorker,
} from './helpers.js';
import { TEST_STORE } from './postgres.js';
import { parsePrometheusText, sampleValue, type Family } from './prometheus-text.js';

type Families = Map<string, Family>;

async function scrape(baseUrl: string, key?: string): Promise<Families> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(text);
}

const value = (f: Families, name: string, labels: Record<string, string> = {}) => sampleValue(f, name, labels) ?? 0;
const attempts = (f: Families, outcome: string) => value(f, 'hookbridge_delivery_attempts_total', { outcome });
const finished = (f: Families, status: string) => value(f, 'hookbridge_deliveries_total', { status });
const inbound = (f: Families, result: string) => value(f, 'hookbridge_inbound_requests_total', { result });
const backlogOf = (f: Families) =>
  Object.fromEntries(['due', 'scheduled', 'delivering', 'paused', 'failed'].map((state) => [state, sampleValue(f, 'hookbridge_backlog', { state })]));

async function waitForBacklog(baseUrl: string, want: Record<string, number>): Promise<Families> {
  let last: Families | undefined;
  await waitUntil(
    async () => {
      last = await scrape(baseUrl);
      return JSON.stringify(backlogOf(last)) === JSON.stringify(want);
    },
    15_000,
    `backlog ${JSON.stringify(want)} (last: ${last && JSON.stringify(backlogOf(last))})`,
  );
  return last!;
}

/** `blocked.test` passes the create-time SSRF check, then resolves to a private address nothing may dial. */
const dns = { creating: false };
const resolver: Resolver = async (hostname) => {
  if (hostname !== 'blocked.test') throw new Error(`test resolver: unexpected lookup of ${hostname}`);
  return [{ address: dns.creating ? '93.184.216.34' : '10.0.0.1', family: 4 }];
};

describe.sequential('GET /metrics', () => {
  let server: TestServer;
  let ok: Receiver;
  let bad: Receiver;
  let hang: Receiver;

  beforeAll(async () => {
    [server, ok, bad, hang] = await Promise.all([startTestServer({}, { resolver }), startReceiver(), startReceiver(), startReceiver()]);
    bad.respondWith(400);
    hang.handle(() => undefined);
  });
  afterAll(async () => {
    await server?.close();
    await Promise.all([ok, bad, hang].map((r) => r?.close()));
  });

  it('is Prometheus text declaring every Hookbridge metric, label values at 0 before any traffic', async () => {
    const f = await scrape(server.url);
    const types = Object.fromEntries([...f.values()].filter((x) => x.name.startsWith('hookbridge_')).map((x) => [x.name, x.type]));
    expect(types).toEqual({
      hookbridge_delivery_attempts_total: 'counter',
      hookbridge_delivery_attempt_duration_seconds: 'histogram',
      hookbridge_deliveries_total: 'counter',
      hookbridge_inbound_requests_total: 'counter',
      hookbridge_messages_total: 'counter',
      hookbridge_http_request_duration_seconds: 'histogram',
      hookbridge_store_query_duration_seconds: 'histogram',
      hookbridge_backlog: 'gauge',
      hookbridge_backlog_oldest_due_age_seconds: 'gauge',
    });
    for (const family of f.values()) expect(family.help, family.name).toBeTruthy();
    for (const outcome of ['success', 'failure', 'timeout', 'blocked']) expect(sampleValue(f, 'hookbridge_delivery_attempts_total', { outcome })).toBe(0);
    for (const status of ['succeeded', 'failed', 'cancelled']) expect(sampleValue(f, 'hookbridge_deliveries_total', { status })).toBe(0);
    for (const result of ['accepted', 'duplicate', 'not_found', 'invalid_signature', 'invalid_token', 'missing_signature']) {
      expect(sampleValue(f, 'hookbridge_inbound_requests_total', { result }), result).toBe(0);
    }
    expect(backlogOf(f)).toEqual({ due: 0, scheduled: 0, delivering: 0, paused: 0, failed: 0 });
    expect(sampleValue(f, 'hookbridge_backlog_oldest_due_age_seconds')).toBe(0);
    // The store has answered queries already (migrations, bootstrap, the backlog itself).
    expect(value(f, 'hookbridge_store_query_duration_seconds_count', { kind: 'select' })).toBeGreaterThan(0);
    // Process metrics, for the RSS and CPU panels.
    expect(f.get('process_resident_memory_bytes')?.type).toBe('gauge');
    expect(f.get('process_cpu_seconds_total')?.type).toBe('counter');
    // Public by default, and not part of the API document.
    expect(routesOf(server.app).find((r) => r.url === '/metrics')).toMatchObject({ method: 'GET', public: true });
    expect(Object.keys((await server.api.get('/openapi.json')).body.paths)).not.toContain('/metrics');
  });

  it('counts exactly the attempts by outcome and the deliveries by final status', async () => {
    const api = server.api;
    const endpoint = async (fields: Record<string, unknown>) => {
      const res = await api.post('/v1/endpoints', fields);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const okId = await endpoint({ url: ok.url });
    const badId = await endpoint({ url: bad.url });
    const hangId = await endpoint({ url: hang.url, timeout_ms: 1000, retry_schedule: [3600] });
    dns.creating = true;
    const blockedId = await endpoint({ url: `http://blocked.test:${ok.port}/hook`, retry_schedule: [3600] }).finally(() => (dns.creating = false));
    const pausedId = await endpoint({ url: ok.url });
    expect((await api.post(`/v1/endpoints/${pausedId}/pause`)).status).toBe(200);

    const before = await scrape(server.url);
    const send = async (endpointId: string) => {
      const res = await api.post('/v1/messages', { event_type: 'metrics.test', payload: { to: endpointId }, endpoint_id: endpointId });
      expect(res.status).toBe(202);
      return res.body.deliveries[0].id as string;
    };
    const succeeded = [await send(okId), await send(okId), await send(okId)];
    const failed = [await send(badId), await send(badId)];
    const timedOut = await send(hangId);
    const blocked = await send(blockedId);
    const cancelled = await send(pausedId);
    expect((await api.post(`/v1/deliveries/${cancelled}/cancel`)).status).toBe(202);
    // An idempotent repeat is not a new message.
    const idem = { event_type: 'metrics.test', payload: {}, endpoint_id: okId, idempotency_key: 'metrics-once' };
    const first = await api.post('/v1/messages', idem);
    expect(first.status).toBe(202);
    succeeded.push(first.body.deliveries[0].id);
    expect((await api.post('/v1/messages', idem)).status).toBe(200);

    for (const id of succeeded) await waitForDelivery(api, id, ['succeeded']);
    for (const id of failed) await waitForDelivery(api, id, ['failed']);
    await waitForDelivery(api, timedOut, ['pending_retry']);
    await waitForDelivery(api, blocked, ['pending_retry']);
    expect(ok.requests.map((r) => `${r.headers.host} ${r.body}`)).toHaveLength(4);
    expect(ok.requests.filter((r) => r.headers.host?.startsWith('blocked.test'))).toHaveLength(0);

    const after = await scrape(server.url);
    const delta = (fn: (f: Families) => number) => fn(after) - fn(before);
    expect({
      success: delta((f) => attempts(f, 'success')),
      failure: delta((f) => attempts(f, 'failure')),
      timeout: delta((f) => attempts(f, 'timeout')),
      blocked: delta((f) => attempts(f, 'blocked')),
    }).toEqual({ success: 4, failure: 2, timeout: 1, blocked: 1 });
    expect({
      succeeded: delta((f) => finished(f, 'succeeded')),
      failed: delta((f) => finished(f, 'failed')),
      cancelled: delta((f) => finished(f, 'cancelled')),
    }).toEqual({ succeeded: 4, failed: 2, cancelled: 1 });
    expect(delta((f) => value(f, 'hookbridge_delivery_attempt_duration_seconds_count'))).toBe(8);
    // In seconds: the hanging receiver held its attempt for its whole 1 s timeout, and no attempt took 2.5 s.
    const bucket = (le: string) => delta((f) => value(f, 'hookbridge_delivery_attempt_duration_seconds_bucket', { le }));
    expect(bucket('+Inf') - bucket('0.5')).toBeGreaterThanOrEqual(1);
    expect(bucket('2.5')).toBe(8);
    expect(delta((f) => value(f, 'hookbridge_delivery_attempt_duration_seconds_sum'))).toBeGreaterThanOrEqual(1);
    expect(delta((f) => value(f, 'hookbridge_messages_total'))).toBe(9);

    // API requests by route pattern and status class: no ids in the labels.
    const http = (f: Families, method: string, route: string, status_class: string) =>
      value(f, 'hookbridge_http_request_duration_seconds_count', { method, route, status_class });
    expect(delta((f) => http(f, 'POST', '/v1/messages', '2xx'))).toBe(10);
    expect(delta((f) => http(f, 'POST', '/v1/deliveries/:id/cancel', '2xx'))).toBe(1);
    expect(delta((f) => http(f, 'GET', '/v1/deliveries/:id', '2xx'))).toBeGreaterThanOrEqual(8);
    expect((await api.get('/no/such/route/dlv_123')).status).toBe(404);
    const later = await scrape(server.url);
    expect(http(later, 'GET', 'unmatched', '4xx')).toBe(1);
    const routes = new Set(later.get('hookbridge_http_request_duration_seconds')!.samples.map((s) => s.labels.route));
    for (const route of routes) expect(route, 'route label').toMatch(/^(unmatched|(\/(:[a-z_]+|[a-z0-9._-]+))+)$/);
    for (const id of [okId, badId, ...succeeded, cancelled]) expect([...routes].join(' ')).not.toContain(id);
    expect(delta((f) => value(f, 'hookbridge_store_query_duration_seconds_count', { kind: 'insert' }))).toBeGreaterThanOrEqual(9 + 8);
    expect(delta((f) => value(f, 'hookbridge_store_query_duration_seconds_count', { kind: 'update' }))).toBeGreaterThanOrEqual(8);

    // What is left in the store: the two failed deliveries, and two waiting an hour for their retry.
    await waitForBacklog(server.url, { due: 0, scheduled: 2, delivering: 0, paused: 0, failed: 2 });
  });

  it('counts ingest requests by result', async () => {
    const TOKEN = 'tok-metrics-123456';
    const res = await server.api.post('/v1/inbound-endpoints', {
      name: 'metrics-pull',
      mode: 'pull',
      verification: { type: 'token', secret: TOKEN, query: 'key' },
      idempotency_header_names: ['x-event-id'],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const ingestUrl: string = res.body.ingest_url;
    const post = (url: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"a":1}' });
    const before = await scrape(server.url);
    expect((await post(`${ingestUrl}?key=${TOKEN}`, { 'x-event-id': 'e1' })).status).toBe(202);
    expect((await post(`${ingestUrl}?key=${TOKEN}`, { 'x-event-id': 'e2' })).status).toBe(202);
    expect((await post(`${ingestUrl}?key=${TOKEN}`, { 'x-event-id': 'e1' })).status).toBe(202);
    expect((await post(`${ingestUrl}?key=wrong-token`)).status).toBe(401);
    expect((await post(`${ingestUrl}?key=wrong-token`)).status).toBe(401);
    expect((await post(ingestUrl)).status).toBe(401);
    expect((await post(`${server.url}/in/in_doesnotexist?key=${TOKEN}`)).status).toBe(404);
    const after = await scrape(server.url);
    const results = ['accepted', 'duplicate', 'invalid_token', 'missing_signature', 'not_found', 'invalid_signature', 'ip_not_allowed'];
    expect(Object.fromEntries(results.map((r) => [r, inbound(after, r) - inbound(before, r)]))).toEqual({
      accepted: 2,
      duplicate: 1,
      invalid_token: 2,
      missing_signature: 1,
      not_found: 1,
      invalid_signature: 0,
      ip_not_allowed: 0,
    });
    // Held (pull) events are not deliveries: nothing was attempted.
    expect(['success', 'failure', 'timeout', 'blocked'].map((o) => attempts(after, o) - attempts(before, o))).toEqual([0, 0, 0, 0]);
  });
});

describe.sequential('the backlog gauges', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    // Without a worker, what is due stays due.
    await server.worker!.stop(1000);
  });
  afterAll(() => server?.close());

  it('read the store: due, paused, the oldest due age, cached for a moment', async () => {
    const api = server.api;
    const active = (await api.post('/v1/endpoints', { url: 'http://127.0.0.1:9/hook' })).body.id;
    const paused = (await api.post('/v1/endpoints', { url: 'http://127.0.0.1:9/hook' })).body.id;
    expect((await api.post(`/v1/endpoints/${paused}/pause`)).status).toBe(200);
    const send = async (endpointId: string) => expect((await api.post('/v1/messages', { event_type: 'b.t', payload: {}, endpoint_id: endpointId })).status).toBe(202);
    const firstSentAt = Date.now();
    await send(active);
    await send(active);
    for (let i = 0; i < 3; i++) await send(paused);

    await sleep(100);
    const f = await waitForBacklog(server.url, { due: 2, scheduled: 0, delivering: 0, paused: 3, failed: 0 });
    const age = sampleValue(f, 'hookbridge_backlog_oldest_due_age_seconds')!;
    expect(age).toBeGreaterThan(0.05);
    expect(age).toBeLessThanOrEqual((Date.now() - firstSentAt) / 1000 + 0.01);

    // Scrapes within BACKLOG_CACHE_MS of one backlog query share it.
    await sleep(BACKLOG_CACHE_MS);
    const t0 = Date.now();
    const first = await scrape(server.url);
    await send(active);
    const second = await scrape(server.url);
    if (Date.now() - t0 < BACKLOG_CACHE_MS) expect(backlogOf(second)).toEqual(backlogOf(first));
    await waitForBacklog(server.url, { due: 3, scheduled: 0, delivering: 0, paused: 3, failed: 0 });
  });
});

describe('HOOKBRIDGE_METRICS_AUTH=admin', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ HOOKBRIDGE_METRICS_AUTH: 'admin' });
  });
  afterAll(() => server?.close());

  it('refuses without a key and with a project key, serves the admin key', async () => {
    const anonymous = server.api.withKey(undefined);
    expectApiError(await anonymous.get('/metrics'), 401, 'unauthorized', 'no key');
    expectApiError(await anonymous.withKey('hb_not_a_key').get('/metrics'), 401, 'unauthorized', 'unknown key');
    const b = await createProject(server.api, 'metrics-b');
    expectApiError(await b.api.get('/metrics'), 403, 'forbidden', 'project key');
    const f = await scrape(server.url, ADMIN_KEY);
    expect(f.get('hookbridge_delivery_attempts_total')?.type).toBe('counter');
    expect((await anonymous.get('/healthz')).status).toBe(200);
    expect(routesOf(server.app).find((r) => r.url === '/metrics')).toMatchObject({ public: false });
  });
});

describe('HOOKBRIDGE_METRICS_PORT', () => {
  let server: TestServer;
  let withAuth: TestServer;
  beforeAll(async () => {
    [server, withAuth] = await Promise.all([
      startTestServer({ HOOKBRIDGE_METRICS_PORT: '0' }),
      startTestServer({ HOOKBRIDGE_METRICS_PORT: '0', HOOKBRIDGE_METRICS_AUTH: 'admin' }),
    ]);
  });
  afterAll(() => Promise.all([server?.close(), withAuth?.close()]));

  it('serves /metrics on its own listener only', async () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.metricsUrl).not.toBe(server.url);
    expectApiError(await server.api.get('/metrics'), 404, 'not_found', 'API port');
    expect(routesOf(server.app).some((r) => r.url === '/metrics')).toBe(false);
    const before = await scrape(server.metricsUrl);
    const ep = (await server.api.post('/v1/endpoints', { url: 'http://127.0.0.1:9/hook' })).body.id;
    await server.api.post(`/v1/endpoints/${ep}/pause`);
    expect((await server.api.post('/v1/messages', { event_type: 'p.t', payload: {}, endpoint_id: ep })).status).toBe(202);
    const after = await scrape(server.metricsUrl);
    expect(value(after, 'hookbridge_messages_total') - value(before, 'hookbridge_messages_total')).toBe(1);
    // Nothing else lives there.
    const other = new Client(server.metricsUrl, ADMIN_KEY);
    expectApiError(await other.get('/healthz'), 404, 'not_found', 'metrics port /healthz');
    expectApiError(await other.get('/v1/endpoints'), 404, 'not_found', 'metrics port /v1');
  });

  it('takes the admin key there when metricsAuth is admin', async () => {
    const other = new Client(withAuth.metricsUrl, undefined);
    expectApiError(await other.get('/metrics'), 401, 'unauthorized', 'no key');
    const b = await createProject(withAuth.api, 'metrics-port-b');
    expectApiError(await other.withKey(b.key).get('/metrics'), 403, 'forbidden', 'project key');
    await scrape(withAuth.metricsUrl, ADMIN_KEY);
    expectApiError(await withAuth.api.get('/metrics'), 404, 'not_found', 'API port');
  });
});

describe.runIf(TEST_STORE === 'postgres')('--role api and --role worker', () => {
  const servers = useApiAndWorker();

  it('the worker process serves the attempts it made; both report the one store backlog', async () => {
    const { api, worker, receiver: r } = servers;
    const client = new Client(api.url, ADMIN_KEY);
    const ep = (await client.post('/v1/endpoints', { url: r.url })).body.id;
    const paused = (await client.post('/v1/endpoints', { url: r.url })).body.id;
    await client.post(`/v1/endpoints/${paused}/pause`);
    const [apiBefore, workerBefore] = await Promise.all([scrape(api.url), scrape(worker.url)]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.post('/v1/messages', { event_type: 'w.t', payload: { i }, endpoint_id: ep })).body.deliveries[0].id);
    expect((await client.post('/v1/messages', { event_type: 'w.t', payload: {}, endpoint_id: paused })).status).toBe(202);
    for (const id of ids) await waitForDelivery(client, id, ['succeeded']);
    const [apiAfter, workerAfter] = await Promise.all([scrape(api.url), scrape(worker.url)]);
    expect(attempts(workerAfter, 'success') - attempts(workerBefore, 'success')).toBe(3);
    expect(finished(workerAfter, 'succeeded') - finished(workerBefore, 'succeeded')).toBe(3);
    expect(attempts(apiAfter, 'success') - attempts(apiBefore, 'success')).toBe(0);
    expect(value(apiAfter, 'hookbridge_messages_total') - value(apiBefore, 'hookbridge_messages_total')).toBe(4);
    expect(value(workerAfter, 'hookbridge_messages_total')).toBe(0);
    const want = { due: 0, scheduled: 0, delivering: 0, paused: 1, failed: 0 };
    await waitForBacklog(api.url, want);
    await waitForBacklog(worker.url, want);
  });
});

describe('the strict parser these tests rely on', () => {
  const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
  it('accepts valid text', () => {
    const f = parsePrometheusText(good);
    expect(sampleValue(f, 'a_total', { x: '1' })).toBe(2);
    expect(sampleValue(f, 'h_count')).toBe(2);
  });
  it.each([
    ['a sample without a family', 'b 1\n'],
    ['a sample of another family', '# TYPE a gauge\nb 1\n'],
    ['no final newline', '# TYPE a gauge\na 1'],
    ['a family declared twice', '# TYPE a gauge\na 1\n# TYPE a gauge\n'],
    ['a duplicate series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ['an unquoted label', '# TYPE a gauge\na{x=1} 1\n'],
    ['a bad value', '# TYPE a gauge\na 1,5\n'],
    ['a negative counter', '# TYPE a_total counter\na_total -1\n'],
    ['buckets not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['+Inf differing from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
