import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { githubPreset, type GithubConfig } from './github.js';
import type { IngestRequest } from './types.js';

const SECRET = "It's a Secret to Everybody";
const cfg: GithubConfig = { type: 'github', secret: SECRET };
const payload = JSON.stringify({ action: 'opened', number: 7, title: 'héllo 😀' });

const req = (body: string | Buffer, headers: Record<string, string>): IngestRequest => ({
  body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  headers,
  query: {},
  now: 1_700_000_000_000,
});
const verify = (headers: Record<string, string>, body: string | Buffer = payload, config = cfg) => githubPreset.verify(config, req(body, headers));

describe('github preset', () => {
  it('accepts a request signed by @octokit/webhooks-methods', async () => {
    expect(verify({ 'x-hub-signature-256': await sign(SECRET, payload) })).toEqual({ ok: true });
  });

  it("matches GitHub's documented test vector", () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(verify({ 'x-hub-signature-256': sig }, 'Hello, World!')).toEqual({ ok: true });
  });

  it('rejects a forged signature, a wrong secret and a changed body', async () => {
    const good = await sign(SECRET, payload);
    const forged = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    expect(verify({ 'x-hub-signature-256': forged })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify({ 'x-hub-signature-256': await sign('wrong', payload) })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify({ 'x-hub-signature-256': good }, payload.replace('7', '8'))).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('treats an absent SHA-256 header as missing, even with the legacy SHA-1 header', () => {
    const sha1 = 'sha1=' + createHmac('sha1', SECRET).update(payload).digest('hex');
    expect(verify({})).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify({ 'x-hub-signature': sha1 })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify({ 'x-hub-signature-256': '' })).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('accepts a binary (non-UTF-8) body signed over its raw bytes', () => {
    // Documented algorithm: hex HMAC-SHA256 of the raw body keyed by the secret.
    const body = Buffer.from([0x00, 0xff, 0xc3, 0x28, 0x80, 0x7f]);
    const sig = 'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex');
    expect(verify({ 'x-hub-signature-256': sig }, body)).toEqual({ ok: true });
    expect(verify({ 'x-hub-signature-256': sig }, Buffer.from([0x00, 0xff, 0xc3, 0x28, 0x80, 0x7e]))).toEqual({
      ok: false,
      reason: 'invalid_signature',
    });
  });

  it('accepts any of several secrets and upper-case hex', async () => {
    const rotating: GithubConfig = { type: 'github', secrets: ['old-secret', SECRET] };
    expect(verify({ 'x-hub-signature-256': await sign(SECRET, payload) }, payload, rotating)).toEqual({ ok: true });
    expect(verify({ 'x-hub-signature-256': await sign('old-secret', payload) }, payload, rotating)).toEqual({ ok: true });
    expect(verify({ 'x-hub-signature-256': await sign('third', payload) }, payload, rotating)).toEqual({ ok: false, reason: 'invalid_signature' });
    const upper = 'sha256=' + (await sign(SECRET, payload)).slice(7).toUpperCase();
    expect(verify({ 'x-hub-signature-256': upper })).toEqual({ ok: true });
  });

  it('never throws on malformed headers', async () => {
    const hex = (await sign(SECRET, payload)).slice(7);
    for (const h of ['sha256=', 'sha256', hex, `sha1=${hex}`, 'sha256=zz', `sha256=${hex}0`, '=,=,', '\u0000', 'sha256=' + 'a'.repeat(10_000)]) {
      expect(verify({ 'x-hub-signature-256': h })).toEqual({ ok: false, reason: 'invalid_signature' });
    }
  });

  it('reads delivery id and event name from headers', () => {
    const r = req(payload, { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-github-event': 'pull_request' });
    expect(githubPreset.eventId(cfg, r)).toBe('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(githubPreset.eventType(cfg, r)).toBe('pull_request');
    expect(githubPreset.eventId(cfg, req(payload, {}))).toBeNull();
    expect(githubPreset.eventType(cfg, req(payload, {}))).toBeNull();
    expect(githubPreset.credentialHeaders(cfg)).toEqual(['x-hub-signature-256', 'x-hub-signature']);
    expect(githubPreset.credentialQuery(cfg)).toEqual([]);
  });
});
