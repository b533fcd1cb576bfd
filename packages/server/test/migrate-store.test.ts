/**
 * Moving a deployment from the embedded store to PostgreSQL: keys keep working, endpoints keep
 * their signing secrets, and what was still to deliver is delivered by the new deployment.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { copyStore } from '../src/store/copy-store.js';
import { Store } from '../src/store/store.js';
import { ADMIN_KEY, Client, startReceiver, testEnv, waitForDelivery, type Receiver } from './helpers.js';
import { createTestDatabase, TEST_MASTER_KEY, type TestDatabase } from './postgres.js';

describe('embedded store → PostgreSQL', () => {
  let database: TestDatabase | undefined;
  let target: RunningServer | undefined;
  const receivers: Receiver[] = [];
  afterAll(async () => {
    await target?.close();
    await Promise.all(receivers.map((r) => r.close()));
    await database?.drop();
  });

  it('copies projects, keys, endpoints with their secrets, and undelivered messages', async () => {
    const r = await startReceiver();
    receivers.push(r);
    // The source is always the embedded store, whatever store this pass tests.
    const sourceConfig = loadConfig(testEnv());
    const source = await startServer(sourceConfig, { logger: createLogger('silent') });
    const api = new Client(source.url, ADMIN_KEY);
    const projectB = (await api.post('/v1/projects', { name: 'b' })).body;
    const keyB = (await api.post(`/v1/projects/${projectB.id}/api-keys`, { label: 'b' })).body.key as string;
    const done = (await api.post('/v1/endpoints', { url: `${r.url}/done` })).body;
    for (let i = 0; i < 2; i++) {
      const m = (await api.post('/v1/messages', { event_type: 's.t', payload: { i }, endpoint_id: done.id })).body;
      await waitForDelivery(api, m.deliveries[0].id, ['succeeded']);
    }
    const waiting = (await api.post('/v1/endpoints', { url: `${r.url}/waiting`, ordering: 'fifo' })).body;
    await api.post(`/v1/endpoints/${waiting.id}/pause`);
    const pending = [];
    for (let i = 0; i < 3; i++) pending.push((await api.post('/v1/messages', { event_type: 'w.t', payload: { i }, endpoint_id: waiting.id })).body.id);
    const pull = (await api.post('/v1/inbound-endpoints', { name: 'p', mode: 'pull', verification: { type: 'token', secret: 'pull-token-1' } })).body;
    const ingested = await fetch(pull.ingest_url, { method: 'POST', headers: { authorization: 'Bearer pull-token-1' }, body: 'held' });
    const heldId = ((await ingested.json()) as any).id;
    await source.close();

    database = await createTestDatabase();
    const from = await Store.openEmbedded({ dataDir: sourceConfig.dataDir });
    const to = await Store.openPostgres({ dataDir: sourceConfig.dataDir, databaseUrl: database.url, masterKey: TEST_MASTER_KEY });
    const report = await copyStore(from, to);
    expect(report).toMatchObject({ projects: 2, apiKeys: 2, endpoints: 3, inboundEndpoints: 1, secrets: 3, messages: 4, deliveries: 3, finishedDeliveriesLeft: 2 });
    await expect(copyStore(from, to)).rejects.toThrow(/not empty/);
    await from.close();
    await to.close();

    const env = testEnv({ HOOKBRIDGE_DATABASE_URL: database.url, HOOKBRIDGE_MASTER_KEY: TEST_MASTER_KEY, HOOKBRIDGE_BOOTSTRAP_API_KEY: 'hb_test_not_used_because_the_store_has_projects' });
    target = await startServer(loadConfig(env), { logger: createLogger('silent') });
    expect(target.bootstrap.created).toBe(false);
    const admin = new Client(target.url, ADMIN_KEY);
    expect((await new Client(target.url, keyB).get('/v1/endpoints')).status).toBe(200);
    expect((await admin.get('/v1/endpoints')).body.data.map((e: any) => e.id).sort()).toEqual([done.id, waiting.id].sort());

    // The inbound endpoint still verifies with its (re-sealed) token and still holds its event.
    const held = await admin.get(`/v1/inbound-endpoints/${pull.id}/events`);
    expect(held.body.data.map((e: any) => [e.id, e.body])).toEqual([[heldId, 'held']]);
    const targetIngest = `${target.url}/in/${pull.id}`;
    expect((await fetch(targetIngest, { method: 'POST', headers: { authorization: 'Bearer pull-token-1' }, body: 'x' })).status).toBe(202);
    expect((await fetch(targetIngest, { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: 'x' })).status).toBe(401);

    const before = r.requests.length;
    expect((await admin.post(`/v1/endpoints/${waiting.id}/resume`)).status).toBe(200);
    await r.waitForRequests(before + 3, 10_000);
    const arrived = r.requests.slice(before);
    expect(arrived.map((q) => q.headers['webhook-id'])).toEqual(pending);
    for (const q of arrived) expect(() => new Webhook(waiting.signing_secret).verify(q.body, q.headers as Record<string, string>)).not.toThrow();
  }, 60_000);
});
