/** The metrics routes behind the console's dashboard: the backlog and the endpoints failing most. */
import { beforeAll, describe, expect, it } from 'vitest';
import { createProject, expectApiError, type Receiver, type TestProject, useServer, waitForDelivery, waitUntil } from './helpers.js';

const t = useServer();
let r: Receiver;

beforeAll(async () => {
  r = await t.receiver();
});

async function endpoint(p: TestProject, fields: Record<string, unknown>): Promise<any> {
  const res = await p.api.post('/v1/endpoints', { url: r.url, ...fields });
  expect(res.status).toBe(201);
  return res.body;
}

async function paused(p: TestProject): Promise<any> {
  const ep = await endpoint(p, {});
  expect((await p.api.post(`/v1/endpoints/${ep.id}/pause`)).status).toBe(200);
  return ep;
}

async function send(p: TestProject, endpointId: string): Promise<string> {
  const res = await p.api.post('/v1/messages', { event_type: 'dash.t', payload: {}, endpoint_id: endpointId });
  expect(res.status).toBe(202);
  return res.body.deliveries[0].id;
}

/** Forwarding deliveries of an inbound endpoint are not the outbound backlog nor outbound endpoints. */
async function failedInboundForward(p: TestProject): Promise<void> {
  const rejecting = await t.receiver();
  rejecting.respondWith(400);
  const inbound = await p.api.post('/v1/inbound-endpoints', { name: 'in', mode: 'forward', verification: { type: 'none' }, destination_url: rejecting.url, retry_schedule: [] });
  expect(inbound.status).toBe(201);
  expect((await fetch(inbound.body.ingest_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(202);
  await waitUntil(async () => {
    const rows = await t.server.store.db.selectFrom('deliveries').select('status').where('endpoint_id', '=', inbound.body.id).execute();
    return rows.length === 1 && rows[0].status === 'failed';
  }, 10_000, 'the inbound forward to fail');
}

describe('GET /v1/metrics/backlog', () => {
  it("counts the project's outbound deliveries by where they stand", async () => {
    const p = await createProject(t.api, 'dash-backlog');
    expect((await p.api.get('/v1/metrics/backlog')).body).toEqual({ due: 0, scheduled: 0, delivering: 0, paused: 0, failed: 0 });

    // A paused endpoint: the worker claims none of its deliveries, so the states set below stay.
    const ep = await paused(p);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await send(p, ep.id));
    const now = Date.now();
    const set = (id: string, row: Record<string, unknown>) => t.server.store.db.updateTable('deliveries').set(row).where('id', '=', id).execute();
    await set(ids[0], { status: 'queued', next_attempt_at: now - 1000 });
    await set(ids[1], { status: 'queued', next_attempt_at: now - 1 });
    await set(ids[2], { status: 'pending_retry', next_attempt_at: now - 10 });
    await set(ids[3], { status: 'pending_retry', next_attempt_at: now + 3600_000 });
    await set(ids[4], { status: 'queued', next_attempt_at: null }); // behind the head of a fifo line
    await set(ids[5], { status: 'delivering', lease_expires_at: now + 3600_000 });
    // ids[6] stays paused; one more failed for good:
    const failing = await endpoint(p, { retry_schedule: [] });
    r.respondWith(400);
    await waitForDelivery(p.api, await send(p, failing.id), ['failed']);
    await failedInboundForward(p);
    // Another project's backlog is its own.
    const other = await createProject(t.api, 'dash-backlog-other');
    await send(other, (await paused(other)).id);

    const res = await p.api.get('/v1/metrics/backlog');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ due: 3, scheduled: 2, delivering: 1, paused: 1, failed: 1 });
    expect((await other.api.get('/v1/metrics/backlog')).body).toEqual({ due: 0, scheduled: 0, delivering: 0, paused: 1, failed: 0 });
    // The Prometheus gauges read the same query store-wide: the inbound forward is in them.
    expect(await t.server.store.metrics.backlog(Date.now())).toMatchObject({ delivering: 1, failed: 2 });
  });

  it('needs an API key', async () => {
    expectApiError(await t.api.withKey(undefined).get('/v1/metrics/backlog'), 401, 'unauthorized');
  });
});

describe('GET /v1/metrics/endpoints', () => {
  it('lists outbound endpoints by failed attempts, with success rate and latency', async () => {
    const p = await createProject(t.api, 'dash-endpoints');
    const ok = await endpoint(p, { url: `${r.url}/ok` });
    const bad = await endpoint(p, { url: `${r.url}/bad`, retry_schedule: [0.05] });
    const flaky = await endpoint(p, { url: `${r.url}/flaky`, retry_schedule: [0.05] });
    const idle = await endpoint(p, { url: `${r.url}/idle` });
    const gone = await endpoint(p, { url: `${r.url}/gone` });
    let flakyAnswered = 0;
    r.handle((req, res) => {
      const status = req.url.endsWith('/bad') ? 500 : req.url.endsWith('/flaky') && !flakyAnswered++ ? 503 : 200;
      res.writeHead(status).end();
    });
    for (const id of [await send(p, ok.id), await send(p, ok.id)]) await waitForDelivery(p.api, id, ['succeeded']);
    await waitForDelivery(p.api, await send(p, bad.id), ['failed']);
    await waitForDelivery(p.api, await send(p, flaky.id), ['succeeded']);
    expect((await p.api.delete(`/v1/endpoints/${gone.id}`)).status).toBe(204);
    await failedInboundForward(p);

    const res = await p.api.get('/v1/metrics/endpoints?window=1h');
    expect(res.status).toBe(200);
    expect(res.body.window).toBe('1h');
    const rows = res.body.data;
    expect(rows.map((e: any) => e.endpoint_id)).toEqual([bad.id, flaky.id, ok.id, idle.id]);
    expect(rows[0]).toMatchObject({ url: `${r.url}/bad`, status: 'active', attempts: 2, succeeded: 0, failed: 2, success_rate: 0 });
    expect(rows[1]).toMatchObject({ attempts: 2, succeeded: 1, failed: 1, success_rate: 0.5 });
    expect(rows[2]).toMatchObject({ attempts: 2, succeeded: 2, failed: 0, success_rate: 1 });
    expect(rows[2].avg_latency_ms).toBeGreaterThanOrEqual(0);
    expect(rows[3]).toEqual({ endpoint_id: idle.id, url: `${r.url}/idle`, status: 'active', attempts: 0, succeeded: 0, failed: 0, success_rate: null, avg_latency_ms: null });

    expect((await p.api.get('/v1/metrics/endpoints?limit=1')).body).toMatchObject({ window: '24h', data: [{ endpoint_id: bad.id }] });
    // Only the caller's project.
    const other = await createProject(t.api, 'dash-endpoints-other');
    expect((await other.api.get('/v1/metrics/endpoints')).body.data).toEqual([]);
    expectApiError(await p.api.get('/v1/metrics/endpoints?window=2h'), 400, 'invalid_request');
    expectApiError(await p.api.get('/v1/metrics/endpoints?limit=0'), 400, 'invalid_request');
  });
});
