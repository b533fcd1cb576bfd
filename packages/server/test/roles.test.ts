/**
 * API and worker in separate processes on one PostgreSQL: the worker is woken through
 * LISTEN/NOTIFY (its safety-net poll is 60 s here, so only the signal can explain a prompt delivery).
 * Each server gets its own store, pool and listener, exactly as separate processes would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapIfEmpty } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { Store } from '../src/store/store.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { ADMIN_KEY, Client, startReceiver, testEnv, type Receiver } from './helpers.js';
import { createTestDatabase, TEST_MASTER_KEY, type TestDatabase } from './postgres.js';

describe('--role api and --role worker on one PostgreSQL', () => {
  let database: TestDatabase;
  let api: RunningServer;
  let worker: RunningServer;
  let r: Receiver;

  beforeAll(async () => {
    database = await createTestDatabase();
    const shared = { HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY, HOOKBRIDGE_POLL_INTERVAL_MS: '60000' };
    api = await startServer(loadConfig(testEnv({ ...shared, HOOKBRIDGE_ROLE: 'api' })), { logger: createLogger('silent') });
    worker = await startServer(loadConfig(testEnv({ ...shared, HOOKBRIDGE_ROLE: 'worker' })), { logger: createLogger('silent') });
    r = await startReceiver();
  });
  afterAll(async () => {
    await api?.close();
    await worker?.close();
    await r?.close();
    await database?.drop();
  });

  it('delivers promptly what the API process accepted', async () => {
    expect(api.worker).toBeNull();
    const client = new Client(api.url, ADMIN_KEY);
    const ep = (await client.post('/v1/endpoints', { url: r.url })).body;
    const started = Date.now();
    for (let i = 0; i < 5; i++) expect((await client.post('/v1/messages', { event_type: 'r.t', payload: { i }, endpoint_id: ep.id })).status).toBe(202);
    await r.waitForRequests(5, 5000);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a worker process serves health checks only', async () => {
    const client = new Client(worker.url, ADMIN_KEY);
    expect((await client.get('/readyz')).status).toBe(200);
    expect((await client.get('/v1/endpoints')).status).toBe(404);
  });
});

describe('several processes starting on an empty database', () => {
  it('bootstrap exactly one default project between them', async () => {
    const database = await createTestDatabase();
    try {
      const stores = await Promise.all([0, 1, 2].map(() => Store.openPostgres({ dataDir: '.', databaseUrl: database.url, masterKey: TEST_MASTER_KEY })));
      const results = await Promise.all(stores.map((s, i) => bootstrapIfEmpty(s, `hb_test_concurrent_bootstrap_key_${i}`)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(await stores[0].projects.count()).toBe(1);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await database.drop();
    }
  });
});
