import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { shopifyPreset, type ShopifyConfig } from './shopify.js';
import type { IngestRequest } from './types.js';

// Independent signer per Shopify's docs: base64 HMAC-SHA256 of the raw body, keyed by the app's
// client secret (https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook).
const shopifySign = (secret: string, body: string | Buffer) => createHmac('sha256', secret).update(body).digest('base64');

const SECRET = 'shpss_0123456789abcdef0123456789abcdef';
const cfg: ShopifyConfig = { type: 'shopify', secret: SECRET };
const payload = JSON.stringify({ id: 820982911946154500, email: 'jon@example.com', note: 'ünïcode' });

const req = (body: string | Buffer, headers: Record<string, string>): IngestRequest => ({
  body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  headers,
  query: {},
  now: 1_700_000_000_000,
});
const verify = (headers: Record<string, string>, body: string | Buffer = payload, config = cfg) => shopifyPreset.verify(config, req(body, headers));
const H = 'x-shopify-hmac-sha256';

describe('shopify preset', () => {
  it('accepts a correctly signed request', () => {
    expect(verify({ [H]: shopifySign(SECRET, payload) })).toEqual({ ok: true });
  });

  it('rejects a forged signature, a wrong secret and a changed body', () => {
    const good = shopifySign(SECRET, payload);
    const forged = (good[0] === 'A' ? 'B' : 'A') + good.slice(1);
    expect(verify({ [H]: forged })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify({ [H]: shopifySign('shpss_wrong', payload) })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify({ [H]: good }, payload.replace('jon', 'jom'))).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('treats an absent or empty header as missing', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify({ [H]: ' ' })).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('accepts a binary (non-UTF-8) body', () => {
    const body = Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x01]);
    expect(verify({ [H]: shopifySign(SECRET, body) }, body)).toEqual({ ok: true });
  });

  it('accepts any of several secrets', () => {
    const rotating: ShopifyConfig = { type: 'shopify', secrets: ['shpss_old', SECRET] };
    expect(verify({ [H]: shopifySign('shpss_old', payload) }, payload, rotating)).toEqual({ ok: true });
    expect(verify({ [H]: shopifySign(SECRET, payload) }, payload, rotating)).toEqual({ ok: true });
    expect(verify({ [H]: shopifySign('shpss_other', payload) }, payload, rotating)).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('never throws on malformed headers', () => {
    const good = shopifySign(SECRET, payload);
    for (const h of ['!!!', '====', good.slice(0, 10), `${good}AAAA`, 'sha256=' + good, '\u0000\u00ff', 'a'.repeat(20_000), ',']) {
      expect(verify({ [H]: h })).toEqual({ ok: false, reason: 'invalid_signature' });
    }
  });

  it('reads webhook id (falling back to event id) and topic from headers', () => {
    const both = req(payload, { 'x-shopify-webhook-id': 'b54557e4', 'x-shopify-event-id': '98880550', 'x-shopify-topic': 'orders/create' });
    expect(shopifyPreset.eventId(cfg, both)).toBe('b54557e4');
    expect(shopifyPreset.eventType(cfg, both)).toBe('orders/create');
    expect(shopifyPreset.eventId(cfg, req(payload, { 'x-shopify-event-id': '98880550' }))).toBe('98880550');
    expect(shopifyPreset.eventId(cfg, req(payload, {}))).toBeNull();
    expect(shopifyPreset.credentialHeaders(cfg)).toEqual([H]);
  });
});
