/**
 * One API and three worker processes on one PostgreSQL (each server has its own store, pool and
 * listener, as separate processes would): every message delivered once, fifo order, and
 * per-endpoint concurrency caps and rate limits that hold across all workers together.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { ADMIN_KEY, Client, startReceiver, testEnv, type Receiver } from './helpers.js';
import { createTestDatabase, TEST_MASTER_KEY, type TestDatabase } from './postgres.js';

describe('three workers on one PostgreSQL', () => {
  let database: TestDatabase;
  const servers: RunningServer[] = [];
  const receivers: Receiver[] = [];
  let api: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    const shared = {
      HOOKBRIDGE_DATABASE_URL: database.url,
      HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY,
      HOOKBRIDGE_ENDPOINT_CONCURRENCY: '2',
      HOOKBRIDGE_DB_POOL_SIZE: '4',
    };
    const start = async (role: string) => {
      const s = await startServer(loadConfig(testEnv({ ...shared, HOOKBRIDGE_ROLE: role })), { logger: createLogger('silent') });
      servers.push(s);
      return s;
    };
    api = new Client((await start('api')).url, ADMIN_KEY);
    for (let i = 0; i < 3; i++) await start('worker');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(receivers.map((r) => r.close()));
    await database?.drop();
  });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  async function endpoint(url: string, fields: Record<string, unknown> = {}): Promise<string> {
    const res = await api.post('/v1/endpoints', { url, ...fields });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function sendAll(endpointIds: string[], n: number, concurrency = 8): Promise<void> {
    let i = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (i < n) {
          const k = i++;
          const res = await api.post('/v1/messages', { event_type: 'm.t', payload: { k }, endpoint_id: endpointIds[k % endpointIds.length] });
          expect(res.status).toBe(202);
        }
      }),
    );
  }

  it('delivers 500 messages to 10 endpoints, each exactly once while receivers answer 200', async () => {
    const r = await receiver();
    const ids = [];
    for (let e = 0; e < 10; e++) ids.push(await endpoint(`${r.url}/${e}`));
    await sendAll(ids, 500);
    await r.waitForRequests(500, 30_000);
    await new Promise((res) => setTimeout(res, 500));
    const perMessage = new Map<string, number>();
    for (const q of r.requests) perMessage.set(q.headers['webhook-id'] as string, (perMessage.get(q.headers['webhook-id'] as string) ?? 0) + 1);
    expect(perMessage.size).toBe(500);
    expect([...perMessage.values()].every((n) => n === 1)).toBe(true);
  });

  it('keeps a fifo line in publish order across workers', async () => {
    const r = await receiver();
    const id = await endpoint(r.url, { ordering: 'fifo' });
    for (let k = 0; k < 30; k++) expect((await api.post('/v1/messages', { event_type: 'f.t', payload: { k }, endpoint_id: id })).status).toBe(202);
    await r.waitForRequests(30, 20_000);
    expect(r.requests.map((q) => JSON.parse(q.body).k)).toEqual(Array.from({ length: 30 }, (_, k) => k));
  });

  it('holds the per-endpoint concurrency cap across all workers together', async () => {
    const r = await receiver();
    let inFlight = 0;
    let most = 0;
    r.handle((_q, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end();
      }, 40);
    });
    const id = await endpoint(r.url);
    await sendAll([id], 40);
    await r.waitForRequests(40, 20_000);
    // 3 workers × 2 would be 6 if each enforced the cap only for itself
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBe(2);
  });

  it('never exceeds a 20/s rate limit by more than 10 % over any 10 s window', async () => {
    const r = await receiver();
    const id = await endpoint(r.url, { rate_limit_rps: 20 });
    await sendAll([id], 250, 16);
    await r.waitForRequests(250, 30_000);
    const times = r.requests.map((q) => q.at).sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0; i < times.length; i++) {
      let j = i;
      while (j < times.length && times[j] < times[i] + 10_000) j++;
      worst = Math.max(worst, j - i);
    }
    console.log(`[rate limit] busiest 10 s window: ${worst} requests (limit 200, ceiling 220); total ${((times.at(-1)! - times[0]) / 1000).toFixed(1)} s`);
    expect(worst).toBeLessThanOrEqual(220);
    // and the attempts were not used up by the limit
    const failed = await api.get(`/v1/deliveries?endpoint_id=${id}&status=failed`);
    expect(failed.body.data).toHaveLength(0);
  }, 60_000);
});
