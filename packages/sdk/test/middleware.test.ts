/**
 * The Express middleware and the Fastify plugin, each in a real app listening on 127.0.0.1 and
 * sent real HTTP requests signed by the server's own signing code.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeaders, type SignatureScheme } from '../../server/src/core/signing.js';
import { hookbridgeWebhook as expressWebhook, REPARSED_BODY_MESSAGE } from '../src/express.js';
import { hookbridgeWebhook as fastifyWebhook } from '../src/fastify.js';

const SECRET = 'whsec_' + btoa('thirty-two bytes of secret key!!');
const payload = { type: 'order.created', data: { id: 'ord_1', note: 'naïve ✓', n: 1.0 } };
// Spacing and key order a re-serialisation would not reproduce.
const BODY = '{ "type": "order.created",  "data": {"id":"ord_1", "note":"naïve ✓", "n": 1.0} }';

function signed(body = BODY, scheme: SignatureScheme = 'standard', secret = SECRET) {
  const h = signatureHeaders({ scheme, messageId: 'msg_1', timestamp: Math.floor(Date.now() / 1000), body, secrets: [secret] });
  return { ...h, 'content-type': 'application/json' };
}

async function post(base: string, path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(base + path, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as any };
}

describe('Express: hookbridgeWebhook()', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const app = express();
    const echo = (req: express.Request, res: express.Response) => void res.json({ webhook: req.webhook });
    app.post('/plain', expressWebhook({ secret: SECRET }), echo);
    app.post('/raw', express.raw({ type: '*/*' }), expressWebhook({ secret: [SECRET, 'whsec_' + btoa('old')] }), echo);
    app.post('/text', express.text({ type: '*/*' }), expressWebhook({ secret: SECRET }), echo);
    app.post('/small', expressWebhook({ secret: SECRET, maxBodyBytes: 64 }), echo);
    app.post('/parsed', express.json(), expressWebhook({ secret: SECRET }), echo);
    // The usual app-wide JSON parser, mounted after the webhook routes: those keep their raw body.
    app.use(express.json());
    app.post('/other-json', (req, res) => void res.json({ got: req.body }));
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ misconfigured: err.message }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('verifies the raw body read from the stream, or from express.raw()/express.text(), and sets req.webhook', async () => {
    for (const path of ['/plain', '/raw', '/text']) {
      expect(await post(base, path, BODY, signed()), path).toEqual({ status: 200, body: { webhook: payload } });
    }
    expect(await post(base, '/plain', BODY, signed(BODY, 'hookbridge'))).toEqual({ status: 200, body: { webhook: payload } });
    expect((await post(base, '/other-json', '{"a":1}', { 'content-type': 'application/json' })).body).toEqual({ got: { a: 1 } });
  });

  it('answers 400 with the reason code when verification fails', async () => {
    expect(await post(base, '/plain', BODY.replace('ord_1', 'ord_2'), signed())).toMatchObject({ status: 400, body: { error: { code: 'invalid_signature' } } });
    expect(await post(base, '/raw', BODY, { 'content-type': 'application/json' })).toMatchObject({ status: 400, body: { error: { code: 'missing_headers' } } });
    expect(await post(base, '/plain', BODY, signed(BODY, 'standard', 'whsec_' + btoa('wrong')))).toMatchObject({ status: 400, body: { error: { code: 'invalid_signature' } } });
  });

  it('answers 413 over maxBodyBytes', async () => {
    expect(await post(base, '/small', BODY, signed())).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
  });

  it('fails loudly, explaining the fix, when express.json() consumed the body first', async () => {
    expect(await post(base, '/parsed', BODY, signed())).toEqual({ status: 500, body: { misconfigured: REPARSED_BODY_MESSAGE } });
    expect(REPARSED_BODY_MESSAGE).toContain('before app.use(express.json())');
  });
});

describe('Fastify: the hookbridgeWebhook plugin', () => {
  const app = Fastify();
  let base: string;
  beforeAll(async () => {
    await app.register(async (scope) => {
      await scope.register(fastifyWebhook, { secret: SECRET });
      scope.post('/webhooks', async (request) => ({ webhook: request.webhook }));
    });
    // Outside the plugin's scope: Fastify's own JSON parser, no verification.
    app.post('/json', async (request) => ({ got: request.body, webhook: request.webhook ?? null }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('verifies the exact bytes of both schemes and decorates request.webhook', async () => {
    expect(await post(base, '/webhooks', BODY, signed())).toEqual({ status: 200, body: { webhook: payload } });
    expect(await post(base, '/webhooks', BODY, signed(BODY, 'hookbridge'))).toEqual({ status: 200, body: { webhook: payload } });
    const other = await post(base, '/webhooks', BODY, { ...signed(), 'content-type': 'text/plain' });
    expect(other.status).toBe(200);
  });

  it('answers 400 with the reason code, and 413 over the body limit', async () => {
    expect(await post(base, '/webhooks', `${BODY} `, signed())).toMatchObject({ status: 400, body: { error: { code: 'invalid_signature' } } });
    const stale = signatureHeaders({ scheme: 'standard', messageId: 'm', timestamp: Math.floor(Date.now() / 1000) - 3600, body: BODY, secrets: [SECRET] });
    expect(await post(base, '/webhooks', BODY, { ...stale, 'content-type': 'application/json' })).toMatchObject({ status: 400, body: { error: { code: 'timestamp_too_old' } } });
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
    expect((await post(base, '/webhooks', big, signed(big))).status).toBe(413);
  });

  it('leaves routes outside its scope alone', async () => {
    expect(await post(base, '/json', '{"a":1}', { 'content-type': 'application/json' })).toEqual({ status: 200, body: { got: { a: 1 }, webhook: null } });
  });
});
