/** Metrics, event types and project defaults, as a user of the API sees them. */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, useServer, waitForDelivery } from './helpers.js';

const t = useServer();
let r: Receiver;

beforeAll(async () => {
  r = await t.receiver();
});

describe('metrics', () => {
  it('counts deliveries, attempts and retries, overall and per endpoint', async () => {
    r.respondWith(500, 200, 400);
    const ep = (await t.api.post('/v1/endpoints', { url: r.url, retry_schedule: [0.05] })).body;
    const other = (await t.api.post('/v1/endpoints', { url: `${r.url}/other`, consumer_id: 'x' })).body;
    const m1 = (await t.api.post('/v1/messages', { event_type: 'm.t', payload: {}, endpoint_id: ep.id })).body;
    await waitForDelivery(t.api, m1.deliveries[0].id, ['succeeded']);
    const m2 = (await t.api.post('/v1/messages', { event_type: 'm.t', payload: {}, endpoint_id: ep.id })).body;
    await waitForDelivery(t.api, m2.deliveries[0].id, ['failed']);

    const all = await t.api.get('/v1/metrics?window=1h');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ window: '1h', total_messages: 2, deliveries: 2, succeeded: 1, failed: 1, pending: 0, attempts: 3, retries: 1, success_rate: 0.5 });
    expect(all.body.avg_latency_ms).toBeGreaterThanOrEqual(0);
    const none = await t.api.get(`/v1/metrics?endpoint_id=${other.id}`);
    expect(none.body).toMatchObject({ window: '24h', deliveries: 0, attempts: 0, success_rate: null, avg_latency_ms: null });
    expect((await t.api.get('/v1/metrics?endpoint_id=ep_nope')).status).toBe(404);
    expect((await t.api.get('/v1/metrics?window=2h')).status).toBe(400);

    const ts = await t.api.get('/v1/metrics/timeseries?window=1h');
    expect(ts.status).toBe(200);
    expect(ts.body.bucket_seconds).toBe(60);
    expect(ts.body.data.length).toBeGreaterThanOrEqual(60);
    const sum = (k: string) => ts.body.data.reduce((a: number, b: any) => a + b[k], 0);
    expect([sum('succeeded'), sum('failed'), sum('retrying'), sum('total')]).toEqual([1, 1, 1, 3]);
  });
});

describe('event types and project defaults', () => {
  it('registers event types; strict_event_types refuses unregistered ones', async () => {
    const created = await t.api.post('/v1/event-types', { name: 'invoice.paid', description: 'An invoice was paid', schema: { type: 'object' } });
    expect(created.status).toBe(201);
    expect((await t.api.post('/v1/event-types', { name: 'invoice.paid' })).body.error.code).toBe('conflict');
    const badSchema = await t.api.post('/v1/event-types', { name: 'bad.schema', schema: { type: 'nope' } });
    expect(badSchema.status).toBe(400);
    expect(badSchema.body.error.details[0].field).toBe('schema');
    expect((await t.api.get('/v1/event-types')).body.data.map((e: any) => e.name)).toContain('invoice.paid');
    expect((await t.api.get('/v1/event-types/invoice.paid')).body.description).toBe('An invoice was paid');

    const project = (await t.api.get('/v1/projects')).body.data.find((p: any) => p.name === 'default');
    expect((await t.api.patch(`/v1/projects/${project.id}`, { strict_event_types: true })).body.strict_event_types).toBe(true);
    const refused = await t.api.post('/v1/messages', { event_type: 'unknown.type', payload: {} });
    expect(refused.status).toBe(400);
    expect((await t.api.post('/v1/messages', { event_type: 'invoice.paid', payload: {} })).status).toBe(202);
    await t.api.patch(`/v1/projects/${project.id}`, { strict_event_types: null });
    expect((await t.api.post('/v1/messages', { event_type: 'unknown.type', payload: {} })).status).toBe(202);
  });

  it("uses the project's retry_schedule when the endpoint has none", async () => {
    const project = (await t.api.get('/v1/projects')).body.data.find((p: any) => p.name === 'default');
    await t.api.patch(`/v1/projects/${project.id}`, { retry_schedule: [0.05, 0.05, 0.05, 0.05] });
    const rr = await t.receiver();
    rr.respondWith(503);
    const ep = (await t.api.post('/v1/endpoints', { url: rr.url, consumer_id: 'defaults' })).body;
    const m = (await t.api.post('/v1/messages', { event_type: 'd.t', payload: {}, endpoint_id: ep.id })).body;
    const d = await waitForDelivery(t.api, m.deliveries[0].id, ['failed']);
    expect(d.attempt_count).toBe(5);
    await t.api.patch(`/v1/projects/${project.id}`, { retry_schedule: null });
  });
});
