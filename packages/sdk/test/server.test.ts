/**
 * The client against the real server (a `hookbridge serve` child process on 127.0.0.1): create
 * endpoints to a loopback receiver, publish, receive, verify with verifyWebhook, rotate, paginate,
 * and the typed errors the server answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookbridgeApiError, HookbridgeClient, HookbridgeNetworkError, verifyWebhook, type Endpoint } from '../src/index.js';
import { ADMIN_KEY, startHookbridge, startReceiver, waitFor, type HookbridgeProcess } from './helpers.js';

let hb: HookbridgeProcess;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let client: HookbridgeClient;

beforeAll(async () => {
  [hb, receiver] = await Promise.all([startHookbridge(), startReceiver()]);
  client = new HookbridgeClient({ baseUrl: hb.url, apiKey: ADMIN_KEY });
});
afterAll(async () => {
  await Promise.all([hb?.stop(), receiver?.close()]);
});

const arrivedAt = (path: string, count = 1) => waitFor(`${count} request(s) at ${path}`, () => {
  const got = receiver.received.filter((r) => r.path === path);
  return got.length >= count ? got : undefined;
});

describe('HookbridgeClient against the real server', () => {
  let standard: Endpoint;
  let legacy: Endpoint;

  it('creates endpoints and publishes; the receiver gets requests that verifyWebhook accepts', async () => {
    standard = await client.endpoints.create({ url: `${receiver.url}/standard`, description: 'sdk test' });
    legacy = await client.endpoints.create({ url: `${receiver.url}/legacy`, signature_scheme: 'hookbridge' });
    expect(standard.signing_secret).toMatch(/^whsec_/);
    expect(standard).toMatchObject({ status: 'active', signature_scheme: 'standard', description: 'sdk test' });

    const payload = { order: { id: 'ord_1', total: 12.5, note: 'naïve ✓' } };
    const sent = await client.messages.send({ event_type: 'order.created', payload });
    expect(sent.deliveries.map((d) => d.endpoint_id).sort()).toEqual([standard.id, legacy.id].sort());

    const [toStandard] = await arrivedAt('/standard');
    expect(toStandard.headers['webhook-id']).toBe(sent.id);
    expect(await verifyWebhook(toStandard.body, toStandard.headers, standard.signing_secret!)).toEqual(payload);
    await expect(verifyWebhook(toStandard.body, toStandard.headers, legacy.signing_secret!)).rejects.toMatchObject({ reason: 'invalid_signature' });

    const [toLegacy] = await arrivedAt('/legacy');
    expect(toLegacy.headers['x-webhook-signature']).toMatch(/^sha256=/);
    expect(await verifyWebhook(toLegacy.body, toLegacy.headers, legacy.signing_secret!)).toEqual(payload);

    const delivery = await waitFor('the delivery to succeed', async () => {
      const page = await client.deliveries.list({ message_id: sent.id, endpoint_id: standard.id });
      return page.data[0]?.status === 'succeeded' ? page.data[0] : undefined;
    });
    const attempts = await client.deliveries.attempts(delivery.id);
    expect(attempts.data).toMatchObject([{ attempt_number: 1, outcome: 'succeeded', status_code: 200 }]);
    expect(await client.messages.get(sent.id)).toMatchObject({ id: sent.id, payload });
  });

  it('after a secret rotation the request carries two signatures; the old and the new secret both verify', async () => {
    const rotated = await client.endpoints.rotateSecret(standard.id, { grace_seconds: 600 });
    expect(rotated.signing_secret).not.toBe(standard.signing_secret);
    await client.messages.send({ event_type: 'order.updated', payload: { n: 2 }, endpoint_id: standard.id });
    const [, second] = await arrivedAt('/standard', 2);
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [standard.signing_secret!, rotated.signing_secret, [standard.signing_secret!, rotated.signing_secret]]) {
      expect(await verifyWebhook(second.body, second.headers, secret)).toEqual({ n: 2 });
    }
  });

  it('an idempotency key makes a repeated send answer the original message', async () => {
    const first = await client.messages.send({ event_type: 'order.paid', payload: { n: 3 }, endpoint_id: legacy.id, idempotency_key: 'sdk-k1' });
    const again = await client.messages.send({ event_type: 'order.paid', payload: { n: 3 }, endpoint_id: legacy.id }, { idempotencyKey: 'sdk-k1' });
    expect(again.id).toBe(first.id);
    await expect(client.messages.send({ event_type: 'order.paid', payload: { n: 4 }, idempotency_key: 'sdk-k1' })).rejects.toMatchObject({ status: 409, code: 'idempotency_conflict' });
  });

  it('paginates a list of several pages, and endpoints.update/pause/resume/delete work', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `sdk.page.${i}`);
    for (const name of names) await client.eventTypes.create({ name, description: `type ${name}` });
    const seen: string[] = [];
    for await (const t of client.eventTypes.listAll({ limit: 2 })) seen.push(t.name);
    expect(seen).toEqual([...names].sort());
    const firstPage = await client.eventTypes.list({ limit: 2 });
    expect(firstPage).toMatchObject({ has_more: true, data: [{ name: 'sdk.page.0' }, { name: 'sdk.page.1' }] });
    const messages: unknown[] = [];
    for await (const m of client.paginate('/v1/messages', { limit: 1 })) messages.push(m);
    expect(messages.length).toBeGreaterThanOrEqual(3);

    expect(await client.endpoints.update(legacy.id, { description: 'renamed', channels: null })).toMatchObject({ description: 'renamed' });
    expect((await client.endpoints.pause(legacy.id)).status).toBe('paused');
    expect((await client.endpoints.resume(legacy.id)).status).toBe('active');
    expect(await client.endpoints.delete(legacy.id)).toBeUndefined();
  });

  it('throws HookbridgeApiError with the code: 404, 400 with details, 401 for a bad key, 403 for a non-admin key', async () => {
    const notFound = await client.endpoints.get('ep_does_not_exist').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(HookbridgeApiError);
    expect(notFound).toMatchObject({ status: 404, code: 'not_found', requestId: expect.stringMatching(/^req_[0-9a-z]{26}$/) });

    const invalid = await client.endpoints.create({ url: `${receiver.url}/x`, timeout_ms: 5 }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_request', details: expect.arrayContaining([expect.objectContaining({ field: 'timeout_ms', message: 'must be >= 1000' })]) });

    const stranger = new HookbridgeClient({ baseUrl: hb.url, apiKey: 'hb_test_not_a_real_key' });
    await expect(stranger.endpoints.list()).rejects.toMatchObject({ name: 'HookbridgeApiError', status: 401, code: 'unauthorized' });

    const key = await client.apiKeys.create({ label: 'sdk test' });
    expect(key.key).toMatch(/^hb_/);
    const plain = new HookbridgeClient({ baseUrl: hb.url, apiKey: key.key });
    await expect(plain.projects.list()).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect((await plain.apiKeys.list()).data.some((k) => k.id === key.id)).toBe(true);
    await client.apiKeys.revoke(key.id);
    await expect(plain.apiKeys.list()).rejects.toMatchObject({ status: 401 });
  });

  it('messages.delete removes the payload; replaying then throws 410 payload_expired', async () => {
    const ep = await client.endpoints.create({ url: `${receiver.url}/deleted` });
    const sent = await client.messages.send({ event_type: 'order.erased', payload: { email: 'a@example.com' }, endpoint_id: ep.id });
    await arrivedAt('/deleted');
    const delivery = await waitFor('the delivery to succeed', async () => {
      const d = await client.deliveries.get(sent.deliveries[0].id);
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(await client.messages.delete(sent.id)).toBeUndefined();
    expect(await client.messages.get(sent.id)).toMatchObject({ payload: null, payload_removed_at: expect.any(String) });
    await expect(client.deliveries.replay(delivery.id)).rejects.toMatchObject({ status: 410, code: 'payload_expired' });
    expect(await client.deliveries.bulkReplay({ ids: [delivery.id] })).toEqual({ replayed: 0, skipped: 1, expired: 1 });
    await client.endpoints.delete(ep.id);
  });

  it('exports: create counts the rows, get reads the job, download streams the file', async () => {
    const ep = await client.endpoints.create({ url: `${receiver.url}/exported` });
    const sent = await client.messages.send({ event_type: 'order.exported', payload: { n: 1 }, endpoint_id: ep.id });
    await arrivedAt('/exported');
    const job = await client.exports.create({ kind: 'deliveries', format: 'ndjson', filters: { endpoint_id: ep.id } });
    expect(job).toMatchObject({ kind: 'deliveries', format: 'ndjson', status: 'ready', row_count: 1, filters: { endpoint_id: ep.id } });
    expect(await client.exports.get(job.id)).toEqual(job);
    expect((await client.exports.list()).data.map((j) => j.id)).toContain(job.id);
    const res = await client.exports.download(job.id);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([await client.deliveries.get(sent.deliveries[0].id)]);
    await expect(client.exports.download('exp_missing')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await client.endpoints.delete(ep.id);
  });

  it('HookbridgeNetworkError when nothing listens (loopback, a closed port)', async () => {
    const closed = await startReceiver();
    await closed.close();
    const nobody = new HookbridgeClient({ baseUrl: closed.url, maxRetries: 0 });
    await expect(nobody.request('GET', '/healthz')).rejects.toBeInstanceOf(HookbridgeNetworkError);
  });
});
