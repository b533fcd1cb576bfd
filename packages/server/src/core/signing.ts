/**
 * Outbound request signing (DESIGN.md §5). Pure functions: the caller supplies the time.
 *
 * - "standard": Standard Webhooks. Key = base64-decoded part of `whsec_…`; signed content is
 *   `${id}.${timestamp}.${body}`; header `webhook-signature: v1,<b64> v1,<b64>` (one per active key).
 * - "hookbridge": the seed's header style. Key = the whole secret string as UTF-8 (as GitHub and
 *   Shopify do); signed content is `${timestamp}.${body}`; `X-Webhook-Signature: sha256=<hex>,…`.
 */
import { createHmac, randomBytes } from 'node:crypto';

export type SignatureScheme = 'standard' | 'hookbridge';

const SECRET_PREFIX = 'whsec_';

/** A new endpoint secret: whsec_ + base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key of a Standard Webhooks secret: the base64 part, with or without `whsec_`. */
export function standardKey(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(b64, 'base64');
}

export interface SignInput {
  scheme: SignatureScheme;
  /** The message id: stable across retries, so receivers can dedupe on it. */
  messageId: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** The exact bytes that will be sent. */
  body: string | Buffer;
  /** Every active secret, newest first. */
  secrets: string[];
}

export function signatureHeaders(input: SignInput): Record<string, string> {
  const ts = String(input.timestamp);
  if (input.scheme === 'standard') {
    const sigs = input.secrets.map((secret) => {
      const mac = createHmac('sha256', standardKey(secret));
      mac.update(`${input.messageId}.${ts}.`);
      mac.update(input.body);
      return `v1,${mac.digest('base64')}`;
    });
    return {
      'webhook-id': input.messageId,
      'webhook-timestamp': ts,
      'webhook-signature': sigs.join(' '),
    };
  }
  const sigs = input.secrets.map((secret) => {
    const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
    mac.update(`${ts}.`);
    mac.update(input.body);
    return `sha256=${mac.digest('hex')}`;
  });
  return {
    'x-webhook-id': input.messageId,
    'x-webhook-timestamp': ts,
    'x-webhook-signature': sigs.join(','),
  };
}
