/** Who receives a message: scoping by consumer, filters, broadcast, pause, and idempotency. */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, sleep, useServer, waitForDelivery, waitUntil } from './helpers.js';

const t = useServer();
let r: Receiver;

beforeAll(async () => {
  r = await t.receiver();
});

/** Each endpoint gets its own path on the shared receiver, so arrivals tell endpoints apart. */
async function endpoint(name: string, extra: Record<string, unknown> = {}) {
  const res = await t.api.post('/v1/endpoints', { url: `${r.url}/${name}`, retry_schedule: [0.1], ...extra });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const arrivals = (msgId: string) =>
  r.requests
    .filter((q) => q.headers['webhook-id'] === msgId)
    .map((q) => q.url.split('/').pop())
    .sort();

async function publish(body: Record<string, unknown>) {
  const res = await t.api.post('/v1/messages', { payload: { x: 1 }, ...body });
  expect(res.status).toBe(202);
  await Promise.all(res.body.deliveries.map((d: any) => waitForDelivery(t.api, d.id, ['succeeded', 'paused'])));
  return res.body;
}

describe('fan-out', () => {
  it('scopes by consumer and filters by event type and channel', async () => {
    await endpoint('acme-all', { consumer_id: 'acme' });
    await endpoint('acme-invoices', { consumer_id: 'acme', event_types: ['invoice.paid'] });
    await endpoint('acme-eu', { consumer_id: 'acme', channels: ['eu'] });
    await endpoint('globex-all', { consumer_id: 'globex' });
    await endpoint('internal-all');
    await endpoint('internal-orders', { event_types: ['order.created'] });

    const m1 = await publish({ event_type: 'invoice.paid', consumer_id: 'acme' });
    expect(m1.deliveries).toHaveLength(2);
    expect(arrivals(m1.id)).toEqual(['acme-all', 'acme-invoices']);

    const m2 = await publish({ event_type: 'order.created', consumer_id: 'acme', channels: ['eu'] });
    expect(arrivals(m2.id)).toEqual(['acme-all', 'acme-eu']);

    // no consumer: only endpoints without a consumer
    const m3 = await publish({ event_type: 'order.created' });
    expect(arrivals(m3.id)).toEqual(['internal-all', 'internal-orders']);

    // broadcast: every matching endpoint of the project
    const m4 = await publish({ event_type: 'invoice.paid', broadcast: true });
    expect(arrivals(m4.id)).toEqual(['acme-all', 'acme-invoices', 'globex-all', 'internal-all']);

    // no match: accepted with no deliveries
    const none = await t.api.post('/v1/messages', { event_type: 'x', payload: {}, consumer_id: 'nobody' });
    expect(none.status).toBe(202);
    expect(none.body.deliveries).toEqual([]);

    // the message is listed and readable with its payload
    const got = await t.api.get(`/v1/messages/${m1.id}`);
    expect(got.body).toMatchObject({ id: m1.id, event_type: 'invoice.paid', consumer_id: 'acme', payload: { x: 1 } });
    const byConsumer = await t.api.get(`/v1/deliveries?consumer_id=globex`);
    expect(byConsumer.body.data.every((d: any) => d.consumer_id === 'globex')).toBe(true);
    expect(byConsumer.body.data).toHaveLength(1);
  });

  it('endpoint_id goes to that endpoint only, without applying its filter', async () => {
    const id = await endpoint('direct', { consumer_id: 'solo', event_types: ['only.this'] });
    const m = await publish({ event_type: 'something.else', endpoint_id: id });
    expect(arrivals(m.id)).toEqual(['direct']);
  });

  it('paused endpoints receive nothing until resumed, then everything', async () => {
    const id = await endpoint('pausable', { consumer_id: 'pauser' });
    expect((await t.api.post(`/v1/endpoints/${id}/pause`)).body.status).toBe('paused');
    const sent: any[] = [];
    for (let i = 0; i < 3; i++) sent.push(await publish({ event_type: 'p.t', consumer_id: 'pauser', payload: { i } }));
    expect(sent.every((m) => m.deliveries[0].status === 'paused')).toBe(true);
    await sleep(300);
    expect(sent.flatMap((m) => arrivals(m.id))).toEqual([]);
    await t.api.post(`/v1/endpoints/${id}/resume`);
    await waitUntil(() => sent.every((m) => arrivals(m.id).length === 1), 5000, 'all paused messages to arrive');
  });

  it('a deleted endpoint receives nothing more and reads as 404', async () => {
    const id = await endpoint('deleted', { consumer_id: 'gone' });
    expect((await t.api.delete(`/v1/endpoints/${id}`)).status).toBe(204);
    expect((await t.api.get(`/v1/endpoints/${id}`)).status).toBe(404);
    const m = await t.api.post('/v1/messages', { event_type: 'x', payload: {}, consumer_id: 'gone' });
    expect(m.body.deliveries).toEqual([]);
  });
});

describe('idempotency', () => {
  it('same key + same payload → same message (200); other payload → 409', async () => {
    await endpoint('idem', { consumer_id: 'idem' });
    const body = { event_type: 'i.t', consumer_id: 'idem', payload: { a: 1, b: [1, 2] }, idempotency_key: 'order-42' };
    const first = await t.api.post('/v1/messages', body);
    expect(first.status).toBe(202);
    // key order inside the payload does not matter: same JSON value
    const again = await t.api.post('/v1/messages', { ...body, payload: { b: [1, 2], a: 1 } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.deliveries.map((d: any) => d.id)).toEqual(first.body.deliveries.map((d: any) => d.id));
    const conflict = await t.api.post('/v1/messages', { ...body, payload: { a: 2 } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    // the Idempotency-Key header works the same way
    const viaHeader = await t.api.post('/v1/messages', { event_type: 'i.t', consumer_id: 'idem', payload: {} }, { 'idempotency-key': 'hdr-1' });
    const viaHeader2 = await t.api.post('/v1/messages', { event_type: 'i.t', consumer_id: 'idem', payload: {} }, { 'idempotency-key': 'hdr-1' });
    expect(viaHeader2.body.id).toBe(viaHeader.body.id);
    await waitUntil(() => arrivals(first.body.id).length === 1, 5000);
    await sleep(200);
    expect(arrivals(first.body.id)).toHaveLength(1);
  });

  it('concurrent requests with one key store one message', async () => {
    await endpoint('idem-race', { consumer_id: 'race' });
    const body = { event_type: 'r.t', consumer_id: 'race', payload: { n: 1 }, idempotency_key: 'race-1' };
    const results = await Promise.all(Array.from({ length: 8 }, () => t.api.post('/v1/messages', body)));
    expect(new Set(results.map((x) => x.body.id)).size).toBe(1);
    expect(results.filter((x) => x.status === 202)).toHaveLength(1);
  });
});
