/**
 * Store contract tests, run once per dialect in DIALECTS (a matrix like Kysely's). Only the
 * embedded SQLite store exists yet; the PostgreSQL store joins this matrix when it lands.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENDPOINT_DEFAULTS, type EndpointInput } from '../src/store/endpoints.js';
import { hotQuery } from '../src/store/hot-query.js';
import { Store } from '../src/store/store.js';
import { tempDir } from './helpers.js';
import { createTestDatabase } from './postgres.js';

const DIALECTS = (process.env.DIALECTS ?? 'sqlite').split(',').map((d) => d.trim());

const dropAfter: Array<() => Promise<void>> = [];

async function openStore(dialect: string): Promise<Store> {
  const masterKey = randomBytes(32).toString('base64');
  if (dialect === 'sqlite') return Store.openEmbedded({ dataDir: tempDir(), masterKey });
  if (dialect === 'postgres') {
    const database = await createTestDatabase();
    dropAfter.push(database.drop);
    return Store.openPostgres({ dataDir: tempDir(), databaseUrl: database.url, masterKey });
  }
  throw new Error(`no store for dialect ${dialect}`);
}

const endpointInput = (over: Partial<EndpointInput> = {}): EndpointInput => ({ ...ENDPOINT_DEFAULTS, url: 'http://127.0.0.1:9/hook', ...over });

for (const dialect of DIALECTS) {
  describe(`store (${dialect})`, () => {
    let store: Store;
    let projectId: string;

    beforeEach(async () => {
      store = await openStore(dialect);
      projectId = (await store.projects.create('p')).id;
    });
    afterEach(async () => {
      await store.close();
      for (const drop of dropAfter.splice(0)) await drop();
    });

    const publish = (endpointId: string, n = 0) =>
      store.messages.publish(projectId, {
        eventType: 't',
        payload: JSON.stringify({ n }),
        consumerId: null,
        endpointId,
        broadcast: false,
        channels: null,
        idempotencyKey: null,
        requestHash: String(n),
      });

    const claim = (now: number, limit = 100, takeSlot = () => true) =>
      store.deliveries.claimDue({ now, limit, leaseMs: 30_000, defaultTimeoutMs: 10_000, endpointConcurrency: 100, excludeEndpointIds: [], takeSlot });

    it('hot queries compile once per shape and bind each value to its own slot', async () => {
      const insert = hotQuery((db, p: { id: string; name: string; settings: string; created_at: number }) => db.insertInto('projects').values({ ...p }));
      const byName = hotQuery((db, p: { name: string; after: number }) =>
        db.selectFrom('projects').select(['id', 'settings']).where('name', '=', p.name).where('created_at', '>', p.after).where('id', 'is not', null).orderBy('id'),
      );
      await insert(store.db, { id: 'p_hot_1', name: 'hot', settings: '{"a":1}', created_at: 10 });
      // Another key order is another shape: the values still land in their own columns.
      await insert(store.db, { created_at: 20, settings: '{"b":2}', name: 'hot', id: 'p_hot_2' });
      expect(await byName(store.db, { name: 'hot', after: 5 })).toEqual([
        { id: 'p_hot_1', settings: '{"a":1}' },
        { id: 'p_hot_2', settings: '{"b":2}' },
      ]);
      expect(await byName(store.db, { name: 'hot', after: 15 })).toEqual([{ id: 'p_hot_2', settings: '{"b":2}' }]);
      // Inside a transaction it runs on the transaction's connection.
      await store.db.transaction().execute(async (trx) => {
        await insert(trx, { id: 'p_hot_3', name: 'hot', settings: '{}', created_at: 30 });
        expect(await byName(trx, { name: 'hot', after: 25 })).toHaveLength(1);
      });
    });

    it('group-commits concurrent publishes, each durable and complete', async () => {
      const { endpoint } = await store.endpoints.create(projectId, endpointInput());
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => publish(endpoint.id, i)));
      expect(results.every((r) => r.kind === 'created')).toBe(true);
      const page = await store.deliveries.list(projectId, { endpointId: endpoint.id }, 250);
      expect(page.data).toHaveLength(50);
    });

    it('claims due work once, leases it, and gives it back when the lease runs out', async () => {
      const { endpoint } = await store.endpoints.create(projectId, endpointInput());
      for (let i = 0; i < 5; i++) await publish(endpoint.id, i);
      const now = Date.now();
      const first = await claim(now);
      expect(first).toHaveLength(5);
      expect(first[0]).toMatchObject({ endpointId: endpoint.id, attemptNumber: 1, url: endpoint.url });
      expect(JSON.parse(first[0].payload)).toEqual({ n: 0 });
      expect(await claim(now)).toHaveLength(0);
      expect((await store.deliveries.get(projectId, first[0].id))?.status).toBe('delivering');
      // a dead worker's claims come back after the lease (at least the endpoint timeout + 5 s)
      expect(await store.deliveries.releaseExpiredLeases(now + 10_000)).toBe(0);
      expect(await store.deliveries.releaseExpiredLeases(now + 30_001)).toBe(5);
      expect(await claim(now + 30_001)).toHaveLength(5);
    });

    it('never claims more than the caller has slots for, and nothing not yet due', async () => {
      const { endpoint } = await store.endpoints.create(projectId, endpointInput());
      for (let i = 0; i < 5; i++) await publish(endpoint.id, i);
      let slots = 2;
      const got = await claim(Date.now(), 100, () => slots-- > 0);
      expect(got).toHaveLength(2);
      expect(await claim(Date.now() - 60_000)).toHaveLength(0);
    });

    it('offers only the head of a fifo endpoint', async () => {
      const { endpoint } = await store.endpoints.create(projectId, endpointInput({ ordering: 'fifo' }));
      for (let i = 0; i < 3; i++) await publish(endpoint.id, i);
      const now = Date.now();
      const line = await store.deliveries.list(projectId, { endpointId: endpoint.id }, 10);
      // only the head is due; the rest wait for it without a due time
      expect(line.data.map((d) => d.nextAttemptAt === null)).toEqual([true, true, false]);
      const [head, ...rest] = await claim(now);
      expect(rest).toHaveLength(0);
      expect(JSON.parse(head.payload)).toEqual({ n: 0 });
      expect(await claim(now)).toHaveLength(0);
      expect(await store.deliveries.nextDueAt([])).toBeNull();
      await store.deliveries.recordAttempt({
        delivery: head,
        startedAt: now,
        durationMs: 3,
        statusCode: 200,
        errorClass: null,
        errorMessage: null,
        responseBody: 'ok',
        responseTruncated: false,
        decision: { kind: 'succeeded' },
        autoDisable: { afterSeconds: 0, minFailures: 20 },
      });
      const [next] = await claim(Date.now());
      expect(JSON.parse(next.payload)).toEqual({ n: 1 });
      // cancelling a waiting delivery moves nothing out of order; the line stays one at a time
      const third = (await store.deliveries.list(projectId, { endpointId: endpoint.id }, 10)).data[0];
      expect('ok' in (await store.deliveries.cancel(projectId, third.id))).toBe(true);
      expect(await claim(Date.now())).toHaveLength(0);
    });

    it('keeps signing secrets encrypted at rest', async () => {
      const { secret } = await store.endpoints.create(projectId, endpointInput());
      const rows = await store.db.selectFrom('endpoint_secrets').select('secret_enc').execute();
      expect(rows.some((r) => r.secret_enc.includes(secret.slice(6)))).toBe(false);
      const [endpointId] = (await store.db.selectFrom('endpoints').select('id').execute()).map((r) => r.id);
      expect((await store.endpoints.activeSecrets([endpointId], Date.now())).get(endpointId)).toEqual([secret]);
    });

    it('stores API keys hashed', async () => {
      const key = 'hb_live_' + randomBytes(16).toString('hex');
      await store.projects.createKey(projectId, key);
      const rows = await store.db.selectFrom('api_keys').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(key);
      expect((await store.projects.findKeyBySecret(key))?.projectId).toBe(projectId);
    });

    it('keeps inbound events apart, dedupes within the window, and purges held events past retention', async () => {
      const base = {
        destinationUrl: null, verification: { type: 'none' as const }, allowedCidrs: null, idempotencyHeaderNames: null, dedupeWindowSeconds: null,
        ingestResponseCode: 202, ordering: 'none' as const, timeoutMs: null, retrySchedule: null,
      };
      const { inbound: pull } = await store.inboundEndpoints.create(projectId, { ...base, name: 'pull', mode: 'pull', retentionSeconds: 60 });
      const accept = (key: string | null, windowMs = 60_000) =>
        store.inboundEvents.accept(pull, { headers: { a: 'b' }, body: Buffer.from([0xff, 0x00]), eventType: null, sourceIp: '127.0.0.1', dedupeKey: key, dedupeWindowMs: windowMs });
      const first = await accept('k1');
      expect(first.kind).toBe('created');
      expect(await accept('k1')).toEqual({ kind: 'duplicate', id: first.id });
      expect((await accept('k1', 0)).kind).toBe('created');
      expect((await accept(null)).kind).toBe('created');
      const held = await store.inboundEvents.pending(pull.id, null, 10, 0);
      expect(held.data).toHaveLength(3);
      expect(held.data[0]).toMatchObject({ body: Buffer.from([0xff, 0x00]).toString('base64'), bodyEncoding: 'base64' });
      // Inbound events are not outbound messages, and inbound endpoints not outbound endpoints.
      expect((await store.messages.list(projectId, {}, 50)).data).toEqual([]);
      expect((await store.endpoints.list(projectId, {}, 50)).data).toEqual([]);
      // A local result (hookbridge listen) is kept as a finished delivery with an attempt…
      expect(await store.inboundEvents.recordLocalResults(pull, [{ id: first.id, statusCode: 500, latencyMs: 7, error: null }])).toBe(1);
      const recorded = await store.inboundEvents.get(projectId, first.id);
      expect(recorded?.delivery).toMatchObject({ status: 'failed', attemptCount: 1, lastStatusCode: 500 });
      expect((await store.deliveries.attempts(projectId, recorded!.delivery!.id, 10)).data).toMatchObject([{ statusCode: 500, durationMs: 7, outcome: 'failed' }]);
      expect(await store.deliveries.replay(projectId, recorded!.delivery!.id)).toMatchObject({ error: 'invalid_state' });
      expect(await store.inboundEvents.purgeExpired(Date.now(), 3600)).toBe(0);
      // … and purged with its event.
      expect(await store.inboundEvents.purgeExpired(Date.now() + 61_000, 3600)).toBe(3);
      expect(await store.db.selectFrom('attempts').select('id').where('endpoint_id', '=', pull.id).execute()).toEqual([]);
      expect((await store.inboundEvents.pending(pull.id, null, 10, 0)).data).toEqual([]);
    });
  });
}
