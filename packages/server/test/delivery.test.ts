/**
 * The life of a delivery against real loopback receivers: signing (checked by the independent
 * standardwebhooks library), retries, failure rules, replay, and secret rotation.
 */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { sleep, useServer, waitForDelivery } from './helpers.js';

const t = useServer();
const receiver = () => t.receiver();
const endpoint = (url: string, extra: Record<string, unknown> = {}) => t.endpoint(url, { retry_schedule: [0.1, 0.1, 0.1], ...extra });
const send = (endpointId: string, payload: unknown = { hello: 'world' }, eventType = 'test.event') => t.send(endpointId, payload, eventType);

describe('signing', () => {
  it('delivers a body the standardwebhooks library verifies, byte-identical to what was signed', async () => {
    const r = await receiver();
    const ep = await endpoint(r.url);
    const payload = { amount: 4200, currency: 'eur', note: 'naïve ☃', nested: { list: [1, 2.5, null, true] } };
    const msg = await send(ep.id, payload, 'payment.completed');
    const [req] = await r.waitForRequests(1);
    expect(req.method).toBe('POST');
    expect(req.body).toBe(JSON.stringify(payload));
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^Hookbridge\//);
    expect(req.headers['webhook-id']).toBe(msg.id);
    expect(req.headers['x-hookbridge-event-type']).toBe('payment.completed');
    expect(req.headers['x-hookbridge-delivery-id']).toBe(msg.deliveries[0].id);
    expect(req.headers['x-hookbridge-attempt']).toBe('1');
    expect(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(new Webhook(ep.signing_secret).verify(req.body, req.headers as Record<string, string>)).toEqual(payload);
    await waitForDelivery(t.api, msg.deliveries[0].id, ['succeeded']);
  });

  it('signs the hookbridge header scheme with the whole secret as key', async () => {
    const r = await receiver();
    const ep = await endpoint(r.url, { signature_scheme: 'hookbridge', headers: { 'X-Api-Key': 'receiver-credential' } });
    const msg = await send(ep.id, { a: 1 });
    const [req] = await r.waitForRequests(1);
    const ts = req.headers['x-webhook-timestamp'] as string;
    const expected = createHmac('sha256', ep.signing_secret).update(`${ts}.${req.body}`).digest('hex');
    expect(req.headers['x-webhook-signature']).toBe(`sha256=${expected}`);
    expect(req.headers['x-webhook-id']).toBe(msg.id);
    expect(req.headers['webhook-signature']).toBeUndefined();
    expect(req.headers['x-api-key']).toBe('receiver-credential');
    // custom header values are never shown back
    expect((await t.api.get(`/v1/endpoints/${ep.id}`)).body.headers).toEqual({ 'X-Api-Key': '[redacted]' });
    // The attempt records the request's headers as the receiver got them, but for that value.
    await waitForDelivery(t.api, msg.deliveries[0].id, ['succeeded']);
    const [attempt] = (await t.api.get(`/v1/deliveries/${msg.deliveries[0].id}/attempts`)).body.data;
    const got = Object.fromEntries(Object.keys(attempt.request_headers).map((k) => [k.toLowerCase(), req.headers[k.toLowerCase()]]));
    expect(Object.fromEntries(Object.entries(attempt.request_headers).map(([k, v]) => [k.toLowerCase(), v]))).toEqual({ ...got, 'x-api-key': '[redacted]' });
    expect(attempt.request_headers).toMatchObject({ 'x-webhook-signature': `sha256=${expected}`, 'x-hookbridge-request-id': attempt.request_id, 'content-type': 'application/json' });
  });

  it('after rotation both secrets verify until the grace ends, then only the new one', async () => {
    const r = await receiver();
    const ep = await endpoint(r.url);
    // without a body the default grace (24 h) applies
    const withDefaults = await t.api.post(`/v1/endpoints/${(await endpoint(r.url)).id}/secret/rotate`);
    expect(withDefaults.status).toBe(200);
    expect(Date.parse(withDefaults.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const rotated = await t.api.post(`/v1/endpoints/${ep.id}/secret/rotate`, { grace_seconds: 1.5 });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.signing_secret as string;
    expect(newSecret).not.toBe(ep.signing_secret);
    await send(ep.id, { during: 'grace' });
    const [during] = await r.waitForRequests(1);
    expect(during.headers['webhook-signature']!.toString().split(' ')).toHaveLength(2);
    expect(() => new Webhook(ep.signing_secret).verify(during.body, during.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(during.body, during.headers as Record<string, string>)).not.toThrow();
    await sleep(1700);
    await send(ep.id, { after: 'grace' });
    const after = (await r.waitForRequests(2))[1];
    expect(after.headers['webhook-signature']!.toString().split(' ')).toHaveLength(1);
    expect(() => new Webhook(newSecret).verify(after.body, after.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(ep.signing_secret).verify(after.body, after.headers as Record<string, string>)).toThrow();
  });
});

describe('success and failure rules', () => {
  it('500, 500, 200 → succeeded after 3 attempts, each recorded', async () => {
    const r = await receiver();
    r.respondWith(500, 500, 200);
    const ep = await endpoint(r.url);
    const msg = await send(ep.id);
    const pending = await waitForDelivery(t.api, msg.deliveries[0].id, ['pending_retry', 'succeeded']);
    if (pending.status === 'pending_retry') expect(pending.last_error).toBe('endpoint answered 500');
    const d = await waitForDelivery(t.api, msg.deliveries[0].id, ['succeeded']);
    expect(d.attempt_count).toBe(3);
    expect(d.last_error).toBeNull();
    const attempts = (await t.api.get(`/v1/deliveries/${d.id}/attempts`)).body.data;
    expect(attempts.map((a: any) => [a.attempt_number, a.status_code, a.outcome])).toEqual([
      [1, 500, 'retry'],
      [2, 500, 'retry'],
      [3, 200, 'succeeded'],
    ]);
    expect(attempts[0].response_body).toBe('status 500');
    expect(r.requests.map((q) => q.headers['x-hookbridge-attempt'])).toEqual(['1', '2', '3']);
    // every attempt carries the same webhook-id, and its own fresh signature
    expect(new Set(r.requests.map((q) => q.headers['webhook-id'])).size).toBe(1);
  });

  it('400 → failed after 1 attempt; replay after the receiver is fixed → succeeded', async () => {
    const r = await receiver();
    r.respondWith(400);
    const ep = await endpoint(r.url);
    const msg = await send(ep.id);
    const failed = await waitForDelivery(t.api, msg.deliveries[0].id, ['failed']);
    expect(failed.attempt_count).toBe(1);
    expect(failed.last_status_code).toBe(400);
    await sleep(300);
    expect(r.requests).toHaveLength(1);

    r.respondWith(200);
    const replay = await t.api.post(`/v1/deliveries/${failed.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body.replay_count).toBe(1);
    const ok = await waitForDelivery(t.api, failed.id, ['succeeded']);
    expect(ok.attempt_count).toBe(2);
    expect(r.requests[1].headers['webhook-id']).toBe(msg.id);
    expect(r.requests[1].headers['x-hookbridge-attempt']).toBe('2');
  });

  it('retries 4xx when the endpoint sets retry_client_errors', async () => {
    const r = await receiver();
    r.respondWith(404, 200);
    const ep = await endpoint(r.url, { retry_client_errors: true });
    const msg = await send(ep.id);
    expect((await waitForDelivery(t.api, msg.deliveries[0].id, ['succeeded'])).attempt_count).toBe(2);
  });

  it('fails when the schedule is exhausted: n waits = n + 1 attempts', async () => {
    const r = await receiver();
    r.respondWith(503);
    const ep = await endpoint(r.url, { retry_schedule: [0.05, 0.05] });
    const msg = await send(ep.id);
    const d = await waitForDelivery(t.api, msg.deliveries[0].id, ['failed']);
    expect(d.attempt_count).toBe(3);
    expect(d.last_error).toMatch(/exhausted/);
  });

  it('410 → failed and the endpoint becomes disabled; later deliveries wait until resume', async () => {
    const r = await receiver();
    r.respondWith(410);
    const ep = await endpoint(r.url);
    const msg = await send(ep.id);
    await waitForDelivery(t.api, msg.deliveries[0].id, ['failed']);
    const disabled = (await t.api.get(`/v1/endpoints/${ep.id}`)).body;
    expect(disabled.status).toBe('disabled');
    expect(disabled.disabled_reason).toMatch(/410/);
    expect((await t.api.post(`/v1/endpoints/${ep.id}/pause`)).body.error.code).toBe('invalid_state');
    // direct sends to a disabled endpoint are refused; fan-out skips it
    expect((await t.api.post('/v1/messages', { event_type: 't', payload: {}, endpoint_id: ep.id })).status).toBe(409);
    r.respondWith(200);
    expect((await t.api.post(`/v1/endpoints/${ep.id}/resume`)).body.status).toBe('active');
    const again = await send(ep.id);
    await waitForDelivery(t.api, again.deliveries[0].id, ['succeeded']);
  });

  it('a redirect is not followed and counts as a retryable failure', async () => {
    const target = await receiver();
    const r = await receiver();
    r.handle((_q, res) => res.writeHead(302, { location: target.url }).end());
    const ep = await endpoint(r.url, { retry_schedule: [] });
    const msg = await send(ep.id);
    const d = await waitForDelivery(t.api, msg.deliveries[0].id, ['failed']);
    expect(d.last_status_code).toBe(302);
    expect(target.requests).toHaveLength(0);
  });

  it('a 2xx with a huge body succeeds with only the first 16 KiB kept', async () => {
    const r = await receiver();
    r.handle((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(3 * 1024 * 1024));
    });
    const ep = await endpoint(r.url);
    const msg = await send(ep.id);
    const d = await waitForDelivery(t.api, msg.deliveries[0].id, ['succeeded']);
    const [a] = (await t.api.get(`/v1/deliveries/${d.id}/attempts`)).body.data;
    expect(a.response_body).toHaveLength(16 * 1024);
    expect(a.response_truncated).toBe(true);
  });

  it('honours Retry-After within [scheduled, 2 × scheduled]', async () => {
    const r = await receiver();
    let n = 0;
    r.handle((_q, res) => (n++ === 0 ? res.writeHead(503, { 'retry-after': '3600' }).end() : res.writeHead(200).end()));
    const ep = await endpoint(r.url, { retry_schedule: [0.5] });
    const msg = await send(ep.id);
    await waitForDelivery(t.api, msg.deliveries[0].id, ['succeeded'], 5000);
    const gap = r.requests[1].at - r.requests[0].at;
    // 0.5 s ± 20 % jitter, clamped to at most twice that: never the hour the receiver asked for
    expect(gap).toBeGreaterThanOrEqual(350);
    expect(gap).toBeLessThan(1500);
  });
});

describe('actions', () => {
  it('retry now, cancel and replay follow the delivery state rules', async () => {
    const r = await receiver();
    r.respondWith(500);
    const ep = await endpoint(r.url, { retry_schedule: [3600] });
    const msg = await send(ep.id);
    const id = msg.deliveries[0].id;
    await waitForDelivery(t.api, id, ['pending_retry']);
    expect((await t.api.post(`/v1/deliveries/${id}/replay`)).status).toBe(409);
    r.respondWith(200);
    const retried = await t.api.post(`/v1/deliveries/${id}/retry`);
    expect(retried.status).toBe(202);
    await waitForDelivery(t.api, id, ['succeeded']);
    expect((await t.api.post(`/v1/deliveries/${id}/retry`)).body.error.code).toBe('invalid_state');
    expect((await t.api.post(`/v1/deliveries/${id}/cancel`)).status).toBe(409);

    r.respondWith(500);
    const second = await send(ep.id);
    const id2 = second.deliveries[0].id;
    await waitForDelivery(t.api, id2, ['pending_retry']);
    const cancelled = await t.api.post(`/v1/deliveries/${id2}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('cancelled');
  });

  it('bulk replay by filter replays failed deliveries and skips the rest', async () => {
    const r = await receiver();
    r.respondWith(400);
    const ep = await endpoint(r.url);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await send(ep.id, { i })).deliveries[0].id);
    for (const id of ids) await waitForDelivery(t.api, id, ['failed']);
    r.respondWith(200);
    const res = await t.api.post('/v1/deliveries/replay', { status: 'failed', endpoint_id: ep.id });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ replayed: 3, skipped: 0, expired: 0 });
    for (const id of ids) await waitForDelivery(t.api, id, ['succeeded']);
    const byIds = await t.api.post('/v1/deliveries/replay', { ids: [...ids, 'dlv_unknown'] });
    expect(byIds.body).toEqual({ replayed: 3, skipped: 1, expired: 0 });
  });
});
