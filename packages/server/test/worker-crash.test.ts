/**
 * Separate worker processes on one PostgreSQL; one is killed with SIGKILL mid-run. What it had
 * claimed comes back when its lease runs out and the other worker delivers it: nothing lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { ADMIN_KEY, Client, freePort, spawnServer, startReceiver, testEnv, waitUntil, type ChildServer, type Receiver } from './helpers.js';
import { createTestDatabase, TEST_MASTER_KEY, type TestDatabase } from './postgres.js';

describe('a worker process killed mid-run', () => {
  let database: TestDatabase;
  let api: RunningServer;
  const workers: ChildServer[] = [];
  let r: Receiver;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Lease = max(1 s, 2 × endpoint timeout (1 s) + 10 s) = 12 s: the wait before takeover.
    const shared = { HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY, HOOKBRIDGE_LEASE_SECONDS: '1', HOOKBRIDGE_POLL_INTERVAL_MS: '500' };
    api = await startServer(loadConfig(testEnv({ ...shared, HOOKBRIDGE_ROLE: 'api' })), { logger: createLogger('silent') });
    for (let i = 0; i < 2; i++) workers.push(await spawnServer(testEnv({ ...shared, HOOKBRIDGE_ROLE: 'worker' }), await freePort()));
    r = await startReceiver();
  }, 60_000);
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await api?.close();
    await r?.close();
    await database?.drop();
  });

  it('delivers everything acknowledged, the dead worker’s claims after their lease', async () => {
    // Slow answers keep deliveries claimed (in flight or waiting in a worker) when the kill comes.
    r.handle((_q, res) => setTimeout(() => res.writeHead(200).end(), 20));
    const client = new Client(api.url, ADMIN_KEY);
    const ep = (await client.post('/v1/endpoints', { url: r.url, timeout_ms: 1000, retry_schedule: [0.5, 1, 2, 4] })).body;
    const acked: string[] = [];
    for (let i = 0; i < 300; i++) {
      const res = await client.post('/v1/messages', { event_type: 'k.t', payload: { i }, endpoint_id: ep.id });
      expect(res.status).toBe(202);
      acked.push(res.body.id);
      if (i === 150) {
        await waitUntil(() => r.requests.length >= 20, 10_000, 'deliveries under way');
        workers[0].child.kill('SIGKILL');
        expect(await workers[0].exited).toBe('SIGKILL');
      }
    }
    const received = () => new Set(r.requests.map((q) => q.headers['webhook-id'] as string));
    await waitUntil(() => acked.every((id) => received().has(id)), 40_000, 'every acknowledged message to arrive');
    // What the dead worker held but never recorded is taken over once its lease ran out.
    const countSucceeded = async () => {
      let n = 0;
      let cursor: string | null = null;
      do {
        const page: { body: { data: unknown[]; next_cursor: string | null } } = await client.get(
          `/v1/deliveries?endpoint_id=${ep.id}&status=succeeded&limit=250${cursor ? `&cursor=${cursor}` : ''}`,
        );
        n += page.body.data.length;
        cursor = page.body.next_cursor;
      } while (cursor);
      return n;
    };
    await waitUntil(async () => (await countSucceeded()) === acked.length, 45_000, 'every delivery to succeed');
    expect((await client.get(`/v1/deliveries?endpoint_id=${ep.id}&status=delivering`)).body.data).toHaveLength(0);
    console.log(`[worker crash] ${acked.length} acknowledged, ${r.requests.length - received().size} duplicates`);
  }, 90_000);
});
