/**
 * PostgreSQL goes away mid-run and comes back: the API says 503 (never 500, never a false 202),
 * /readyz fails and recovers, the process keeps running, and every acknowledged message is
 * delivered. Runs on a private cluster the test starts itself.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { ADMIN_KEY, Client, freePort, sleep, startReceiver, testEnv, waitUntil, type Receiver } from './helpers.js';
import { createPrivateCluster, PG_BIN, type PrivateCluster } from './private-postgres.js';

const available = PG_BIN !== undefined;
if (!available && process.env.CI === 'true') throw new Error('CI needs the PostgreSQL server binaries (initdb) for this test');

describe.runIf(available)('PostgreSQL outage', () => {
  let cluster: PrivateCluster;
  let server: RunningServer;
  let api: Client;
  let r: Receiver;

  beforeAll(async () => {
    cluster = createPrivateCluster(await freePort());
    r = await startReceiver();
    const env = testEnv({
      HOOKBRIDGE_DATABASE_URL: cluster.url,
      HOOKBRIDGE_MASTER_KEY: randomBytes(32).toString('base64'),
      HOOKBRIDGE_LEASE_SECONDS: '1',
    });
    server = await startServer(loadConfig(env), { logger: createLogger('silent') });
    api = new Client(server.url, ADMIN_KEY);
  }, 60_000);
  afterAll(async () => {
    await server?.close().catch(() => undefined);
    await r?.close();
    cluster?.destroy();
  });

  it('answers 503 while the database is down, recovers, and loses nothing acknowledged', async () => {
    // A short timeout keeps the lease short (2 × timeout + 10 s): deliveries claimed when the
    // database went away come back after it.
    const ep = (await api.post('/v1/endpoints', { url: r.url, timeout_ms: 1000, retry_schedule: [0.2, 0.5, 1, 1, 1] })).body;
    const acked = new Set<string>();
    const statuses = new Map<number, number>();
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        try {
          const res = await api.post('/v1/messages', { event_type: 'o.t', payload: { i }, endpoint_id: ep.id });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 202) acked.add(res.body.id);
        } catch {
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
        }
        await sleep(10);
      }
    })();

    await waitUntil(() => acked.size >= 30, 10_000, '30 acknowledged messages');
    cluster.stop('immediate');
    await waitUntil(async () => (await api.get('/readyz')).status === 503, 10_000, '/readyz to fail');
    const during = await api.post('/v1/messages', { event_type: 'o.t', payload: {}, endpoint_id: ep.id });
    expect(during.status).toBe(503);
    expect(during.body.error.code).toBe('store_unavailable');
    expect((await api.get('/healthz')).status).toBe(200);
    await sleep(1000);

    cluster.start();
    await waitUntil(async () => (await api.get('/readyz')).status === 200, 20_000, '/readyz to recover');
    await waitUntil(() => acked.size >= 60, 20_000, 'new messages to be acknowledged again');
    sending = false;
    await sender;

    expect(statuses.get(500) ?? 0).toBe(0);
    const received = () => new Set(r.requests.map((q) => q.headers['webhook-id'] as string));
    await waitUntil(() => [...acked].every((id) => received().has(id)), 45_000, 'every acknowledged message to arrive');
  }, 120_000);
});
