/** One endpoint's trouble must not slow the others; fifo lines; rate limits that cost no attempts. */
import { describe, expect, it } from 'vitest';
import { useServer, waitForDelivery, waitUntil } from './helpers.js';

const t = useServer({ HOOKBRIDGE_ENDPOINT_CONCURRENCY: '4', HOOKBRIDGE_WORKER_CONCURRENCY: '16' });
const receiver = () => t.receiver();
const endpoint = async (url: string, extra: Record<string, unknown> = {}) => (await t.endpoint(url, extra)).id as string;
const send = (endpointId: string, payload: unknown = {}) => t.api.post('/v1/messages', { event_type: 't', payload, endpoint_id: endpointId });

describe('isolation', () => {
  it('a hanging receiver does not delay a healthy endpoint beyond its own timeout', async () => {
    const hanging = await receiver();
    hanging.handle(() => undefined); // never answers
    const healthy = await receiver();
    const slowId = await endpoint(hanging.url, { timeout_ms: 1000, retry_schedule: [0.1, 0.1] });
    const fastId = await endpoint(healthy.url);
    // More hanging work than the whole worker has slots for.
    await Promise.all(Array.from({ length: 40 }, (_, i) => send(slowId, { i })));
    await hanging.waitForRequests(1);
    const started = Date.now();
    const healthyMsgs = await Promise.all(Array.from({ length: 20 }, (_, i) => send(fastId, { i })));
    await healthy.waitForRequests(20, 5000);
    const latency = Date.now() - started;
    expect(latency).toBeLessThan(1000);
    for (const m of healthyMsgs) expect(m.status).toBe(202);
    // the hanging endpoint never had more than its cap in flight
    expect(hanging.connections).toBeLessThanOrEqual(4 * 3);
    const [timedOut] = (await t.api.get(`/v1/deliveries?endpoint_id=${slowId}&status=pending_retry&limit=1`)).body.data;
    if (timedOut) {
      const attempts = (await t.api.get(`/v1/deliveries/${timedOut.id}/attempts`)).body.data;
      expect(attempts[0].error_class).toBe('timeout');
      expect(attempts[0].duration_ms).toBeGreaterThanOrEqual(900);
      expect(attempts[0].duration_ms).toBeLessThan(3000);
    }
    await t.api.post(`/v1/endpoints/${slowId}/pause`);
  });

  it('a trickling 2xx body is cut at the timeout and still counts as success', async () => {
    const r = await receiver();
    r.handle((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('.'), 200);
      res.on('close', () => clearInterval(t));
    });
    const id = await endpoint(r.url, { timeout_ms: 1000 });
    const m = (await send(id)).body;
    const d = await waitForDelivery(t.api, m.deliveries[0].id, ['succeeded', 'pending_retry', 'failed'], 5000);
    expect(d.status).toBe('succeeded');
    const [a] = (await t.api.get(`/v1/deliveries/${d.id}/attempts`)).body.data;
    expect(a.response_truncated).toBe(true);
    expect(a.duration_ms).toBeLessThan(2500);
  });
});

describe('fifo ordering', () => {
  it('delivers one at a time in publish order; a failing head blocks the line until it succeeds', async () => {
    const r = await receiver();
    let inFlight = 0;
    let maxInFlight = 0;
    let failFirst = 2;
    r.handle((q, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        const n = JSON.parse(q.body).n;
        if (n === 0 && failFirst-- > 0) res.writeHead(503).end();
        else res.writeHead(200).end();
      }, 5);
    });
    const id = await endpoint(r.url, { ordering: 'fifo', retry_schedule: [0.2, 0.2, 0.2] });
    for (let n = 0; n < 10; n++) expect((await send(id, { n })).status).toBe(202);
    await waitUntil(() => r.requests.filter((q) => q.headers['x-hookbridge-attempt'] !== undefined).length >= 12, 10_000, '12 requests');
    await waitUntil(async () => (await t.api.get(`/v1/deliveries?endpoint_id=${id}&status=succeeded&limit=250`)).body.data.length === 10, 5000);
    const order = r.requests.map((q) => JSON.parse(q.body).n);
    expect(order).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(maxInFlight).toBe(1);
  });
});

describe('per-endpoint rate limit', () => {
  it('holds deliveries back without using up attempts', async () => {
    const r = await receiver();
    const id = await endpoint(r.url, { rate_limit_rps: 5, retry_schedule: [] });
    const started = Date.now();
    const msgs = await Promise.all(Array.from({ length: 12 }, (_, i) => send(id, { i })));
    await r.waitForRequests(12, 10_000);
    const elapsed = Date.now() - started;
    // 2 at once (half a second's burst), then 5 per second: 12 take at least ~2 s
    expect(elapsed).toBeGreaterThan(1800);
    for (const m of msgs) {
      const d = await waitForDelivery(t.api, m.body.deliveries[0].id, ['succeeded']);
      expect(d.attempt_count).toBe(1);
    }
  });
});
