import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { standardPreset, type StandardConfig } from './standard.js';
import type { IngestRequest } from './types.js';

const newSecret = () => 'whsec_' + randomBytes(24).toString('base64');
const SECRET = newSecret();
const cfg: StandardConfig = { type: 'standard', secret: SECRET };
const T = 1_700_000_000;
const NOW = T * 1000 + 1_000;
const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const payload = JSON.stringify({ type: 'invoice.paid', timestamp: '2022-11-03T20:26:10.344522Z', data: { x: 'ø' } });

const signHeaders = (secret = SECRET, ts = T, body: string = payload, id = ID) => ({
  'webhook-id': id,
  'webhook-timestamp': String(ts),
  'webhook-signature': new Webhook(secret).sign(id, new Date(ts * 1000), body),
});
const req = (body: string | Buffer, headers: Record<string, string>, now = NOW): IngestRequest => ({
  body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  headers,
  query: {},
  now,
});
const verify = (headers: Record<string, string>, body: string | Buffer = payload, config = cfg, now = NOW) =>
  standardPreset.verify(config, req(body, headers, now));

describe('standard webhooks preset', () => {
  it('accepts a request signed by the standardwebhooks library (and the library agrees)', () => {
    const h = signHeaders();
    expect(verify(h)).toEqual({ ok: true });
    // Cross-check at the real current time, since the library reads the clock itself.
    const live = signHeaders(SECRET, Math.floor(Date.now() / 1000));
    expect(new Webhook(SECRET).verify(payload, live)).toBeTruthy();
    expect(verify(live, payload, cfg, Date.now())).toEqual({ ok: true });
  });

  it('accepts the svix-* header names, preferring webhook-* when both are present', () => {
    const h = signHeaders();
    const svix = { 'svix-id': h['webhook-id'], 'svix-timestamp': h['webhook-timestamp'], 'svix-signature': h['webhook-signature'] };
    expect(verify(svix)).toEqual({ ok: true });
    expect(standardPreset.eventId(cfg, req(payload, svix))).toBe(ID);
    expect(verify({ ...svix, ...signHeaders(SECRET, T, payload, 'msg_other') })).toEqual({ ok: true });
    // Both sets complete: webhook-* decides, even when only the svix-* one would verify.
    expect(verify({ ...svix, ...h, 'webhook-signature': 'v1,AAAA' })).toEqual({ ok: false, reason: 'invalid_signature' });
    // An incomplete webhook-* set does not hide a complete svix-* one.
    expect(verify({ ...svix, 'webhook-signature': 'v1,AAAA' })).toEqual({ ok: true });
  });

  it('rejects a forged signature, a wrong secret, a changed body and a changed id', () => {
    const h = signHeaders();
    const sig = h['webhook-signature'];
    const forged = sig.slice(0, 3) + (sig[3] === 'A' ? 'B' : 'A') + sig.slice(4);
    expect(verify({ ...h, 'webhook-signature': forged })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify(signHeaders(newSecret()))).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify(h, payload.replace('paid', 'paie'))).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify({ ...h, 'webhook-id': 'msg_replayed' })).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('treats any missing header of the set as missing', () => {
    const h = signHeaders();
    expect(verify({})).toEqual({ ok: false, reason: 'missing_signature' });
    for (const k of Object.keys(h) as Array<keyof typeof h>) {
      const { [k]: _dropped, ...rest } = h;
      expect(verify(rest)).toEqual({ ok: false, reason: 'missing_signature' });
    }
  });

  it('rejects stale and future timestamps after the signature matches', () => {
    expect(verify(signHeaders(SECRET, T - 400))).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
    expect(verify(signHeaders(SECRET, T + 400))).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
    expect(verify(signHeaders(newSecret(), T - 4000))).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify(signHeaders(SECRET, T - 400), payload, { ...cfg, tolerance_seconds: 600 })).toEqual({ ok: true });
  });

  it('accepts a binary body signed over its raw bytes', () => {
    // The library converts Buffers to strings (lossy for non-UTF-8), so sign per the spec instead:
    // base64 HMAC-SHA256 of `${id}.${ts}.` + body, keyed by the base64-decoded secret.
    const body = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0x00]);
    const key = Buffer.from(SECRET.slice(6), 'base64');
    const sig = createHmac('sha256', key).update(`${ID}.${T}.`).update(body).digest('base64');
    const h = { 'webhook-id': ID, 'webhook-timestamp': String(T), 'webhook-signature': `v1,${sig}` };
    expect(verify(h, body)).toEqual({ ok: true });
  });

  it('accepts several secrets, several signatures, unprefixed secrets, and skips other versions', () => {
    const other = newSecret();
    const rotating: StandardConfig = { type: 'standard', secrets: [other, SECRET] };
    expect(verify(signHeaders(), payload, rotating)).toEqual({ ok: true });
    expect(verify(signHeaders(other), payload, rotating)).toEqual({ ok: true });
    const a = signHeaders(newSecret())['webhook-signature'];
    const b = signHeaders()['webhook-signature'];
    expect(verify({ ...signHeaders(), 'webhook-signature': `${a} ${b}` })).toEqual({ ok: true });
    expect(verify({ ...signHeaders(), 'webhook-signature': `v1a,${b.slice(3)} ${b}` })).toEqual({ ok: true });
    expect(verify({ ...signHeaders(), 'webhook-signature': `v1a,${b.slice(3)} v2,${b.slice(3)}` })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify(signHeaders(), payload, { type: 'standard', secret: SECRET.slice(6) })).toEqual({ ok: true });
  });

  it('never throws on malformed headers', () => {
    const good = signHeaders();
    const sigs = ['v1,', 'v1', ',', 'v1,!!!', 'v1,' + 'A'.repeat(10_000), '\u0000', good['webhook-signature'].slice(3)];
    for (const s of sigs) expect(verify({ ...good, 'webhook-signature': s })).toEqual({ ok: false, reason: 'invalid_signature' });
    for (const ts of ['abc', '1e9', '-5', '17000000001700000000']) {
      expect(verify({ ...good, 'webhook-timestamp': ts })).toEqual({ ok: false, reason: 'invalid_signature' });
    }
  });

  it('reads the id header as event id and the payload type as event type', () => {
    const r = req(payload, signHeaders());
    expect(standardPreset.eventId(cfg, r)).toBe(ID);
    expect(standardPreset.eventType(cfg, r)).toBe('invoice.paid');
    expect(standardPreset.eventId(cfg, req(payload, {}))).toBeNull();
    expect(standardPreset.eventType(cfg, req('nope', {}))).toBeNull();
    expect(standardPreset.credentialHeaders(cfg)).toEqual(['webhook-signature', 'svix-signature']);
  });
});
