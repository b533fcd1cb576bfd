import { sign } from '@octokit/webhooks-methods';
import { Ajv } from 'ajv';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import {
  checkVerificationConfig,
  credentialHeadersOf,
  credentialQueryOf,
  eventIdOf,
  eventTypeOf,
  PRESETS,
  redactSecret,
  redactVerification,
  secretsOf,
  VerificationSchema,
  verifyRequest,
  type IngestRequest,
  type VerificationConfig,
} from './index.js';

const STD = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const req = (headers: Record<string, string>, body = '{"id":"evt_1","type":"charge.succeeded"}', query: Record<string, string> = {}): IngestRequest => ({
  body: Buffer.from(body),
  headers,
  query,
  now: 1_700_000_000_000,
});

describe('VerificationSchema', () => {
  const valid: VerificationConfig[] = [
    { type: 'stripe', secret: 'whsec_x', tolerance_seconds: 600 },
    { type: 'github', secrets: ['a', 'b'] },
    { type: 'shopify', secret: 's' },
    { type: 'slack', secret: 's' },
    { type: 'standard', secret: STD },
    { type: 'hmac', secret: 's', header: 'X-Sig', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', timestamp_header: 'X-Ts', signed_content: '{timestamp}.{body}', tolerance_seconds: 60, id_header: 'X-Id' },
    { type: 'token', secret: 't', query: 'key' },
    { type: 'basic', username: 'u', password: 'p' },
    { type: 'none' },
  ];

  it('accepts every preset shape', () => {
    for (const cfg of valid) expect(Value.Check(VerificationSchema, cfg), cfg.type).toBe(true);
    expect(Object.keys(PRESETS).sort()).toEqual(['basic', 'github', 'hmac', 'none', 'shopify', 'slack', 'standard', 'stripe', 'token']);
  });

  it('rejects unknown types, extra properties and out-of-range values', () => {
    const invalid: unknown[] = [
      { type: 'paypal', secret: 's' },
      { type: 'github', secret: 's', extra: 1 },
      { type: 'github', secret: '' },
      { type: 'github', secret: 'x'.repeat(1025) },
      { type: 'github', secrets: [] },
      { type: 'github', secrets: Array.from({ length: 11 }, (_, i) => `s${i}`) },
      { type: 'stripe', secret: 's', tolerance_seconds: 0 },
      { type: 'hmac', secret: 's' },
      { type: 'hmac', secret: 's', header: 'X Sig' },
      { type: 'hmac', secret: 's', header: 'X-Sig', algorithm: 'md5' },
      { type: 'hmac', secret: 's', header: 'X-Sig', prefix: 'a b' },
      { type: 'basic', username: 'a:b', password: 'p' },
      { type: 'none', secret: 's' },
    ];
    for (const cfg of invalid) expect(Value.Check(VerificationSchema, cfg), JSON.stringify(cfg).slice(0, 80)).toBe(false);
    // The API validates bodies with Ajv (unicode regexes), so the patterns must compile there too.
    const check = new Ajv({ allErrors: true, strict: false }).compile(VerificationSchema);
    for (const cfg of valid) expect(check(cfg), cfg.type).toBe(true);
    for (const cfg of invalid) expect(check(cfg), JSON.stringify(cfg).slice(0, 80)).toBe(false);
  });
});

describe('checkVerificationConfig', () => {
  it('passes usable configs', () => {
    expect(checkVerificationConfig({ type: 'github', secret: 's' })).toBeNull();
    expect(checkVerificationConfig({ type: 'standard', secrets: [STD, STD.slice(6)] })).toBeNull();
    expect(checkVerificationConfig({ type: 'token', secret: 't', header: 'X-Token' })).toBeNull();
    expect(checkVerificationConfig({ type: 'basic', username: 'u', password: 'p' })).toBeNull();
    expect(checkVerificationConfig({ type: 'none' })).toBeNull();
  });

  it('reports what the schema cannot', () => {
    expect(checkVerificationConfig({ type: 'github' })).toMatch(/required/);
    expect(checkVerificationConfig({ type: 'github', secret: 'a', secrets: ['b'] })).toMatch(/not both/);
    expect(checkVerificationConfig({ type: 'github', secrets: ['a', 'a'] })).toMatch(/repeat/);
    expect(checkVerificationConfig({ type: 'standard', secret: 'whsec_not base64!' })).toMatch(/base64/);
    expect(checkVerificationConfig({ type: 'standard', secret: 'whsec_abcde' })).toMatch(/base64/);
    expect(checkVerificationConfig({ type: 'token', secret: 't', header: 'X-T', query: 'k' })).toMatch(/header or query/);
    expect(checkVerificationConfig({ type: 'hmac', secret: 's', header: 'X-Sig', signed_content: 'static' })).toMatch(/\{body\}/);
    expect(checkVerificationConfig({ type: 'paypal' } as unknown as VerificationConfig)).toMatch(/unknown/);
  });
});

describe('dispatch', () => {
  it('routes to the preset for the type', async () => {
    const body = '{"id":"evt_1"}';
    const gh: VerificationConfig = { type: 'github', secret: 's3cret' };
    const headers = { 'x-hub-signature-256': await sign('s3cret', body), 'x-github-delivery': 'd1', 'x-github-event': 'push' };
    expect(verifyRequest(gh, req(headers, body))).toEqual({ ok: true });
    expect(verifyRequest(gh, req({}, body))).toEqual({ ok: false, reason: 'missing_signature' });
    expect(eventIdOf(gh, req(headers, body))).toBe('d1');
    expect(eventTypeOf(gh, req(headers, body))).toBe('push');
    expect(eventIdOf({ type: 'stripe', secret: 's' }, req({}))).toBe('evt_1');
    expect(eventTypeOf({ type: 'stripe', secret: 's' }, req({}))).toBe('charge.succeeded');
    expect(verifyRequest({ type: 'none' }, req({}))).toEqual({ ok: true });
  });

  it('lists credential headers and query parameters per config', () => {
    expect(credentialHeadersOf({ type: 'hmac', secret: 's', header: 'X-My-Sig' })).toEqual(['x-my-sig']);
    expect(credentialHeadersOf({ type: 'token', secret: 's' })).toEqual(['authorization']);
    expect(credentialQueryOf({ type: 'token', secret: 's', query: 'key' })).toEqual(['key']);
    expect(credentialHeadersOf({ type: 'standard', secret: STD })).toEqual(['webhook-signature', 'svix-signature']);
    expect(credentialHeadersOf({ type: 'none' })).toEqual([]);
  });

  it('fails closed on an unknown type', () => {
    for (const type of ['paypal', '__proto__', 'constructor']) {
      const cfg = { type } as unknown as VerificationConfig;
      expect(verifyRequest(cfg, req({}))).toEqual({ ok: false, reason: 'invalid_signature' });
      expect(eventIdOf(cfg, req({}))).toBeNull();
      expect(credentialHeadersOf(cfg)).toEqual([]);
    }
  });

  it('secretsOf lists secret or secrets', () => {
    expect(secretsOf({ secret: 'a' })).toEqual(['a']);
    expect(secretsOf({ secrets: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(secretsOf({ secret: '' })).toEqual([]);
  });
});

describe('redaction', () => {
  it('keeps a short type prefix and the last 4 characters of long secrets', () => {
    expect(redactSecret(STD)).toBe('whsec_…LaSw');
    expect(redactSecret('abcdefghijklmnop')).toBe('…mnop');
    expect(redactSecret('short')).toBe('…');
    expect(redactSecret('whsec_abcdefg')).toBe('whsec_…');
  });

  it('redacts secret, secrets and password without touching the original', () => {
    const cfg: VerificationConfig = { type: 'stripe', secret: STD, tolerance_seconds: 60 };
    expect(redactVerification(cfg)).toEqual({ type: 'stripe', secret: 'whsec_…LaSw', tolerance_seconds: 60 });
    expect(cfg.secret).toBe(STD);
    expect(redactVerification({ type: 'github', secrets: [STD, 'tiny'] })).toEqual({ type: 'github', secrets: ['whsec_…LaSw', '…'] });
    expect(redactVerification({ type: 'basic', username: 'u', password: 'correct horse battery' })).toEqual({
      type: 'basic',
      username: 'u',
      password: '…tery',
    });
    expect(redactVerification({ type: 'none' })).toEqual({ type: 'none' });
    expect(JSON.stringify(redactVerification({ type: 'hmac', secret: 'hmac-secret-value-1234', header: 'X' }))).not.toContain('secret-value');
  });
});
