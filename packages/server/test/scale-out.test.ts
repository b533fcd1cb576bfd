/**
 * The scale-out acceptance, with real processes: two API and three worker processes on
 * one PostgreSQL, 5,000 messages to 10 endpoints, each delivered, none attempted twice while
 * its receiver answers 200.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, Client, freePort, spawnServer, startReceiver, testEnv, type ChildServer, type Receiver } from './helpers.js';
import { createTestDatabase, TEST_MASTER_KEY, type TestDatabase } from './postgres.js';

const MESSAGES = 5000;

describe('2 API + 3 worker processes on one PostgreSQL', () => {
  let database: TestDatabase;
  const apis: ChildServer[] = [];
  const workers: ChildServer[] = [];
  let r: Receiver;

  beforeAll(async () => {
    database = await createTestDatabase();
    const shared = { HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY, HOOKBRIDGE_DB_POOL_SIZE: '4' };
    // The first API process creates the schema and bootstraps; the others start after it.
    for (let i = 0; i < 2; i++) apis.push(await spawnServer(testEnv({ ...shared, HOOKBRIDGE_ROLE: 'api' }), await freePort()));
    for (let i = 0; i < 3; i++) workers.push(await spawnServer(testEnv({ ...shared, HOOKBRIDGE_ROLE: 'worker' }), await freePort()));
    r = await startReceiver();
  }, 60_000);
  afterAll(async () => {
    for (const p of [...apis, ...workers]) p.child.kill('SIGKILL');
    await r?.close();
    await database?.drop();
  });

  it(`delivers ${MESSAGES} messages to 10 endpoints exactly once`, async () => {
    const clients = apis.map((a) => new Client(a.url, ADMIN_KEY));
    const endpoints: string[] = [];
    for (let e = 0; e < 10; e++) endpoints.push((await clients[0].post('/v1/endpoints', { url: `${r.url}/${e}` })).body.id);
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        while (next < MESSAGES) {
          const k = next++;
          const res = await clients[c % 2].post('/v1/messages', { event_type: 'scale.t', payload: { k }, endpoint_id: endpoints[k % 10] });
          expect(res.status).toBe(202);
        }
      }),
    );
    await r.waitForRequests(MESSAGES, 120_000);
    await new Promise((res) => setTimeout(res, 1000));
    const seen = new Map<string, number>();
    for (const q of r.requests) seen.set(q.headers['webhook-id'] as string, (seen.get(q.headers['webhook-id'] as string) ?? 0) + 1);
    expect(seen.size).toBe(MESSAGES);
    expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
    const perEndpoint = new Map<string, number>();
    for (const q of r.requests) perEndpoint.set(q.url, (perEndpoint.get(q.url) ?? 0) + 1);
    expect([...perEndpoint.values()]).toEqual(Array(10).fill(MESSAGES / 10));
    console.log(`[scale-out] ${MESSAGES} messages through 2 API + 3 worker processes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 180_000);
});
