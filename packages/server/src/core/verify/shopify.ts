/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`, no timestamp
 * (https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook).
 */
import { Type, type Static } from 'typebox';
import { anyDigestMatches, decodeBase64, headerOf, hmac, secretFields } from './shared.js';
import { OK, reject, secretsOf, type Preset } from './types.js';

export const ShopifySchema = Type.Object({ type: Type.Literal('shopify'), ...secretFields }, { additionalProperties: false });
export type ShopifyConfig = Static<typeof ShopifySchema>;

const HEADER = 'x-shopify-hmac-sha256';

export const shopifyPreset: Preset<ShopifyConfig> = {
  type: 'shopify',
  schema: ShopifySchema,
  verify(config, req) {
    const value = headerOf(req, HEADER);
    if (value === null) return reject('missing_signature');
    // Base64 never contains a comma, so splitting only matters for a joined repeated header.
    const sigs = value
      .split(',')
      .map((s) => decodeBase64(s.trim()))
      .filter((b): b is Buffer => b !== null);
    if (sigs.length === 0) return reject('invalid_signature');
    const expected = secretsOf(config).map((s) => hmac('sha256', s, [req.body]));
    return anyDigestMatches(expected, sigs) ? OK : reject('invalid_signature');
  },
  eventId: (_config, req) => headerOf(req, 'x-shopify-webhook-id') ?? headerOf(req, 'x-shopify-event-id'),
  eventType: (_config, req) => headerOf(req, 'x-shopify-topic'),
  credentialHeaders: () => [HEADER],
  credentialQuery: () => [],
};
