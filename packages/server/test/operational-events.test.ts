/**
 * Operational webhooks (hookbridge.*) end to end: real loopback receivers subscribe, the
 * standardwebhooks library checks each event's signature with the subscriber's secret, and the
 * deliveries API shows exactly who got an event — never the endpoint it is about, never an
 * endpoint without a filter, never another customer's endpoint.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { summarizeInboundRejections } from '../src/ops/inbound-rejected-summary.js';
import { ENDPOINT_DEFAULTS } from '../src/store/endpoints.js';
import { Store } from '../src/store/store.js';
import { createProject, expectApiError, tempDir, useServer, waitForDelivery, waitUntil, type Client, type ReceivedRequest, type Receiver } from './helpers.js';
import { createTestDatabase, TEST_MASTER_KEY, TEST_STORE } from './postgres.js';

// A short summary period, so hookbridge.inbound.rejected comes within the test's patience.
const t = useServer({ HOOKBRIDGE_INBOUND_REJECTED_SUMMARY_SECONDS: '2' });

const ALL_TYPES = ['hookbridge.endpoint.disabled', 'hookbridge.endpoint.enabled', 'hookbridge.delivery.failed', 'hookbridge.delivery.recovered', 'hookbridge.inbound.rejected'];

/** A project of its own per test, so one test's events never reach another's subscribers. */
async function project(name: string) {
  const p = await createProject(t.api, name);
  const endpoint = async (url: string, fields: Record<string, unknown> = {}) => {
    const res = await p.api.post('/v1/endpoints', { url, ...fields });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const send = async (endpointId: string, payload: unknown = { order: 1 }) => {
    const res = await p.api.post('/v1/messages', { event_type: 'order.paid', payload, endpoint_id: endpointId });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body;
  };
  return { ...p, endpoint, send };
}

const isOperational = (r: ReceivedRequest) => String(r.headers['x-hookbridge-event-type'] ?? '').startsWith('hookbridge.');

/** The operational events a receiver got, verified with the subscriber's secret, of one type. */
function eventsAt(r: Receiver, secret: string, type: string): any[] {
  return r.requests
    .filter((q) => isOperational(q) && q.headers['x-hookbridge-event-type'] === type)
    .map((q) => new Webhook(secret).verify(q.body, q.headers as Record<string, string>) as any);
}

async function waitForEvent(r: Receiver, secret: string, type: string, match: (e: any) => boolean = () => true): Promise<any> {
  let found: any;
  await waitUntil(() => (found = eventsAt(r, secret, type).find(match)) !== undefined, 15_000, `${type} at ${r.url}`);
  return found;
}

/** Which endpoints got a delivery of the message (the operational event) `messageId`. */
async function recipientsOf(api: Client, messageId: string): Promise<string[]> {
  const res = await api.get(`/v1/deliveries?message_id=${messageId}`);
  expect(res.status).toBe(200);
  return res.body.data.map((d: any) => d.endpoint_id).sort();
}

const webhookIdOf = (r: Receiver, type: string, match: (e: any) => boolean) =>
  r.requests.find((q) => q.headers['x-hookbridge-event-type'] === type && match(JSON.parse(q.body)))!.headers['webhook-id'] as string;

describe('operational webhooks', () => {
  it('tell subscribers that a delivery recovered after a retry, signed, and only the subscribers allowed to know', async () => {
    const p = await project('ops-recovered');
    const [ops, unfiltered, acmeOps, globexOps, flaky, paused] = await Promise.all([t.receiver(), t.receiver(), t.receiver(), t.receiver(), t.receiver(), t.receiver()]);
    const opsEp = await p.endpoint(ops.url, { event_types: ALL_TYPES });
    const unfilteredEp = await p.endpoint(unfiltered.url);
    const acmeEp = await p.endpoint(acmeOps.url, { consumer_id: 'acme', event_types: ['hookbridge.delivery.recovered'] });
    const globexEp = await p.endpoint(globexOps.url, { consumer_id: 'globex', event_types: ['hookbridge.delivery.recovered'] });
    const pausedEp = await p.endpoint(paused.url, { event_types: ['hookbridge.delivery.recovered'] });
    expect((await p.api.post(`/v1/endpoints/${pausedEp.id}/pause`)).status).toBe(200);
    // A delivery that succeeds at once is no news.
    const fine = await p.send(unfilteredEp.id);
    await waitForDelivery(p.api, fine.deliveries[0].id, ['succeeded']);
    // The flaky endpoint subscribes too: it must never hear about itself.
    flaky.respondWith(500, 200);
    const flakyEp = await p.endpoint(flaky.url, { consumer_id: 'acme', retry_schedule: [0.2], event_types: ['order.paid', 'hookbridge.delivery.recovered'] });
    const msg = await p.send(flakyEp.id);
    await waitForDelivery(p.api, msg.deliveries[0].id, ['succeeded']);

    const event = await waitForEvent(ops, opsEp.signing_secret, 'hookbridge.delivery.recovered');
    expect(event).toEqual({
      type: 'hookbridge.delivery.recovered',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: {
        delivery_id: msg.deliveries[0].id,
        message_id: msg.id,
        endpoint_id: flakyEp.id,
        consumer_id: 'acme',
        event_type: 'order.paid',
        attempt_count: 2,
        last_status_code: 200,
        last_error: null,
      },
    });
    // The same consumer's subscriber hears of its own endpoint, with its own secret.
    expect((await waitForEvent(acmeOps, acmeEp.signing_secret, 'hookbridge.delivery.recovered')).data.delivery_id).toBe(msg.deliveries[0].id);
    const opMessage = webhookIdOf(ops, 'hookbridge.delivery.recovered', (e) => e.data.delivery_id === msg.deliveries[0].id);
    // Exactly these got it: not the subject, not the endpoint without a filter, not globex's.
    expect(await recipientsOf(p.api, opMessage)).toEqual([opsEp.id, acmeEp.id, pausedEp.id].sort());
    const pausedDelivery = (await p.api.get(`/v1/deliveries?message_id=${opMessage}&endpoint_id=${pausedEp.id}`)).body.data[0];
    expect(pausedDelivery.status).toBe('paused');
    expect(flaky.requests.filter(isOperational)).toHaveLength(0);
    expect(unfiltered.requests.filter(isOperational)).toHaveLength(0);
    expect(globexOps.requests).toHaveLength(0);
    // Visible like any message of the project.
    const listed = await p.api.get('/v1/messages?event_type=hookbridge.delivery.recovered');
    expect(listed.body.data.map((m: any) => m.id)).toEqual([opMessage]);
    void globexEp;
  });

  it('report a delivery that failed for good (a 4xx at once, or retries exhausted), and a consumer never hears of the operator’s endpoints', async () => {
    const p = await project('ops-failed');
    const [ops, acmeOps, refusing, down] = await Promise.all([t.receiver(), t.receiver(), t.receiver(), t.receiver()]);
    const opsEp = await p.endpoint(ops.url, { event_types: ['hookbridge.delivery.failed'] });
    await p.endpoint(acmeOps.url, { consumer_id: 'acme', event_types: ['hookbridge.delivery.failed'] });
    refusing.respondWith(400);
    down.respondWith(503);
    const refusingEp = await p.endpoint(refusing.url);
    const downEp = await p.endpoint(down.url, { retry_schedule: [0.2, 0.2] });
    const refused = await p.send(refusingEp.id);
    const exhausted = await p.send(downEp.id);
    await waitForDelivery(p.api, refused.deliveries[0].id, ['failed']);
    await waitForDelivery(p.api, exhausted.deliveries[0].id, ['failed']);

    const first = await waitForEvent(ops, opsEp.signing_secret, 'hookbridge.delivery.failed', (e) => e.data.delivery_id === refused.deliveries[0].id);
    expect(first.data).toMatchObject({ endpoint_id: refusingEp.id, consumer_id: null, attempt_count: 1, last_status_code: 400, last_error: 'endpoint answered 400' });
    const second = await waitForEvent(ops, opsEp.signing_secret, 'hookbridge.delivery.failed', (e) => e.data.delivery_id === exhausted.deliveries[0].id);
    expect(second.data).toMatchObject({ endpoint_id: downEp.id, attempt_count: 3, last_status_code: 503, last_error: 'retry schedule exhausted' });
    const opMessage = webhookIdOf(ops, 'hookbridge.delivery.failed', (e) => e.data.delivery_id === refused.deliveries[0].id);
    expect(await recipientsOf(p.api, opMessage)).toEqual([opsEp.id]);
    expect(acmeOps.requests).toHaveLength(0);
  });

  it('never report on the delivery of an operational event: failing subscribers do not feed each other', async () => {
    const p = await project('ops-no-loop');
    const [ops, sub1, sub2, refusing] = await Promise.all([t.receiver(), t.receiver(), t.receiver(), t.receiver()]);
    const opsEp = await p.endpoint(ops.url, { event_types: ['hookbridge.delivery.failed'] });
    sub1.respondWith(500);
    sub2.respondWith(500);
    const sub1Ep = await p.endpoint(sub1.url, { event_types: ['hookbridge.delivery.failed'], retry_schedule: [0.2] });
    const sub2Ep = await p.endpoint(sub2.url, { event_types: ['hookbridge.delivery.failed'], retry_schedule: [0.2] });
    refusing.respondWith(422);
    const msg = await p.send((await p.endpoint(refusing.url)).id);
    await waitForDelivery(p.api, msg.deliveries[0].id, ['failed']);
    await waitForEvent(ops, opsEp.signing_secret, 'hookbridge.delivery.failed');
    const opMessage = webhookIdOf(ops, 'hookbridge.delivery.failed', () => true);
    const deliveries = (await p.api.get(`/v1/deliveries?message_id=${opMessage}`)).body.data;
    expect(deliveries.map((d: any) => d.endpoint_id).sort()).toEqual([opsEp.id, sub1Ep.id, sub2Ep.id].sort());
    // Both subscribers fail the event for good; their failures are recorded in the same
    // transaction that would have published a new event, so none exists once they are failed.
    for (const d of deliveries.filter((d: any) => d.endpoint_id !== opsEp.id)) await waitForDelivery(p.api, d.id, ['failed']);
    const failedEvents = (await p.api.get('/v1/messages?event_type=hookbridge.delivery.failed')).body.data;
    expect(failedEvents).toHaveLength(1);
    expect(failedEvents[0].payload.data.delivery_id).toBe(msg.deliveries[0].id);
  });

  it('tell that an endpoint answering 410 was disabled, and that resuming enabled it again', async () => {
    const p = await project('ops-410');
    const [ops, gone] = await Promise.all([t.receiver(), t.receiver()]);
    const opsEp = await p.endpoint(ops.url, { event_types: ['hookbridge.endpoint.disabled', 'hookbridge.endpoint.enabled'] });
    gone.respondWith(410);
    const goneEp = await p.endpoint(gone.url, { consumer_id: 'acme' });
    const msg = await p.send(goneEp.id);
    await waitForDelivery(p.api, msg.deliveries[0].id, ['failed']);
    const disabled = await waitForEvent(ops, opsEp.signing_secret, 'hookbridge.endpoint.disabled');
    expect(disabled.data).toEqual({ endpoint_id: goneEp.id, consumer_id: 'acme', url: gone.url, reason: 'endpoint answered 410 Gone' });
    expect((await p.api.get(`/v1/endpoints/${goneEp.id}`)).body.status).toBe('disabled');

    gone.respondWith(200);
    const resumed = await p.api.post(`/v1/endpoints/${goneEp.id}/resume`);
    expect(resumed.body).toMatchObject({ status: 'active', failures_since_success: 0, failing_since: null });
    const enabled = await waitForEvent(ops, opsEp.signing_secret, 'hookbridge.endpoint.enabled');
    expect(enabled.data).toEqual({ endpoint_id: goneEp.id, consumer_id: 'acme', url: gone.url, reason: 'resumed' });
    // Resuming an endpoint that is merely active again is not news.
    await p.api.post(`/v1/endpoints/${goneEp.id}/resume`);
    expect((await p.api.get('/v1/messages?event_type=hookbridge.endpoint.enabled')).body.data).toHaveLength(1);
    expect((await p.api.get('/v1/messages?event_type=hookbridge.endpoint.disabled')).body.data).toHaveLength(1);
  });

  it('summarize refused inbound requests per endpoint and period, counted by reason', async () => {
    const p = await project('ops-inbound');
    const [ops, acmeOps] = await Promise.all([t.receiver(), t.receiver()]);
    const opsEp = await p.endpoint(ops.url, { event_types: ['hookbridge.inbound.rejected'] });
    await p.endpoint(acmeOps.url, { consumer_id: 'acme', event_types: ['hookbridge.inbound.rejected'] });
    const created = await p.api.post('/v1/inbound-endpoints', { name: 'gh', mode: 'pull', verification: { type: 'github', secret: 'gh-secret' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const inbound = created.body;
    const post = () => fetch(inbound.ingest_url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' }, body: '{}' });
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(401);
    expect((await p.api.post(`/v1/inbound-endpoints/${inbound.id}/pause`)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await post()).status).toBe(503);

    // The refusals may straddle two windows: the events of all windows add up to them.
    const events = () => eventsAt(ops, opsEp.signing_secret, 'hookbridge.inbound.rejected').filter((e) => e.data.inbound_endpoint_id === inbound.id);
    await waitUntil(() => events().reduce((n, e) => n + e.data.total, 0) >= 5, 20_000, 'inbound.rejected summaries counting 5 refusals');
    // A refusal at another endpoint, reported in a later window: by then no window may count the
    // first endpoint's refusals again.
    const other = (await p.api.post('/v1/inbound-endpoints', { name: 'gh2', mode: 'pull', verification: { type: 'github', secret: 'gh-secret' } })).body;
    expect((await fetch(other.ingest_url, { method: 'POST', body: '{}' })).status).toBe(401);
    await waitForEvent(ops, opsEp.signing_secret, 'hookbridge.inbound.rejected', (e) => e.data.inbound_endpoint_id === other.id);
    const byReason: Record<string, number> = {};
    for (const e of events()) {
      expect(Date.parse(e.data.until)).toBeGreaterThan(Date.parse(e.data.since));
      expect(e.data.total).toBe(Object.values(e.data.by_reason as Record<string, number>).reduce((a, b) => a + b, 0));
      for (const [reason, n] of Object.entries(e.data.by_reason as Record<string, number>)) byReason[reason] = (byReason[reason] ?? 0) + n;
    }
    const refused = (await p.api.get(`/v1/inbound-rejections?inbound_endpoint_id=${inbound.id}`)).body.data.map((r: any) => r.reason);
    expect(refused).toHaveLength(5);
    const expected: Record<string, number> = {};
    for (const reason of refused) expected[reason] = (expected[reason] ?? 0) + 1;
    expect(byReason).toEqual(expected);
    expect(byReason.endpoint_paused).toBe(2);
    expect(events().reduce((n, e) => n + e.data.total, 0)).toBe(5);
    // Windows never overlap: each refusal is counted once.
    const windows = events().map((e) => [Date.parse(e.data.since), Date.parse(e.data.until)]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < windows.length; i++) expect(windows[i][0]).toBeGreaterThanOrEqual(windows[i - 1][1]);
    // Inbound endpoints are the operator's: a consumer's subscriber hears nothing of them.
    expect(acmeOps.requests).toHaveLength(0);
  });

  it('keep the hookbridge. prefix for Hookbridge: publishing it is refused', async () => {
    const p = await project('ops-reserved');
    const res = await p.api.post('/v1/messages', { event_type: 'hookbridge.endpoint.disabled', payload: {} });
    expectApiError(res, 400, 'invalid_request', 'reserved prefix');
  });
});

describe.runIf(TEST_STORE === 'postgres')('inbound.rejected with several processes on one PostgreSQL', () => {
  it('summarizes each window once, whichever process gets there first', async () => {
    const database = await createTestDatabase();
    const open = () => Store.openPostgres({ dataDir: tempDir(), databaseUrl: database.url, masterKey: TEST_MASTER_KEY });
    const [a, b] = [await open(), await open()];
    try {
      const projectId = (await a.projects.create('p')).id;
      await a.endpoints.create(projectId, { ...ENDPOINT_DEFAULTS, url: 'http://127.0.0.1:9/ops', eventTypes: ['hookbridge.inbound.rejected'] });
      let now = Date.now();
      await summarizeInboundRejections(a, 1000, now); // starts the first window
      const rejection = (at: number, reason: string) => ({
        id: `rej_${at}_${reason}_${Math.random()}`,
        project_id: projectId,
        inbound_endpoint_id: 'in_x',
        reason,
        status_code: 401,
        source_ip: null,
        headers: '{}',
        body_bytes: 0,
        created_at: at,
      });
      for (let round = 0; round < 5; round++) {
        await a.db.insertInto('inbound_rejections').values([rejection(now, 'invalid_signature'), rejection(now, 'ip_not_allowed')]).execute();
        now += 5000;
        // Both processes close the same window at the same moment: only one may publish it.
        await Promise.all([summarizeInboundRejections(a, 1000, now), summarizeInboundRejections(b, 1000, now)]);
      }
      const events = await a.db.selectFrom('messages').select('payload').where('event_type', '=', 'hookbridge.inbound.rejected').orderBy('id').execute();
      expect(events).toHaveLength(5);
      for (const e of events) expect(JSON.parse(e.payload).data).toMatchObject({ total: 2, by_reason: { invalid_signature: 1, ip_not_allowed: 1 } });
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});
