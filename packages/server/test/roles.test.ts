/**
 * API and worker in separate processes on one PostgreSQL: the worker is woken through
 * LISTEN/NOTIFY (its safety-net poll is 60 s here, so only the signal can explain a prompt delivery).
 * Each server gets its own store, pool and listener, exactly as separate processes would.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapIfEmpty } from '../src/bootstrap.js';
import { Store } from '../src/store/store.js';
import { ADMIN_KEY, Client, useApiAndWorker } from './helpers.js';
import { createTestDatabase, TEST_MASTER_KEY } from './postgres.js';

describe('--role api and --role worker on one PostgreSQL', () => {
  const servers = useApiAndWorker({ HOOKBRIDGE_POLL_INTERVAL_MS: '60000' });

  it('delivers promptly what the API process accepted', async () => {
    const { api, receiver: r } = servers;
    expect(api.worker).toBeNull();
    const client = new Client(api.url, ADMIN_KEY);
    const ep = (await client.post('/v1/endpoints', { url: r.url })).body;
    const started = Date.now();
    for (let i = 0; i < 5; i++) expect((await client.post('/v1/messages', { event_type: 'r.t', payload: { i }, endpoint_id: ep.id })).status).toBe(202);
    await r.waitForRequests(5, 5000);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a worker process serves health checks only', async () => {
    const { worker } = servers;
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
