/**
 * Retention (issue 8): payloads of finished messages go after the payload window while their
 * deliveries and attempts stay listable, and replays of them answer 410 payload_expired; finished
 * records go after the record window; DELETE /v1/messages/{id} removes one payload at once and
 * cancels what could still send it. Windows are tiny here (0.00002 days ≈ 1.7 s).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_STORE } from './postgres.js';
import {
  createProject,
  expectApiError,
  sleep,
  startReceiver,
  startTestServer,
  waitForDelivery,
  waitUntil,
  type Client,
  type Receiver,
  type TestProject,
  type TestServer,
} from './helpers.js';

const TINY_DAYS = 0.00002;
const TINY_MS = TINY_DAYS * 86_400_000;
const TOKEN = 'tok-retention-123456';
const verification = { type: 'token', secret: TOKEN, query: 'key' };

async function ok<T = any>(res: Promise<{ status: number; body: T }>, status: number): Promise<T> {
  const r = await res;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const ingest = (url: string, body: string, token = TOKEN) => fetch(`${url}?key=${token}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-provider-note': 'secret-ish' }, body });

/** Publishes to one endpoint and returns {id, deliveryId}. */
async function send(api: Client, endpointId: string, payload: unknown) {
  const m = await ok(api.post('/v1/messages', { event_type: 'order.paid', payload, endpoint_id: endpointId }), 202);
  return { id: m.id as string, deliveryId: m.deliveries[0].id as string };
}

describe.sequential('payload retention (per project, background timer)', () => {
  let server: TestServer;
  let receiver: Receiver;
  let P: TestProject;
  const ids = { done: '', doneDelivery: '', parked: '', parkedDelivery: '', other: '', event: '', eventDelivery: '' };

  beforeAll(async () => {
    [server, receiver] = await Promise.all([startTestServer({ HOOKBRIDGE_RETENTION_INTERVAL_SECONDS: '1' }), startReceiver()]);
    receiver.handle((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('receipt #4711 for the order'));
    P = await createProject(server.api, 'short-memory');
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });

  it('takes payload_retention_days and record_retention_days as project settings (null = the server default)', async () => {
    expectApiError(await server.api.patch(`/v1/projects/${P.projectId}`, { payload_retention_days: 0 }), 400, 'invalid_request', 'a zero payload window');
    // Idempotency keys are promised for at least 24 h, and they live as long as the records.
    expectApiError(await server.api.patch(`/v1/projects/${P.projectId}`, { record_retention_days: 0.5 }), 400, 'invalid_request', 'a record window under a day');
    expect(await ok(server.api.patch(`/v1/projects/${P.projectId}`, { record_retention_days: 400 }), 200)).toMatchObject({ record_retention_days: 400, payload_retention_days: null });
    expect(await ok(server.api.patch(`/v1/projects/${P.projectId}`, { record_retention_days: null, payload_retention_days: TINY_DAYS }), 200)).toMatchObject({
      record_retention_days: null,
      payload_retention_days: TINY_DAYS,
    });
    expect(await ok(server.api.get(`/v1/projects/${P.projectId}`), 200)).toMatchObject({ payload_retention_days: TINY_DAYS });
  });

  it('removes the payload of finished messages past the window; deliveries and attempts stay listable', async () => {
    const ep = await ok(P.api.post('/v1/endpoints', { url: receiver.url }), 201);
    const parkedEp = await ok(P.api.post('/v1/endpoints', { url: receiver.url }), 201);
    await ok(P.api.post(`/v1/endpoints/${parkedEp.id}/pause`), 200);
    const fwd = await ok(P.api.post('/v1/inbound-endpoints', { name: 'fwd', mode: 'forward', destination_url: `${receiver.url}?forward`, verification }), 201);
    const otherEp = await ok(server.api.post('/v1/endpoints', { url: `${receiver.url}?default-project` }), 201);

    ({ id: ids.done, deliveryId: ids.doneDelivery } = await send(P.api, ep.id, { card: '4242', amount: 12 }));
    ({ id: ids.parked, deliveryId: ids.parkedDelivery } = await send(P.api, parkedEp.id, { parked: true }));
    ids.other = (await send(server.api, otherEp.id, { kept: 'by the 30-day default' })).id;
    expect((await ingest(fwd.ingest_url, '{"provider":"event"}')).status).toBe(202);
    const event = (await P.api.get('/v1/inbound-events')).body.data[0];
    ids.event = event.id;
    expect(event.headers['x-provider-note']).toBe('secret-ish');
    ids.eventDelivery = event.delivery.id;
    await waitForDelivery(P.api, ids.doneDelivery, ['succeeded']);
    await waitForDelivery(P.api, ids.eventDelivery, ['succeeded']);
    // Before the window: everything is there.
    expect((await P.api.get(`/v1/messages/${ids.done}`)).body).toMatchObject({ payload: { card: '4242', amount: 12 }, payload_removed_at: null });
    expect((await P.api.get(`/v1/deliveries/${ids.doneDelivery}/attempts`)).body.data[0]).toMatchObject({ response_body: 'receipt #4711 for the order', request_headers: { 'content-type': 'application/json' } });

    // The background job (every second) takes it once the window has passed.
    await waitUntil(async () => (await P.api.get(`/v1/messages/${ids.done}`)).body.payload_removed_at !== null, 20_000, 'the payload to be removed');
    const m = (await P.api.get(`/v1/messages/${ids.done}`)).body;
    expect(m.payload).toBeNull();
    expect(Date.parse(m.payload_removed_at)).toBeGreaterThanOrEqual(Date.parse(m.created_at) + TINY_MS);
    expect(m).toMatchObject({ event_type: 'order.paid', endpoint_id: ep.id });
    const listed = (await P.api.get('/v1/messages')).body.data.find((x: any) => x.id === ids.done);
    expect(listed).toMatchObject({ payload: null, payload_removed_at: m.payload_removed_at });

    expect(await ok(P.api.get(`/v1/deliveries/${ids.doneDelivery}`), 200)).toMatchObject({ status: 'succeeded', attempt_count: 1, last_status_code: 200, message_id: ids.done });
    const attempts = (await P.api.get(`/v1/deliveries/${ids.doneDelivery}/attempts`)).body.data;
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status_code: 200, outcome: 'succeeded', response_body: null, response_truncated: false, request_headers: null });
    expect((await P.api.get(`/v1/deliveries?message_id=${ids.done}`)).body.data).toHaveLength(1);
  });

  it('removes a forwarded inbound event’s body and headers too', async () => {
    await waitUntil(async () => (await P.api.get(`/v1/inbound-events/${ids.event}`)).body.payload_removed_at !== null, 20_000, 'the event body to be removed');
    const e = (await P.api.get(`/v1/inbound-events/${ids.event}`)).body;
    expect(e).toMatchObject({ body: null, headers: {}, delivery: { id: ids.eventDelivery, status: 'succeeded' } });
    expect((await P.api.get(`/v1/inbound-events/${ids.event}/attempts`)).body.data).toMatchObject([{ status_code: 200, response_body: null, request_headers: null }]);
  });

  it('keeps the payload of unfinished deliveries (a paused endpoint) and of projects with a longer window', async () => {
    await sleep(TINY_MS);
    await server.retention!.runOnce();
    expect((await P.api.get(`/v1/messages/${ids.parked}`)).body).toMatchObject({ payload: { parked: true }, payload_removed_at: null });
    expect((await P.api.get(`/v1/deliveries/${ids.parkedDelivery}`)).body.status).toBe('paused');
    expect((await server.api.get(`/v1/messages/${ids.other}`)).body).toMatchObject({ payload: { kept: 'by the 30-day default' }, payload_removed_at: null });
  });

  it('answers 410 payload_expired to replays of it: single, bulk (counted as skipped) and inbound event', async () => {
    const before = receiver.requests.length;
    expectApiError(await P.api.post(`/v1/deliveries/${ids.doneDelivery}/replay`), 410, 'payload_expired', 'replay');
    expect(await ok(P.api.post('/v1/deliveries/replay', { ids: [ids.doneDelivery] }), 202)).toEqual({ replayed: 0, skipped: 1, expired: 1 });
    expect(await ok(P.api.post('/v1/deliveries/replay', { status: 'succeeded' }), 202)).toEqual({ replayed: 0, skipped: 2, expired: 2 });
    expectApiError(await P.api.post(`/v1/inbound-events/${ids.event}/replay`), 410, 'payload_expired', 'inbound event replay');
    expect(await ok(P.api.get(`/v1/deliveries/${ids.doneDelivery}`), 200)).toMatchObject({ status: 'succeeded', replay_count: 0 });
    await sleep(500);
    expect(receiver.requests.length).toBe(before);
  });

  it('DELETE /v1/messages/{id} cancels what could still send it and removes the payload at once', async () => {
    const failing = await startReceiver();
    failing.respondWith(500);
    try {
      const retrying = await ok(P.api.post('/v1/endpoints', { url: failing.url, retry_schedule: [3600], consumer_id: 'c1' }), 201);
      const parked = await ok(P.api.post('/v1/endpoints', { url: `${receiver.url}?parked`, consumer_id: 'c1' }), 201);
      await ok(P.api.post(`/v1/endpoints/${parked.id}/pause`), 200);
      const m = await ok(P.api.post('/v1/messages', { event_type: 'order.paid', payload: { secret: 'x' }, consumer_id: 'c1' }), 202);
      expect(m.deliveries).toHaveLength(2);
      const retry = m.deliveries.find((d: any) => d.endpoint_id === retrying.id).id;
      const paused = m.deliveries.find((d: any) => d.endpoint_id === parked.id).id;
      await waitForDelivery(P.api, retry, ['pending_retry']);

      expect((await P.api.delete(`/v1/messages/${m.id}`)).status).toBe(204);
      const got = (await P.api.get(`/v1/messages/${m.id}`)).body;
      expect(got).toMatchObject({ id: m.id, payload: null, payload_removed_at: expect.any(String) });
      for (const id of [retry, paused]) expect(await ok(P.api.get(`/v1/deliveries/${id}`), 200)).toMatchObject({ status: 'cancelled', last_error: 'message deleted' });
      expect((await P.api.get(`/v1/deliveries/${retry}/attempts`)).body.data).toMatchObject([{ status_code: 500, response_body: null }]);
      expectApiError(await P.api.post(`/v1/deliveries/${retry}/replay`), 410, 'payload_expired', 'replay after DELETE');

      // Resuming the endpoint sends nothing: the receiver never gets the deleted message.
      await ok(P.api.post(`/v1/endpoints/${parked.id}/resume`), 200);
      await sleep(1500);
      expect(receiver.requests.filter((r) => r.url.endsWith('?parked'))).toHaveLength(0);
      expect(failing.requests).toHaveLength(1);

      // Idempotent; unknown ids and other projects' messages are 404.
      expect((await P.api.delete(`/v1/messages/${m.id}`)).status).toBe(204);
      expect((await P.api.get(`/v1/messages/${m.id}`)).body.payload_removed_at).toBe(got.payload_removed_at);
      expectApiError(await P.api.delete('/v1/messages/msg_nope'), 404, 'not_found', 'unknown id');
      expectApiError(await P.api.delete(`/v1/messages/${ids.other}`), 404, 'not_found', "another project's message");
      expect((await server.api.get(`/v1/messages/${ids.other}`)).body.payload).toEqual({ kept: 'by the 30-day default' });
      expectApiError(await P.api.delete(`/v1/messages/${ids.event}`), 404, 'not_found', 'an inbound event is not a message');
    } finally {
      await failing.close();
    }
  });

  it('DELETE moves a fifo line on past the deleted message', async () => {
    const line = await startReceiver();
    line.handle((req, res) => res.writeHead(req.body.includes('"first"') ? 500 : 200).end());
    try {
      const ep = await ok(P.api.post('/v1/endpoints', { url: line.url, ordering: 'fifo', retry_schedule: [3600] }), 201);
      const first = await send(P.api, ep.id, { n: 'first' });
      await waitForDelivery(P.api, first.deliveryId, ['pending_retry']);
      const second = await send(P.api, ep.id, { n: 'second' });
      await sleep(500);
      expect((await P.api.get(`/v1/deliveries/${second.deliveryId}`)).body.status).toBe('queued');
      expect(line.requests).toHaveLength(1);

      expect((await P.api.delete(`/v1/messages/${first.id}`)).status).toBe(204);
      await waitForDelivery(P.api, second.deliveryId, ['succeeded']);
      expect(line.requests.map((r) => JSON.parse(r.body).n)).toEqual(['first', 'second']);
    } finally {
      await line.close();
    }
  });

  it('DELETE during an attempt on the wire: the attempt is recorded, the delivery stays cancelled, is not retried, counted once and reported by no operational event', async () => {
    // A receiver that holds the request until told to answer, then fails it for good (400).
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let seen = 0;
    const hanging = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen++;
        void held.then(() => res.writeHead(400).end('no such order'));
      });
    });
    const finished = async () => {
      const text = await (await fetch(`${server.metricsUrl}/metrics`)).text();
      const count = (status: string) => Number(new RegExp(`^hookbridge_deliveries_total\\{status="${status}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      return { failed: count('failed'), cancelled: count('cancelled') };
    };
    const watcher = await ok(P.api.post('/v1/endpoints', { url: receiver.url, event_types: ['hookbridge.delivery.failed'] }), 201);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hook`;
    try {
      const ep = await ok(P.api.post('/v1/endpoints', { url, retry_schedule: [0.1, 0.1] }), 201);
      const m = await send(P.api, ep.id, { n: 'on the wire' });
      await waitUntil(() => seen === 1, 10_000, 'the request to arrive');
      const before = await finished();
      expect((await P.api.get(`/v1/deliveries/${m.deliveryId}`)).body.status).toBe('delivering');

      expect((await P.api.delete(`/v1/messages/${m.id}`)).status).toBe(204);
      expect((await P.api.get(`/v1/deliveries/${m.deliveryId}`)).body.status).toBe('cancelled');
      release();
      await waitUntil(async () => (await P.api.get(`/v1/deliveries/${m.deliveryId}/attempts`)).body.data.length === 1, 10_000, 'the attempt record');
      await sleep(1000);
      expect(await ok(P.api.get(`/v1/deliveries/${m.deliveryId}`), 200)).toMatchObject({ status: 'cancelled', last_error: 'message deleted' });
      expect(seen).toBe(1);
      // The 400 came after the delivery was cancelled: it finished nothing and failed nothing.
      expect(await finished()).toEqual({ failed: before.failed, cancelled: before.cancelled + 1 });
      expect((await P.api.get(`/v1/deliveries?endpoint_id=${watcher.id}`)).body.data).toEqual([]);
    } finally {
      release();
      hanging.closeAllConnections();
      await new Promise<void>((r) => hanging.close(() => r()));
    }
  });
});

describe.sequential('record retention and batches', () => {
  let server: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    [server, receiver] = await Promise.all([
      startTestServer({
        // Below a day only as a server setting (a project's record window is at least one day).
        HOOKBRIDGE_RECORD_RETENTION_DAYS: String(TINY_DAYS),
        HOOKBRIDGE_RETENTION_BATCH_SIZE: '2',
        HOOKBRIDGE_RETENTION_INTERVAL_SECONDS: '86400',
      }),
      startReceiver(),
    ]);
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });

  it('deletes finished messages with their deliveries and attempts, and old rejections; keeps unfinished ones and held events', async () => {
    const api = server.api;
    const ep = await ok(api.post('/v1/endpoints', { url: receiver.url }), 201);
    const parkedEp = await ok(api.post('/v1/endpoints', { url: receiver.url }), 201);
    await ok(api.post(`/v1/endpoints/${parkedEp.id}/pause`), 200);
    const fwd = await ok(api.post('/v1/inbound-endpoints', { name: 'fwd', mode: 'forward', destination_url: `${receiver.url}?forward`, verification }), 201);
    const pull = await ok(api.post('/v1/inbound-endpoints', { name: 'pull', mode: 'pull', verification }), 201);

    const done = await send(api, ep.id, { n: 1 });
    const parked = await send(api, parkedEp.id, { n: 2 });
    expect((await ingest(fwd.ingest_url, '{"forward":1}')).status).toBe(202);
    expect((await ingest(pull.ingest_url, '{"held":1}')).status).toBe(202);
    expect((await ingest(fwd.ingest_url, '{}', 'wrong-token')).status).toBe(401);
    const forwarded = (await api.get(`/v1/inbound-events?inbound_endpoint_id=${fwd.id}`)).body.data[0];
    const heldId = (await api.get(`/v1/inbound-events?inbound_endpoint_id=${pull.id}`)).body.data[0].id;
    await waitForDelivery(api, done.deliveryId, ['succeeded']);
    await waitForDelivery(api, forwarded.delivery.id, ['succeeded']);
    expect((await api.get('/v1/inbound-rejections')).body.data).toHaveLength(1);

    await sleep(TINY_MS + 100);
    const report = await server.retention!.runOnce();
    expect(report.messagesDeleted).toBe(2);
    expect(report.rejectionsDeleted).toBe(1);

    expectApiError(await api.get(`/v1/messages/${done.id}`), 404, 'not_found', 'deleted message');
    expectApiError(await api.get(`/v1/deliveries/${done.deliveryId}`), 404, 'not_found', 'deleted delivery');
    expectApiError(await api.get(`/v1/deliveries/${done.deliveryId}/attempts`), 404, 'not_found', 'deleted attempts');
    expectApiError(await api.get(`/v1/inbound-events/${forwarded.id}`), 404, 'not_found', 'deleted forwarded event');
    expect((await api.get('/v1/inbound-rejections')).body.data).toHaveLength(0);
    const left = await server.store.db.selectFrom('attempts').select('id').where('delivery_id', 'in', [done.deliveryId, forwarded.delivery.id]).execute();
    expect(left).toHaveLength(0);

    // Unfinished: kept whole. Held (pull) events have their own retention.
    expect((await api.get(`/v1/messages/${parked.id}`)).body).toMatchObject({ payload: { n: 2 }, payload_removed_at: null });
    expect((await api.get(`/v1/deliveries/${parked.deliveryId}`)).body.status).toBe('paused');
    expect((await api.get(`/v1/inbound-events/${heldId}`)).body.body).toBe('{"held":1}');

    // Once it finishes, it goes too.
    await ok(api.post(`/v1/deliveries/${parked.deliveryId}/cancel`), 202);
    await server.retention!.runOnce();
    expectApiError(await api.get(`/v1/messages/${parked.id}`), 404, 'not_found', 'finished later');
  });

  it('deletes export rows past their expiry', async () => {
    const projectId = (await server.api.get('/v1/api-keys')).body.data[0].project_id;
    const row = (id: string, expiresAt: number) => ({
      id, project_id: projectId, kind: 'deliveries', format: 'csv', filters: '{}', status: 'ready',
      row_count: 0, last_id: null, error: null, created_at: Date.now() - 1000, finished_at: Date.now() - 1000, expires_at: expiresAt,
    });
    await server.store.db.insertInto('exports').values([row('exp_old', Date.now() - 1), row('exp_live', Date.now() + 3_600_000)]).execute();
    expect((await server.retention!.runOnce()).exportsDeleted).toBe(1);
    expect((await server.store.db.selectFrom('exports').select('id').execute()).map((r) => r.id)).toEqual(['exp_live']);
  });

  it('works in batches: with batch size 2, one run takes all 7 messages', async () => {
    const ids: string[] = [];
    // No endpoint matches: finished at once.
    for (let i = 0; i < 7; i++) ids.push((await ok(server.api.post('/v1/messages', { event_type: 'nobody.listens', payload: { i }, consumer_id: 'nobody' }), 202)).id);
    await sleep(TINY_MS + 100);
    const report = await server.retention!.runOnce();
    expect(report.messagesDeleted).toBe(7);
    expect(report.batches).toBeGreaterThanOrEqual(4);
    for (const id of ids) expect((await server.api.get(`/v1/messages/${id}`)).status).toBe(404);
  });

  it.runIf(TEST_STORE === 'postgres')('PostgreSQL: a replay racing a removal waits for it and then answers 410', async () => {
    const ep = await ok(server.api.post('/v1/endpoints', { url: receiver.url }), 201);
    const m = await send(server.api, ep.id, { racing: true });
    await waitForDelivery(server.api, m.deliveryId, ['succeeded']);
    // A removal in progress (as a retention batch makes it), not committed yet.
    const { pending } = await server.store.db.transaction().execute(async (trx) => {
      await sql`select id from messages where id = ${m.id} for update`.execute(trx);
      await sql`update messages set payload = '', payload_removed_at = ${Date.now()} where id = ${m.id}`.execute(trx);
      const replay = server.api.post(`/v1/deliveries/${m.deliveryId}/replay`);
      await sleep(500);
      return { pending: replay };
    });
    expectApiError(await pending, 410, 'payload_expired', 'replay that waited for the removal');
    expect((await server.api.get(`/v1/deliveries/${m.deliveryId}`)).body).toMatchObject({ status: 'succeeded', replay_count: 0 });
    await sleep(TINY_MS);
    await server.retention!.runOnce(); // its records go, so the next test counts its own
  });

  it.runIf(TEST_STORE === 'postgres')('PostgreSQL: skips messages another transaction holds instead of waiting for them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await ok(server.api.post('/v1/messages', { event_type: 'nobody.listens', payload: { i }, consumer_id: 'nobody' }), 202)).id);
    await sleep(TINY_MS + 100);
    const [held, ...free] = ids;
    // Another connection locks one message (as a replay or another process's batch would).
    const report = await server.store.db.transaction().execute(async (trx) => {
      await sql`select id from messages where id = ${held} for update`.execute(trx);
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('retention waited for the locked row')), 15_000)));
      try {
        return await Promise.race([server.retention!.runOnce(), stuck]);
      } finally {
        clearTimeout(timer);
      }
    });
    expect(report.messagesDeleted).toBe(2);
    expect((await server.api.get(`/v1/messages/${held}`)).status).toBe(200);
    for (const id of free) expect((await server.api.get(`/v1/messages/${id}`)).status).toBe(404);
    // Released: the next run takes it.
    expect((await server.retention!.runOnce()).messagesDeleted).toBe(1);
    expect((await server.api.get(`/v1/messages/${held}`)).status).toBe(404);
  });
});
