/**
 * The inbound gateway as a provider and an operator see it: dedupe, pause, unknown endpoints,
 * source-address rules, size limits, bodies of every kind, Slack's URL check, an ingest that never
 * waits on forwarding, retries until the destination is back, replay, and validation of the API.
 */
import { createHmac } from 'node:crypto';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { resignedBy, sleep, useServer, waitUntil } from './helpers.js';

const s = useServer({ HOOKBRIDGE_MAX_PAYLOAD_BYTES: '65536' });

async function inbound(fields: Record<string, unknown>) {
  const res = await s.api.post('/v1/inbound-endpoints', { name: 'test', mode: 'forward', verification: { type: 'none' }, ...fields });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('inbound gateway', () => {
  it('forwards the same GitHub delivery once however often it is posted; every post gets 2xx', async () => {
    const receiver = await s.receiver();
    const ep = await inbound({ destination_url: receiver.url, verification: { type: 'github', secret: 'gh' } });
    const body = JSON.stringify({ action: 'created' });
    const headers = { 'x-hub-signature-256': await githubSign('gh', body), 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-github-event': 'issue_comment' };
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await post(ep.ingest_url, body, headers);
      expect(res.status).toBe(202);
      ids.add(((await res.json()) as any).id);
    }
    expect(ids.size).toBe(1);
    await receiver.waitForRequests(1);
    await sleep(300);
    expect(receiver.requests).toHaveLength(1);
    // Another delivery id is another event.
    expect((await post(ep.ingest_url, body, { ...headers, 'x-github-delivery': 'another' })).status).toBe(202);
    await receiver.waitForRequests(2);
  });

  it('dedupes on the endpoint’s own idempotency headers when it names them', async () => {
    const receiver = await s.receiver();
    const ep = await inbound({ destination_url: receiver.url, idempotency_header_names: ['X-Event-Key'], ingest_response_code: 200 });
    for (const key of ['a', 'a', 'b']) expect((await post(ep.ingest_url, '{}', { 'x-event-key': key })).status).toBe(200);
    await receiver.waitForRequests(2);
    await sleep(300);
    expect(receiver.requests).toHaveLength(2);
  });

  it('passes bodies that are not JSON through untouched: form, text, binary', async () => {
    const receiver = await s.receiver();
    const ep = await inbound({ destination_url: receiver.url, ordering: 'fifo' });
    const form = 'payload=%7B%22a%22%3A1%7D&token=x+y';
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41, 0x0a, 0xc3, 0x28]);
    await post(ep.ingest_url, form, { 'content-type': 'application/x-www-form-urlencoded' });
    await post(ep.ingest_url, 'line one\nline two', { 'content-type': 'text/plain; charset=utf-8' });
    await post(ep.ingest_url, binary, { 'content-type': 'application/octet-stream' });
    const got = await receiver.waitForRequests(3);
    expect(got[0].body).toBe(form);
    expect(got[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(got[1].body).toBe('line one\nline two');
    expect(got[2].raw.equals(binary)).toBe(true);
    expect(got[2].headers['content-type']).toBe('application/octet-stream');
    for (const r of got) expect(resignedBy(ep.signing_secret, r)).toBe(true);
    const events = (await s.api.get(`/v1/inbound-events?inbound_endpoint_id=${ep.id}`)).body.data;
    const bin = events.find((e: any) => e.body_encoding === 'base64');
    expect(Buffer.from(bin.body, 'base64').equals(binary)).toBe(true);
  });

  it('answers 503 while paused so the provider retries, and forwards again after resume', async () => {
    const receiver = await s.receiver();
    const ep = await inbound({ destination_url: receiver.url });
    expect((await s.api.post(`/v1/inbound-endpoints/${ep.id}/pause`)).body.status).toBe('paused');
    const refused = await post(ep.ingest_url, '{}');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(await refused.json()).toEqual({ error: { code: 'endpoint_paused', message: 'request refused', request_id: refused.headers.get('x-request-id') } });
    await s.api.post(`/v1/inbound-endpoints/${ep.id}/resume`);
    expect((await post(ep.ingest_url, '{"after":"resume"}')).status).toBe(202);
    const [got] = await receiver.waitForRequests(1);
    expect(got.body).toBe('{"after":"resume"}');
    const rej = await s.api.get(`/v1/inbound-rejections?inbound_endpoint_id=${ep.id}`);
    expect(rej.body.data.map((r: any) => r.reason)).toEqual(['endpoint_paused']);
  });

  it('answers 404 for unknown ids and stores nothing', async () => {
    const count = async () => (await s.api.get('/v1/inbound-rejections?limit=250')).body.data.length + (await s.api.get('/v1/inbound-events?limit=250')).body.data.length;
    const before = await count();
    const res = await post(`${s.server.url}/in/in_01zzzzzzzzzzzzzzzzzzzzzzzz`, '{}');
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('not_found');
    expect(await count()).toBe(before);
  });

  it('rotates the forwarding secret: both secrets sign during the grace period', async () => {
    const receiver = await s.receiver();
    const ep = await inbound({ destination_url: receiver.url });
    const rotated = await s.api.post(`/v1/inbound-endpoints/${ep.id}/secret/rotate`, { grace_seconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.signing_secret).not.toBe(ep.signing_secret);
    expect((await post(ep.ingest_url, '{"after":"rotation"}')).status).toBe(202);
    const [got] = await receiver.waitForRequests(1);
    expect(resignedBy(rotated.body.signing_secret, got)).toBe(true);
    expect(resignedBy(ep.signing_secret, got)).toBe(true);
    expect((await s.api.post(`/v1/endpoints/${ep.id}/secret/rotate`)).status).toBe(404);
  });

  it('refuses sources outside allowed_cidrs (403 ip_not_allowed); X-Forwarded-For is ignored unless the proxy is trusted', async () => {
    const receiver = await s.receiver();
    const closed = await inbound({ destination_url: receiver.url, allowed_cidrs: ['10.0.0.0/8'] });
    const spoofed = await post(closed.ingest_url, '{}', { 'x-forwarded-for': '10.1.2.3' });
    expect(spoofed.status).toBe(403);
    expect(((await spoofed.json()) as any).error.code).toBe('ip_not_allowed');
    const open = await inbound({ destination_url: receiver.url, allowed_cidrs: ['127.0.0.0/8', '::1/128'] });
    expect((await post(open.ingest_url, '{}')).status).toBe(202);
    const rej = (await s.api.get(`/v1/inbound-rejections?inbound_endpoint_id=${closed.id}`)).body.data;
    expect(rej).toHaveLength(1);
    expect(rej[0]).toMatchObject({ reason: 'ip_not_allowed', status_code: 403, source_ip: '127.0.0.1' });
  });

  it('refuses bodies over the limit with 413 and records it', async () => {
    const receiver = await s.receiver();
    const ep = await inbound({ destination_url: receiver.url });
    const res = await post(ep.ingest_url, 'x'.repeat(70_000), { 'content-type': 'text/plain' });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('payload_too_large');
    const rej = (await s.api.get(`/v1/inbound-rejections?inbound_endpoint_id=${ep.id}`)).body.data;
    expect(rej[0]).toMatchObject({ reason: 'payload_too_large', status_code: 413 });
  });

  it('answers Slack’s url_verification with its challenge once the signature verifies', async () => {
    const receiver = await s.receiver();
    const ep = await inbound({ destination_url: receiver.url, verification: { type: 'slack', secret: 'slack-secret' } });
    const body = JSON.stringify({ token: 'x', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
    const ts = Math.floor(Date.now() / 1000);
    const sig = 'v0=' + createHmac('sha256', 'slack-secret').update(`v0:${ts}:${body}`).digest('hex');
    const unsigned = await post(ep.ingest_url, body, { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': 'v0=00' });
    expect(unsigned.status).toBe(401);
    const res = await post(ep.ingest_url, body, { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    await sleep(200);
    expect(receiver.requests).toHaveLength(0);
  });

  it('answers ingest while the destination hangs: ingest never waits on forwarding', async () => {
    const receiver = await s.receiver();
    const hung: Array<() => void> = [];
    receiver.handle((_req, res) => hung.push(() => res.writeHead(200).end()));
    const ep = await inbound({ destination_url: receiver.url, timeout_ms: 30_000 });
    for (let i = 0; i < 30; i++) expect((await post(ep.ingest_url, JSON.stringify({ i }))).status).toBe(202);
    // Forwarding started (and hangs) while every ingest request was already answered.
    await waitUntil(() => hung.length > 0, 5000, 'a forwarding attempt');
    expect(receiver.requests.length).toBeLessThan(30);
    for (const release of hung) release();
  });

  it('retries until the destination is back, and replays on demand', async () => {
    const receiver = await s.receiver();
    receiver.respondWith(503, 503, 200);
    const ep = await inbound({ destination_url: receiver.url, retry_schedule: [0.1, 0.1, 0.1] });
    const accepted = (await (await post(ep.ingest_url, '{"n":1}')).json()) as any;
    await receiver.waitForRequests(3);
    await waitUntil(async () => (await s.api.get(`/v1/inbound-events/${accepted.id}`)).body.delivery.status === 'succeeded', 5000, 'forwarded');
    const attempts = (await s.api.get(`/v1/inbound-events/${accepted.id}/attempts`)).body.data;
    expect(attempts.map((a: any) => a.status_code)).toEqual([503, 503, 200]);
    // Same webhook-id on every attempt, so the destination can dedupe.
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([accepted.id]));
    const replay = await s.api.post(`/v1/inbound-events/${accepted.id}/replay`);
    expect(replay.status).toBe(202);
    await receiver.waitForRequests(4);
    expect(receiver.requests[3].body).toBe('{"n":1}');
    // Bulk replay selects forwarding deliveries by the inbound endpoint's id, as for outbound.
    await waitUntil(async () => (await s.api.get(`/v1/inbound-events/${accepted.id}`)).body.delivery.status === 'succeeded', 5000, 'replayed');
    const bulk = await s.api.post('/v1/deliveries/replay', { status: 'succeeded', endpoint_id: ep.id });
    expect(bulk.body).toMatchObject({ replayed: 1, skipped: 0 });
    await receiver.waitForRequests(5);
  });

  it('validates inbound endpoints: 400 with fields, 422 for refused destinations', async () => {
    const bad = async (fields: Record<string, unknown>, status = 400) => {
      const res = await s.api.post('/v1/inbound-endpoints', { name: 'x', mode: 'forward', destination_url: 'http://127.0.0.1:9/x', verification: { type: 'none' }, ...fields });
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      return res.body.error;
    };
    expect((await bad({ destination_url: undefined })).details[0].field).toBe('destination_url');
    expect((await bad({ verification: { type: 'stripe' } })).code).toBe('invalid_request');
    expect((await bad({ verification: { type: 'nope', secret: 'x' } })).code).toBe('invalid_request');
    expect((await bad({ allowed_cidrs: ['not-a-cidr'] })).details[0].field).toBe('allowed_cidrs');
    expect((await bad({ mode: 'pull' })).details[0].field).toBe('destination_url');
    expect((await bad({ ingest_response_code: 302 })).code).toBe('invalid_request');
    // Metadata addresses stay refused even though private networks are allowed for forwarding.
    expect((await bad({ destination_url: 'http://169.254.169.254/latest' }, 422)).code).toBe('url_not_allowed');
    const ep = await inbound({ destination_url: 'http://127.0.0.1:9/x', verification: { type: 'github', secret: 'very-secret-value' } });
    expect(ep.verification).toEqual({ type: 'github', secret: '…alue' });
    const modeChange = await s.api.patch(`/v1/inbound-endpoints/${ep.id}`, { mode: 'pull' });
    expect(modeChange.status).toBe(400);
    const renamed = await s.api.patch(`/v1/inbound-endpoints/${ep.id}`, { name: 'renamed' });
    expect(renamed.body).toMatchObject({ name: 'renamed', verification: { type: 'github' } });
    // Inbound endpoints are not outbound endpoints.
    expect((await s.api.get(`/v1/endpoints/${ep.id}`)).status).toBe(404);
    expect((await s.api.get('/v1/endpoints')).body.data.find((e: any) => e.id === ep.id)).toBeUndefined();
    expect((await s.api.delete(`/v1/inbound-endpoints/${ep.id}`)).status).toBe(204);
    expect((await post(ep.ingest_url, '{}')).status).toBe(404);
  });

  it('reports inbound metrics apart from outbound: accepted, forwarded, rejected', async () => {
    const receiver = await s.receiver();
    const ep = await inbound({ destination_url: receiver.url, verification: { type: 'token', secret: 'metrics-token' } });
    for (let i = 0; i < 3; i++) expect((await post(ep.ingest_url, `{"i":${i}}`, { authorization: 'Bearer metrics-token' })).status).toBe(202);
    expect((await post(ep.ingest_url, '{}', { authorization: 'Bearer wrong' })).status).toBe(401);
    await receiver.waitForRequests(3);
    await waitUntil(async () => (await s.api.get(`/v1/metrics?direction=inbound&endpoint_id=${ep.id}`)).body.succeeded === 3, 5000, 'three forwarded');
    const m = (await s.api.get(`/v1/metrics?direction=inbound&endpoint_id=${ep.id}`)).body;
    expect(m).toMatchObject({ total_messages: 3, deliveries: 3, succeeded: 3, failed: 0, attempts: 3, rejected: 1, success_rate: 1 });
    const ts = (await s.api.get(`/v1/metrics/timeseries?window=1h&direction=inbound&endpoint_id=${ep.id}`)).body;
    expect(ts.data.reduce((n: number, b: any) => n + b.succeeded, 0)).toBe(3);
    // Outbound numbers do not include inbound traffic, and endpoint ids do not cross over.
    const out = (await s.api.get('/v1/metrics')).body;
    expect(out.total_messages).toBe(0);
    expect(out.rejected).toBeUndefined();
    expect((await s.api.get(`/v1/metrics?endpoint_id=${ep.id}`)).status).toBe(404);
  });
});
