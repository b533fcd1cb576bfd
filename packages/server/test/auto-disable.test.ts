/**
 * Auto-disable end to end: an endpoint that keeps failing for long enough is disabled and a
 * subscriber gets a signed hookbridge.endpoint.disabled; the limits come from the endpoint, else
 * the project, else the server; resume re-enables it and starts the streak over.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createProject, sleep, useServer, waitForDelivery, waitUntil, type Receiver } from './helpers.js';

// The server's limits, which the default project inherits: 2 s without success and 3 failures.
const t = useServer({ HOOKBRIDGE_DISABLE_AFTER_SECONDS: '2', HOOKBRIDGE_DISABLE_MIN_FAILURES: '3' });

/** Retries every 0.2 s (the schedule is in seconds), for far longer than any test waits. */
const OFTEN = Array.from({ length: 50 }, () => 0.2);

const disabledEvents = (r: Receiver, secret: string) =>
  r.requests.filter((q) => q.headers['x-hookbridge-event-type'] === 'hookbridge.endpoint.disabled').map((q) => new Webhook(secret).verify(q.body, q.headers as Record<string, string>) as any);

describe('auto-disable', () => {
  it('disables an endpoint with no success for disable_after and tells a subscriber with a signed hookbridge.endpoint.disabled', async () => {
    const [ops, dead] = await Promise.all([t.receiver(), t.receiver()]);
    const opsEp = await t.endpoint(ops.url, { event_types: ['hookbridge.endpoint.disabled', 'hookbridge.endpoint.enabled'] });
    // Slow answers: the deliveries' attempts overlap, so some are on their way when it is disabled.
    dead.handle((_req, res) => setTimeout(() => res.writeHead(500).end(), 300));
    const deadEp = await t.endpoint(dead.url, { retry_schedule: OFTEN });
    const startedAt = Date.now();
    // Several deliveries at once: attempts still on their way when it is disabled must not disable it again.
    const sent = [await t.send(deadEp.id, { n: 1 }), await t.send(deadEp.id, { n: 2 }), await t.send(deadEp.id, { n: 3 })];
    await waitUntil(async () => (await t.api.get(`/v1/endpoints/${deadEp.id}`)).body.status === 'disabled', 20_000, 'the endpoint to be disabled');
    const disabledAt = Date.now();

    const endpoint = (await t.api.get(`/v1/endpoints/${deadEp.id}`)).body;
    expect(endpoint.disabled_reason).toMatch(/^no successful attempt for 2 seconds \((\d+) failed attempts\); resume it to re-enable$/);
    expect(endpoint.failures_since_success).toBeGreaterThanOrEqual(3);
    expect(Date.parse(endpoint.failing_since)).toBeGreaterThanOrEqual(startedAt - 1000);
    // Not before the limit: the streak had lasted 2 s when it was disabled.
    expect(disabledAt - Date.parse(endpoint.failing_since)).toBeGreaterThanOrEqual(2000);
    // Its deliveries wait, as for an endpoint disabled by a 410, until it is resumed.
    for (const m of sent) await waitForDelivery(t.api, m.deliveries[0].id, ['paused']);

    await waitUntil(() => disabledEvents(ops, opsEp.signing_secret).length > 0, 10_000, 'hookbridge.endpoint.disabled at the subscriber');
    const [event] = disabledEvents(ops, opsEp.signing_secret);
    expect(event).toEqual({
      type: 'hookbridge.endpoint.disabled',
      timestamp: expect.any(String),
      data: { endpoint_id: deadEp.id, consumer_id: null, url: dead.url, reason: endpoint.disabled_reason },
    });
    // Once per disable, however many attempts were still on their way: each of those was recorded
    // (making its delivery paused) in a transaction that would have published another event.
    const published = (await t.api.get('/v1/messages?event_type=hookbridge.endpoint.disabled')).body.data;
    expect(published.filter((m: any) => m.payload.data.endpoint_id === deadEp.id)).toHaveLength(1);
    const attemptsSoFar = dead.requests.length;
    await sleep(600);
    expect(dead.requests.length).toBe(attemptsSoFar);

    // Resume: enabled again, the streak starts over, the waiting deliveries go out.
    dead.respondWith(200);
    const resumed = await t.api.post(`/v1/endpoints/${deadEp.id}/resume`);
    expect(resumed.body).toMatchObject({ status: 'active', disabled_reason: null, failures_since_success: 0, failing_since: null });
    for (const m of sent) await waitForDelivery(t.api, m.deliveries[0].id, ['succeeded']);
    await waitUntil(() => ops.requests.some((q) => q.headers['x-hookbridge-event-type'] === 'hookbridge.endpoint.enabled'), 10_000, 'hookbridge.endpoint.enabled');
  });

  it('a success ends the streak, so an endpoint that fails now and then is never disabled', async () => {
    const flaky = await t.receiver();
    let n = 0;
    // Two failures, then a success, over and over: never three failures in a row.
    flaky.handle((_req, res) => res.writeHead(++n % 3 === 0 ? 200 : 500).end());
    const ep = await t.endpoint(flaky.url, { retry_schedule: OFTEN });
    // Longer than disable_after (2 s), with far more than 3 failures in all.
    const started = Date.now();
    while (Date.now() - started < 3000) {
      const m = await t.send(ep.id);
      await waitForDelivery(t.api, m.deliveries[0].id, ['succeeded'], 20_000);
    }
    expect(flaky.requests.length - flaky.requests.length / 3).toBeGreaterThan(3);
    const after = (await t.api.get(`/v1/endpoints/${ep.id}`)).body;
    expect(after.status).toBe('active');
    expect(after.failures_since_success).toBe(0);
    expect(after.failing_since).toBeNull();
  });

  it("takes the endpoint's limits over the project's, and the project's over the server's", async () => {
    const admin = t.api;
    // The project waits an hour: only the endpoint that overrides it with 1 s can be disabled.
    const p = await createProject(admin, 'auto-disable-overrides');
    expect((await admin.patch(`/v1/projects/${p.projectId}`, { disable_after_seconds: 3600, disable_min_failures: 2 })).body).toMatchObject({
      disable_after_seconds: 3600,
      disable_min_failures: 2,
    });
    const [a, b, c] = await Promise.all([t.receiver(), t.receiver(), t.receiver()]);
    for (const r of [a, b, c]) r.respondWith(503);
    const create = async (url: string, fields: Record<string, unknown> = {}) => (await p.api.post('/v1/endpoints', { url, retry_schedule: OFTEN, ...fields })).body;
    const inherits = await create(a.url);
    const overrides = await create(b.url, { disable_after_seconds: 1 });
    const never = await create(c.url, { disable_after_seconds: 0, disable_min_failures: 1 });
    expect(overrides).toMatchObject({ disable_after_seconds: 1, disable_min_failures: null });
    for (const e of [inherits, overrides, never]) {
      expect((await p.api.post('/v1/messages', { event_type: 'x.y', payload: {}, endpoint_id: e.id })).status).toBe(202);
    }
    const status = async (id: string) => (await p.api.get(`/v1/endpoints/${id}`)).body;
    await waitUntil(async () => (await status(overrides.id)).status === 'disabled', 20_000, 'the overriding endpoint to be disabled');
    // Give the others as long again, with more failures than the limits ask for.
    const since = Date.now();
    await waitUntil(async () => Date.now() - since > 2500 && (await status(inherits.id)).failures_since_success >= 4 && (await status(never.id)).failures_since_success >= 4, 20_000, 'more failures');
    expect((await status(inherits.id)).status).toBe('active');
    expect((await status(never.id)).status).toBe('active');

    // PATCH null: the endpoint inherits again; the project's null puts the server's back (2 s, 3).
    expect((await p.api.patch(`/v1/endpoints/${never.id}`, { disable_after_seconds: null, disable_min_failures: null })).body).toMatchObject({
      disable_after_seconds: null,
      disable_min_failures: null,
    });
    expect((await admin.patch(`/v1/projects/${p.projectId}`, { disable_after_seconds: null, disable_min_failures: null })).body).toMatchObject({
      disable_after_seconds: null,
      disable_min_failures: null,
    });
    // The claim reads the project's settings, so the next attempts see the server's limits.
    await waitUntil(async () => (await status(inherits.id)).status === 'disabled', 20_000, 'the inheriting endpoint to be disabled by the server limits');
    expect((await status(inherits.id)).disabled_reason).toMatch(/^no successful attempt for 2 seconds/);
  });

  it('validates the limits', async () => {
    const r = await t.receiver();
    expect((await t.api.post('/v1/endpoints', { url: r.url, disable_after_seconds: -1 })).status).toBe(400);
    expect((await t.api.post('/v1/endpoints', { url: r.url, disable_min_failures: 0 })).status).toBe(400);
    expect((await t.api.post('/v1/endpoints', { url: r.url, failures_since_success: 0 })).status).toBe(400);
  });
});
