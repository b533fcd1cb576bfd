/**
 * Receiver outage: first nothing listens on the endpoint's port (connection refused), then it
 * answers 503 for a while, then it is healthy. Everything published during the outage is
 * delivered afterwards, none is lost or failed, and a `fifo` endpoint receives its messages in
 * publish order (only the head of the line is ever retried; nothing overtakes it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sleep, startReceiver, startTestServer, waitUntil, type TestServer } from '../test/helpers.js';
import { numberFromEnv, TEST_STORE, waitForQuiet, writeFigures } from './fleet.js';

const MESSAGES = numberFromEnv('HOOKBRIDGE_RESILIENCE_OUTAGE_MESSAGES', 200);
const REFUSED_MS = 3000;
const UNAVAILABLE_MS = 3000;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

interface Arrival {
  path: string;
  n: number;
  status: number;
}

describe(`receiver outage (${TEST_STORE})`, () => {
  it('delivers everything published while the receiver refused connections and then answered 503, fifo in order', async () => {
    const port = await freePort(); // nothing listens here yet: connection refused
    const base = `http://127.0.0.1:${port}`;
    // Quick retries, then slower ones: ~32 s in all, long enough to outlast the outage however
    // slowly the publishing goes on a busy machine (50 entries is the most allowed).
    const retry_schedule = Array.from({ length: 50 }, (_, i) => (i < 25 ? 0.3 : 1));
    const fifo = (await server.api.post('/v1/endpoints', { url: `${base}/fifo`, ordering: 'fifo', retry_schedule })).body;
    const unordered = (await server.api.post('/v1/endpoints', { url: `${base}/unordered`, retry_schedule })).body;
    expect(fifo.id && unordered.id).toBeTruthy();

    const outageStart = Date.now();
    for (let n = 0; n < MESSAGES; n++) {
      for (const ep of [fifo, unordered]) {
        const res = await server.api.post('/v1/messages', { event_type: 'outage.test', payload: { n }, endpoint_id: ep.id });
        expect(res.status).toBe(202);
      }
    }
    // Both endpoints have tried and been refused by now.
    await waitUntil(
      async () => {
        const page = (await server.api.get(`/v1/deliveries?endpoint_id=${fifo.id}&status=pending_retry&limit=1`)).body.data;
        return page.length > 0;
      },
      10_000,
      'a refused attempt',
    );
    await sleep(Math.max(0, REFUSED_MS - (Date.now() - outageStart)));

    const arrivals: Arrival[] = [];
    let healthy = false;
    const receiver = await startReceiver(port);
    receiver.handle((req, res) => {
      const status = healthy ? 200 : 503;
      arrivals.push({ path: new URL(req.url, 'http://x').pathname, n: JSON.parse(req.body).n, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'unavailable');
    });
    try {
      await sleep(UNAVAILABLE_MS);
      healthy = true;
      const upAt = Date.now();
      const ok = (path: string) => new Set(arrivals.filter((a) => a.path === path && a.status === 200).map((a) => a.n));
      await waitUntil(() => ok('/fifo').size === MESSAGES && ok('/unordered').size === MESSAGES, 60_000, 'every message delivered after the outage').catch(async (e) => {
        const counts: Record<string, number> = {};
        for (const st of ['failed', 'pending_retry', 'queued', 'delivering', 'succeeded']) counts[st] = (await server.api.get(`/v1/deliveries?status=${st}&limit=250`)).body.data.length;
        throw new Error(`${e.message}: fifo ${ok('/fifo').size}, unordered ${ok('/unordered').size} of ${MESSAGES}; deliveries ${JSON.stringify(counts)}; ${arrivals.length} arrivals`);
      });
      const recoveredMs = Date.now() - upAt;
      await waitForQuiet(server.api, 10_000);
      for (const status of ['failed', 'pending_retry', 'queued', 'delivering']) {
        expect((await server.api.get(`/v1/deliveries?status=${status}&limit=1`)).body.data, status).toEqual([]);
      }

      // fifo: arrivals never go backwards, a message is repeated only while it was the failing
      // head, and each succeeds exactly once.
      const fifoArrivals = arrivals.filter((a) => a.path === '/fifo');
      for (let i = 1; i < fifoArrivals.length; i++) {
        expect(fifoArrivals[i].n, `fifo arrival ${i} after ${fifoArrivals[i - 1].n}`).toBeGreaterThanOrEqual(fifoArrivals[i - 1].n);
        if (fifoArrivals[i].n !== fifoArrivals[i - 1].n) expect(fifoArrivals[i - 1].status, 'moved on before the head succeeded').toBe(200);
      }
      expect(fifoArrivals.filter((a) => a.status === 200).map((a) => a.n)).toEqual(Array.from({ length: MESSAGES }, (_, n) => n));

      // The attempt log tells the story: refused connections, then 503s, then success.
      const headId = (await server.api.get(`/v1/deliveries?endpoint_id=${fifo.id}&limit=250`)).body.data.find((d: any) => d.attempt_count > 2)?.id;
      expect(headId, 'a fifo delivery retried through the outage').toBeTruthy();
      const attempts = (await server.api.get(`/v1/deliveries/${headId}/attempts?limit=100`)).body.data;
      const kinds = new Set(attempts.map((a: any) => a.error_class ?? a.status_code));
      expect(kinds.has('connect_error'), JSON.stringify([...kinds])).toBe(true);
      expect(kinds.has(503), JSON.stringify([...kinds])).toBe(true);
      expect(kinds.has(200), JSON.stringify([...kinds])).toBe(true);

      writeFigures('outage', {
        messages: MESSAGES * 2,
        refused_seconds: REFUSED_MS / 1000,
        unavailable_seconds: UNAVAILABLE_MS / 1000,
        answered_503: arrivals.filter((a) => a.status === 503).length,
        delivered_after_recovery_seconds: Math.round(recoveredMs / 100) / 10,
        lost: 0,
        fifo_out_of_order: 0,
      });
    } finally {
      await receiver.close();
    }
  });
});
