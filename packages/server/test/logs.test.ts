/**
 * DESIGN §7: logs never contain secrets, API keys, Authorization values or token query
 * parameters — in either format (json, pretty) — and the lines of a request carry its id.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { ADMIN_KEY, type Receiver, startTestServer, useServer, waitForDelivery } from './helpers.js';

const lines: string[] = [];
const t = useServer({ HOOKBRIDGE_LOG_LEVEL: 'trace' }, { logLines: lines });
let r: Receiver;

beforeAll(async () => {
  r = await t.receiver();
});

describe('logs', () => {
  it('never contain keys, signing secrets or receiver credentials, even at trace level', async () => {
    const project = (await t.api.post('/v1/projects', { name: 'logs' })).body;
    const key = (await t.api.post(`/v1/projects/${project.id}/api-keys`)).body.key as string;
    const ep = (await t.api.post('/v1/endpoints', { url: r.url, headers: { Authorization: 'Bearer receiver-credential-xyz' } })).body;
    const rotated = (await t.api.post(`/v1/endpoints/${ep.id}/secret/rotate`, { grace_seconds: 60 })).body.signing_secret as string;
    const m = (await t.api.post('/v1/messages', { event_type: 'l.t', payload: { a: 1 }, endpoint_id: ep.id })).body;
    await waitForDelivery(t.api, m.deliveries[0].id, ['succeeded']);
    // errors are logged too: a request that fails validation, and one with a bad key
    await t.api.post('/v1/endpoints', { url: 5 });
    await t.api.withKey('hb_live_not_a_real_key_but_secretish').get('/v1/endpoints');
    await t.api.withKey(key).get('/v1/endpoints');

    const all = lines.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [ADMIN_KEY, key, ep.signing_secret, rotated, 'receiver-credential-xyz', 'hb_live_not_a_real_key_but_secretish']) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.slice(8, 30));
    }
  });

  it('show a refused request with its id and its URL, token query parameters masked', async () => {
    const token = 'query-token-secret-value-123';
    const ep = (await t.api.post('/v1/inbound-endpoints', { name: 'logs', mode: 'pull', verification: { type: 'token', secret: token, query: 'token' } })).body;
    const paused = await t.api.post(`/v1/inbound-endpoints/${ep.id}/pause`);
    expect(paused.status).toBe(200);
    // The right token, refused (paused): logged, and the token must not be.
    const refused = await fetch(`${t.server.url}/in/${ep.id}?x=1&token=${token}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(refused.status).toBe(503);
    const id = refused.headers.get('x-request-id')!;
    // And an API request with a key in its query.
    const keyInQuery = await t.api.get(`/v1/endpoints/ep_none?api_key=${ADMIN_KEY}`);
    expect(keyInQuery.status).toBe(404);

    await expect.poll(() => lines.some((l) => l.includes(id))).toBe(true);
    const line = JSON.parse(lines.find((l) => l.includes(id))!);
    expect(line).toMatchObject({ request_id: id, msg: 'request failed', statusCode: 503, req: { method: 'POST', url: `/in/${ep.id}?x=[redacted]&token=[redacted]` } });
    const apiLine = JSON.parse(lines.find((l) => l.includes(keyInQuery.headers.get('x-request-id')!))!);
    expect(apiLine.req.url).toBe('/v1/endpoints/ep_none?api_key=[redacted]');
    const all = lines.join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain(ADMIN_KEY);
  });

  it('redact credential headers in any logged object', () => {
    const out: string[] = [];
    const log = createLogger('info', 'json', { write: (l: string) => void out.push(l) });
    const headers = { authorization: 'Bearer h-auth', cookie: 'sid=h-cookie', 'set-cookie': 'sid=h-set-cookie', 'x-api-key': 'h-api-key', 'proxy-authorization': 'Basic h-proxy', accept: 'h-visible' };
    log.info({ req: { method: 'GET', url: '/x?secret=h-query', headers }, headers, upstream: { headers } }, 'with headers');
    const text = out.join('');
    for (const secret of ['h-auth', 'h-cookie', 'h-set-cookie', 'h-api-key', 'h-proxy', 'h-query']) expect(text).not.toContain(secret);
    expect(text).toContain('h-visible');
    expect(JSON.parse(text).headers).toMatchObject({ cookie: '[redacted]', 'x-api-key': '[redacted]', 'proxy-authorization': '[redacted]' });
  });

  it('in the pretty format: human-readable lines, redacted the same, with the request id', async () => {
    const pretty: string[] = [];
    const s = await startTestServer({ HOOKBRIDGE_LOG_LEVEL: 'debug', HOOKBRIDGE_LOG_FORMAT: 'pretty' }, { logLines: pretty });
    try {
      const res = await s.api.withKey('hb_live_pretty_format_secret_key').get(`/v1/endpoints?token=pretty-query-secret`);
      expect(res.status).toBe(401);
      const id = res.headers.get('x-request-id')!;
      await expect.poll(() => pretty.join('').includes(id)).toBe(true);
      const line = pretty.join('').split('\n').find((l) => l.includes('request failed'))!;
      expect(() => JSON.parse(line)).toThrow();
      expect(line).toMatch(/DEBUG.*request failed/);
      const all = pretty.join('');
      expect(all).toContain('token=[redacted]');
      expect(all).not.toContain('pretty-query-secret');
      expect(all).not.toContain('hb_live_pretty_format_secret_key');
      expect(all).not.toContain(ADMIN_KEY);
      // Not a terminal: no colour codes.
      expect(all).not.toContain('\u001b[');
    } finally {
      await s.close();
    }
  });
});
