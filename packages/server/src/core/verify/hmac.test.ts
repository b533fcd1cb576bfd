import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacConfigProblem, hmacPreset, type HmacConfig } from './hmac.js';
import type { IngestRequest } from './types.js';

// The generic scheme has no provider library: the independent signer is node:crypto computing
// HMAC(secret as UTF-8, signed content) in the configured algorithm and encoding (RFC 2104).
const mac = (alg: string, secret: string, parts: Array<string | Buffer>, enc: 'hex' | 'base64' = 'hex') => {
  const h = createHmac(alg, secret);
  for (const p of parts) h.update(p);
  return h.digest(enc);
};

const SECRET = 'generic-secret-0123456789';
const T = 1_700_000_000;
const NOW = T * 1000 + 3_000;
const payload = '{"event":"ping","value":"ü"}';
const basic: HmacConfig = { type: 'hmac', secret: SECRET, header: 'X-Signature' };
const timed: HmacConfig = { type: 'hmac', secret: SECRET, header: 'X-Signature', prefix: 'sha256=', timestamp_header: 'X-Timestamp' };

const req = (body: string | Buffer, headers: Record<string, string>, now = NOW): IngestRequest => ({
  body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  headers,
  query: {},
  now,
});
const verify = (config: HmacConfig, headers: Record<string, string>, body: string | Buffer = payload, now = NOW) =>
  hmacPreset.verify(config, req(body, headers, now));
const timedHeaders = (ts: number | string, secret = SECRET, body: string | Buffer = payload) => ({
  'x-signature': 'sha256=' + mac('sha256', secret, [`${ts}.`, body]),
  'x-timestamp': String(ts),
});

describe('generic hmac preset', () => {
  it('accepts hex sha256 of the body by default', () => {
    expect(verify(basic, { 'x-signature': mac('sha256', SECRET, [payload]) })).toEqual({ ok: true });
    expect(verify(basic, { 'x-signature': mac('sha256', SECRET, [payload]).toUpperCase() })).toEqual({ ok: true });
  });

  it('supports sha1/sha512, base64 and a prefix', () => {
    const b64: HmacConfig = { ...basic, algorithm: 'sha512', encoding: 'base64', prefix: 'HMAC=' };
    expect(verify(b64, { 'x-signature': 'HMAC=' + mac('sha512', SECRET, [payload], 'base64') })).toEqual({ ok: true });
    expect(verify(b64, { 'x-signature': mac('sha512', SECRET, [payload], 'base64') })).toEqual({ ok: false, reason: 'invalid_signature' });
    const sha1: HmacConfig = { ...basic, algorithm: 'sha1' };
    expect(verify(sha1, { 'x-signature': mac('sha1', SECRET, [payload]) })).toEqual({ ok: true });
    expect(verify(sha1, { 'x-signature': mac('sha256', SECRET, [payload]) })).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('rejects a forged signature, a wrong secret, a changed body and a missing header', () => {
    const good = mac('sha256', SECRET, [payload]);
    expect(verify(basic, { 'x-signature': (good[0] === 'a' ? 'b' : 'a') + good.slice(1) })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify(basic, { 'x-signature': mac('sha256', 'wrong', [payload]) })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify(basic, { 'x-signature': good }, payload + ' ')).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify(basic, {})).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('signs `{timestamp}.{body}` by default with a timestamp header and checks tolerance after the signature', () => {
    expect(verify(timed, timedHeaders(T))).toEqual({ ok: true });
    expect(verify(timed, timedHeaders(T - 301))).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
    expect(verify(timed, timedHeaders(T + 304))).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
    expect(verify(timed, timedHeaders(T - 9999, 'wrong'))).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify({ ...timed, tolerance_seconds: 20_000 }, timedHeaders(T - 9999))).toEqual({ ok: true });
    expect(verify(timed, { 'x-signature': timedHeaders(T)['x-signature'] })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify(timed, { ...timedHeaders(T), 'x-timestamp': String(T + 1) })).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('accepts millisecond and fractional timestamps', () => {
    expect(verify(timed, timedHeaders(T * 1000))).toEqual({ ok: true });
    expect(verify(timed, timedHeaders(`${T}.25`))).toEqual({ ok: true });
    expect(verify(timed, timedHeaders((T - 400) * 1000))).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
  });

  it('follows a custom signed_content template on raw bytes', () => {
    const custom: HmacConfig = { ...timed, signed_content: 'v0:{timestamp}:{body}' };
    const body = Buffer.from([0x00, 0xff, 0x80, 0x7b, 0x7d]);
    const headers = { 'x-signature': 'sha256=' + mac('sha256', SECRET, [`v0:${T}:`, body]), 'x-timestamp': String(T) };
    expect(verify(custom, headers, body)).toEqual({ ok: true });
    expect(verify(timed, headers, body)).toEqual({ ok: false, reason: 'invalid_signature' });
    // Binary body with the default template and no timestamp.
    expect(verify(basic, { 'x-signature': mac('sha256', SECRET, [body]) }, body)).toEqual({ ok: true });
  });

  it('accepts any of several secrets and comma- or space-separated signatures', () => {
    const rotating: HmacConfig = { ...basic, secret: undefined, secrets: ['old-one', SECRET] };
    const mine = mac('sha256', SECRET, [payload]);
    const other = mac('sha256', 'unrelated', [payload]);
    expect(verify(rotating, { 'x-signature': mac('sha256', 'old-one', [payload]) })).toEqual({ ok: true });
    expect(verify(basic, { 'x-signature': `${other},${mine}` })).toEqual({ ok: true });
    expect(verify(basic, { 'x-signature': `${other} ${mine}` })).toEqual({ ok: true });
    expect(verify(timed, { ...timedHeaders(T), 'x-signature': `t=${T}, sha256=${other}, ${timedHeaders(T)['x-signature']}` })).toEqual({ ok: true });
  });

  it('never throws on malformed headers and fails closed on a template without {body}', () => {
    for (const h of ['zz', 'sha256=', ',,, ,', '\u0000', 'a'.repeat(50_001), '=', mac('sha256', SECRET, [payload]).slice(1)]) {
      expect(verify(basic, { 'x-signature': h })).toEqual({ ok: false, reason: 'invalid_signature' });
    }
    expect(verify({ ...basic, encoding: 'base64' }, { 'x-signature': '***' })).toEqual({ ok: false, reason: 'invalid_signature' });
    for (const ts of ['abc', '-1', '1e9', '']) {
      const r = verify(timed, { ...timedHeaders(T), 'x-timestamp': ts });
      expect(r.ok).toBe(false);
    }
    const noBody: HmacConfig = { ...basic, signed_content: 'constant' };
    expect(verify(noBody, { 'x-signature': mac('sha256', SECRET, ['constant']) })).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('reports config problems', () => {
    expect(hmacConfigProblem(basic)).toBeNull();
    expect(hmacConfigProblem(timed)).toBeNull();
    expect(hmacConfigProblem({ ...basic, signed_content: '{timestamp}' })).toMatch(/\{body\}/);
    expect(hmacConfigProblem({ ...basic, signed_content: '{timestamp}.{body}' })).toMatch(/timestamp_header/);
    expect(hmacConfigProblem({ ...timed, signed_content: '{id}.{body}' })).toMatch(/unknown placeholder \{id\}/);
    expect(hmacConfigProblem({ ...basic, tolerance_seconds: 60 })).toMatch(/tolerance_seconds/);
  });

  it('uses id_header as event id and redacts the signature header', () => {
    const withId: HmacConfig = { ...basic, id_header: 'X-Delivery-Id' };
    expect(hmacPreset.eventId(withId, req(payload, { 'x-delivery-id': 'd-1' }))).toBe('d-1');
    expect(hmacPreset.eventId(basic, req(payload, { 'x-delivery-id': 'd-1' }))).toBeNull();
    expect(hmacPreset.eventType(basic, req(payload, {}))).toBeNull();
    expect(hmacPreset.credentialHeaders(basic)).toEqual(['x-signature']);
    expect(hmacPreset.credentialQuery(basic)).toEqual([]);
  });
});
