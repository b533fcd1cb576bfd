/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`, hex HMAC-SHA256 of `${t}.${body}` keyed
 * by the whole `whsec_…` string (https://docs.stripe.com/webhooks#verify-manually).
 */
import { Type, type Static } from 'typebox';
import {
  anyDigestMatches,
  decodeHex,
  headerOf,
  hmac,
  jsonObject,
  parseTimestamp,
  secretFields,
  stringField,
  Tolerance,
  withinTolerance,
} from './shared.js';
import { OK, reject, secretsOf, type Preset } from './types.js';

export const StripeSchema = Type.Object(
  { type: Type.Literal('stripe'), ...secretFields, tolerance_seconds: Tolerance },
  { additionalProperties: false },
);
export type StripeConfig = Static<typeof StripeSchema>;

const HEADER = 'stripe-signature';

function parseHeader(value: string): { t: string | null; v1: Buffer[] } {
  let t: string | null = null;
  const v1: Buffer[] = [];
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const val = item.slice(eq + 1).trim();
    if (key === 't' && t === null) t = val;
    // v0 is Stripe's legacy test-mode scheme; only v1 is a real signature.
    else if (key === 'v1') {
      const sig = decodeHex(val);
      if (sig) v1.push(sig);
    }
  }
  return { t, v1 };
}

export const stripePreset: Preset<StripeConfig> = {
  type: 'stripe',
  schema: StripeSchema,
  verify(config, req) {
    const value = headerOf(req, HEADER);
    if (value === null) return reject('missing_signature');
    const { t, v1 } = parseHeader(value);
    const tsMs = t === null ? null : parseTimestamp(t);
    if (t === null || tsMs === null || v1.length === 0) return reject('invalid_signature');
    const expected = secretsOf(config).map((s) => hmac('sha256', s, [`${t}.`, req.body]));
    if (!anyDigestMatches(expected, v1)) return reject('invalid_signature');
    if (!withinTolerance(tsMs, req.now, config.tolerance_seconds)) return reject('timestamp_out_of_range');
    return OK;
  },
  eventId: (_config, req) => stringField(jsonObject(req.body), 'id'),
  eventType: (_config, req) => stringField(jsonObject(req.body), 'type'),
  credentialHeaders: () => [HEADER],
  credentialQuery: () => [],
};
