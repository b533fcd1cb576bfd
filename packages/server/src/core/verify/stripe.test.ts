import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { stripePreset, type StripeConfig } from './stripe.js';
import type { IngestRequest } from './types.js';

const stripe = new Stripe('sk_test_x');
const SECRET = 'whsec_test_secret_0123456789abcdef';
const T = 1_700_000_000; // seconds
const NOW = T * 1000 + 2_000;
const payload = JSON.stringify({ id: 'evt_123', object: 'event', type: 'invoice.paid', data: { amount: 'é€😀' } });
const cfg: StripeConfig = { type: 'stripe', secret: SECRET };

const sign = (body: string, secret = SECRET, timestamp = T) => stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
const req = (body: string | Buffer, headers: Record<string, string>, now = NOW): IngestRequest => ({
  body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  headers,
  query: {},
  now,
});
const verify = (headers: Record<string, string>, body: string | Buffer = payload, config = cfg, now = NOW) =>
  stripePreset.verify(config, req(body, headers, now));

describe('stripe preset', () => {
  it('accepts a request signed by the stripe library (and stripe agrees)', () => {
    const header = sign(payload);
    expect(verify({ 'stripe-signature': header })).toEqual({ ok: true });
    // Cross-check: Stripe's own verifier accepts the same request at the same time.
    expect(stripe.webhooks.constructEvent(payload, header, SECRET, 300, undefined, NOW).id).toBe('evt_123');
  });

  it('rejects a forged signature of the right format', () => {
    const header = sign(payload);
    const sig = header.split('v1=')[1];
    const forged = header.replace(sig, (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
    expect(verify({ 'stripe-signature': forged })).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('rejects a missing or empty header as missing_signature', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify({ 'stripe-signature': '  ' })).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('rejects a wrong secret and a body changed by one byte', () => {
    expect(verify({ 'stripe-signature': sign(payload, 'whsec_other') })).toEqual({ ok: false, reason: 'invalid_signature' });
    const changed = Buffer.from(payload);
    changed[5] ^= 1;
    expect(verify({ 'stripe-signature': sign(payload) }, changed)).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('rejects stale and future timestamps only after the signature matches', () => {
    expect(verify({ 'stripe-signature': sign(payload, SECRET, T - 301) })).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
    expect(verify({ 'stripe-signature': sign(payload, SECRET, T + 400) })).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
    expect(verify({ 'stripe-signature': sign(payload, SECRET, T - 290) })).toEqual({ ok: true });
    // A forged request with a stale timestamp is a forgery first.
    expect(verify({ 'stripe-signature': sign(payload, 'whsec_other', T - 9999) })).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('honours tolerance_seconds', () => {
    const header = sign(payload, SECRET, T - 600);
    expect(verify({ 'stripe-signature': header }, payload, { ...cfg, tolerance_seconds: 900 })).toEqual({ ok: true });
    expect(verify({ 'stripe-signature': header }, payload, { ...cfg, tolerance_seconds: 60 })).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
  });

  it('accepts any of several secrets and any of several v1 signatures', () => {
    const rotating: StripeConfig = { type: 'stripe', secrets: ['whsec_old_secret_aaaaaaaa', SECRET] };
    expect(verify({ 'stripe-signature': sign(payload) }, payload, rotating)).toEqual({ ok: true });
    // During Stripe's own rotation the header carries one v1 per secret.
    const unrelated = sign(payload, 'whsec_unrelated').split(',')[1];
    const mine = sign(payload).split(',')[1];
    expect(verify({ 'stripe-signature': `t=${T},${unrelated},${mine},v0=deadbeef` })).toEqual({ ok: true });
    expect(verify({ 'stripe-signature': `t=${T},${unrelated},v0=${mine.slice(3)}` })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify({ 'stripe-signature': sign(payload) }, payload, { type: 'stripe', secrets: ['whsec_a_aaaaaaaa', 'whsec_b_bbbbbbb'] })).toEqual({
      ok: false,
      reason: 'invalid_signature',
    });
  });

  it('verifies the raw bytes, including a body that is not valid UTF-8', () => {
    // Stripe only sends JSON and its signer takes strings, so sign the bytes the documented way:
    // hex HMAC-SHA256 of `${t}.` + raw body with the whole whsec_ string as key.
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    const sig = createHmac('sha256', SECRET).update(`${T}.`).update(body).digest('hex');
    expect(verify({ 'stripe-signature': `t=${T},v1=${sig}` }, body)).toEqual({ ok: true });
  });

  it('never throws on malformed headers', () => {
    const garbage = ['t=', 'v1=', ',,,', '=', 'garbage', `t=abc,v1=${'a'.repeat(64)}`, `t=${T},v1=${'g'.repeat(64)}`, `t=${T}`, `v1=${'a'.repeat(64)}`, '\u0000\uffff', `t=${T},v1=abc`, 't='.repeat(5000)];
    for (const h of garbage) expect(verify({ 'stripe-signature': h })).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('extracts event id and type from the JSON body', () => {
    const r = req(payload, {});
    expect(stripePreset.eventId(cfg, r)).toBe('evt_123');
    expect(stripePreset.eventType(cfg, r)).toBe('invoice.paid');
    for (const body of ['not json', '[1]', '{"id":42}', '']) {
      expect(stripePreset.eventId(cfg, req(body, {}))).toBeNull();
    }
    expect(stripePreset.credentialHeaders(cfg)).toEqual(['stripe-signature']);
    expect(stripePreset.credentialQuery(cfg)).toEqual([]);
  });
});
