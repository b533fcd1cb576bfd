/**
 * The worker with a long safety-net poll (60 s): everything here must happen because the worker
 * is woken at the right moments, never because a poll came round.
 */
import { describe, expect, it } from 'vitest';
import { sleep, useServer, waitForDelivery, waitUntil } from './helpers.js';

const t = useServer({ HOOKBRIDGE_POLL_INTERVAL_MS: '60000', HOOKBRIDGE_ENDPOINT_CONCURRENCY: '2' });
const receiver = () => t.receiver();
const endpoint = async (url: string, extra: Record<string, unknown> = {}) => (await t.endpoint(url, extra)).id as string;
const send = (endpointId: string, payload: unknown = {}) => t.send(endpointId, payload);

describe('wake-ups (poll interval 60 s)', () => {
  it('moves a fifo line as soon as each head is recorded', async () => {
    const r = await receiver();
    const id = await endpoint(r.url, { ordering: 'fifo' });
    for (let n = 0; n < 10; n++) await send(id, { n });
    await r.waitForRequests(10, 3000);
    expect(r.requests.map((q) => JSON.parse(q.body).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('sends short retries when they are due', async () => {
    const r = await receiver();
    r.respondWith(503, 503, 200);
    const id = await endpoint(r.url, { retry_schedule: [0.1, 0.1] });
    const m = await send(id);
    await waitForDelivery(t.api, m.deliveries[0].id, ['succeeded'], 3000);
    const gaps = [r.requests[1].at - r.requests[0].at, r.requests[2].at - r.requests[1].at];
    for (const gap of gaps) expect(gap).toBeLessThan(600);
  });

  it('a rate-limited endpoint whose line is full does not hide other endpoints’ work', async () => {
    const hanging = await receiver();
    hanging.handle(() => undefined);
    const healthy = await receiver();
    const slow = await endpoint(hanging.url, { rate_limit_rps: 1000, timeout_ms: 5000 });
    const fast = await endpoint(healthy.url);
    await Promise.all(Array.from({ length: 150 }, (_, i) => send(slow, { i })));
    await hanging.waitForRequests(1);
    const started = Date.now();
    await send(fast, { hello: 1 });
    await healthy.waitForRequests(1, 3000);
    expect(Date.now() - started).toBeLessThan(1000);
    // the event loop stays responsive: API calls answer quickly meanwhile
    const before = Date.now();
    expect((await t.api.get('/healthz')).status).toBe(200);
    expect(Date.now() - before).toBeLessThan(200);
    await t.api.post(`/v1/endpoints/${slow}/pause`);
  });
});

describe('pausing while deliveries are claimed ahead', () => {
  it('sends nothing more after the pause (only the request on the wire ends), and everything after resume', async () => {
    const r = await receiver();
    r.handle((_q, res) => setTimeout(() => res.writeHead(200).end(), 300));
    const id = await endpoint(r.url);
    const msgs: any[] = [];
    for (let i = 0; i < 6; i++) msgs.push(await send(id, { i }));
    await r.waitForRequests(1);
    const paused = await t.api.post(`/v1/endpoints/${id}/pause`);
    expect(paused.body.status).toBe('paused');
    const atPause = r.requests.length;
    await sleep(800);
    expect(r.requests.length).toBe(atPause); // at most the requests already on the wire
    const statuses = await Promise.all(msgs.map(async (m) => (await t.api.get(`/v1/deliveries/${m.deliveries[0].id}`)).body.status));
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(atPause);
    expect(statuses.filter((s) => s === 'paused')).toHaveLength(6 - atPause);

    await t.api.post(`/v1/endpoints/${id}/resume`);
    await r.waitForRequests(6, 5000);
    for (const m of msgs) await waitForDelivery(t.api, m.deliveries[0].id, ['succeeded']);
  });

  it('deleting an endpoint cancels what it had claimed ahead', async () => {
    const r = await receiver();
    r.handle((_q, res) => setTimeout(() => res.writeHead(200).end(), 300));
    const id = await endpoint(r.url);
    const msgs: any[] = [];
    for (let i = 0; i < 5; i++) msgs.push(await send(id, { i }));
    await r.waitForRequests(1);
    expect((await t.api.delete(`/v1/endpoints/${id}`)).status).toBe(204);
    const atDelete = r.requests.length;
    await sleep(800);
    expect(r.requests.length).toBe(atDelete);
    await waitUntil(async () => {
      const statuses = await Promise.all(msgs.map(async (m) => (await t.api.get(`/v1/deliveries/${m.deliveries[0].id}`)).body.status));
      return statuses.filter((s) => s === 'cancelled').length === 5 - atDelete;
    }, 3000);
  });
});
