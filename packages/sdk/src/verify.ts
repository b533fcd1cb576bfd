/**
 * Verifying the webhooks Hookbridge sends (DESIGN.md §5, the server's core/signing.ts), on Web
 * Crypto only so it runs on Node, Deno, Bun and edge runtimes. Two schemes, picked by the headers:
 *
 * - standard (Standard Webhooks): `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<b64> …`;
 *   HMAC-SHA256 over `${id}.${timestamp}.${body}`, key = the base64 part of `whsec_…`.
 * - hookbridge: `x-webhook-id`, `x-webhook-timestamp`, `x-webhook-signature: sha256=<hex>,…`;
 *   HMAC-SHA256 over `${timestamp}.${body}`, key = the whole secret string as UTF-8.
 *
 * The comparison is `crypto.subtle.verify`, which compares in constant time: nothing here
 * compares MACs with `===`.
 */
import { WebhookVerificationError } from './errors.js';

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way. Default 300 s. */
  toleranceSeconds?: number;
  /** The current time in milliseconds (as Date.now); for tests. */
  now?: () => number;
}

/** While rotating, the server sends one signature per active secret; more than this is not a real header. */
const MAX_SIGNATURES = 20;
const SECRET_PREFIX = 'whsec_';
const encoder = new TextEncoder();

interface Scheme {
  name: 'standard' | 'hookbridge';
  /** The HMAC key of one secret, or undefined when the secret cannot be one. */
  key(secret: string): Uint8Array<ArrayBuffer> | undefined;
  signedPrefix(id: string, timestamp: string): string;
  /** The MACs in the signature header (undecodable entries dropped). */
  signatures(header: string): Uint8Array<ArrayBuffer>[];
}

const standard: Scheme = {
  name: 'standard',
  key(secret) {
    const bytes = base64Decode(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
    return bytes && bytes.length > 0 ? bytes : undefined;
  },
  signedPrefix: (id, ts) => `${id}.${ts}.`,
  signatures: (header) =>
    header
      .split(' ')
      .filter((s) => s.startsWith('v1,'))
      .slice(0, MAX_SIGNATURES)
      .flatMap((s) => base64Decode(s.slice(3)) ?? []),
};

const hookbridge: Scheme = {
  name: 'hookbridge',
  key: (secret) => (secret.length > 0 ? encoder.encode(secret) : undefined),
  signedPrefix: (_id, ts) => `${ts}.`,
  signatures: (header) =>
    header
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.startsWith('sha256='))
      .slice(0, MAX_SIGNATURES)
      .flatMap((s) => hexDecode(s.slice(7)) ?? []),
};

/**
 * Verifies a webhook from Hookbridge and returns its parsed JSON payload; throws
 * WebhookVerificationError (with a `reason`) otherwise. `rawBody` must be the exact bytes received:
 * a body parsed and serialised again does not verify. `secret` may be several (during a rotation
 * any one of them may match).
 */
export async function verifyWebhook<T = unknown>(rawBody: string | Uint8Array | ArrayBuffer, headers: WebhookHeaders, secret: string | string[], opts: VerifyOptions = {}): Promise<T> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new Error('verifyWebhook needs Web Crypto (globalThis.crypto.subtle); on Node 18 start node with --experimental-global-webcrypto');
  }
  const get = headerReader(headers);
  const scheme = get('webhook-signature') !== undefined ? standard : get('x-webhook-signature') !== undefined ? hookbridge : undefined;
  const prefix = scheme === standard ? 'webhook-' : 'x-webhook-';
  const id = get(`${prefix}id`);
  const timestamp = get(`${prefix}timestamp`);
  const signatureHeader = get(`${prefix}signature`);
  // The hookbridge scheme does not sign the id, so it is not required there.
  if (!scheme || timestamp === undefined || signatureHeader === undefined || (scheme === standard && id === undefined)) {
    throw new WebhookVerificationError('missing_headers', 'missing the webhook-id, webhook-timestamp and webhook-signature headers (or their x-webhook-* forms)');
  }

  const secrets = Array.isArray(secret) ? secret : [secret];
  const keys = secrets.map((s) => (typeof s === 'string' ? scheme.key(s) : undefined));
  if (keys.length === 0 || keys.some((k) => k === undefined)) {
    throw new WebhookVerificationError('invalid_secret', scheme === standard ? 'each secret must be whsec_ followed by base64' : 'each secret must be a non-empty string');
  }

  checkTimestamp(timestamp, opts);

  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : new Uint8Array(rawBody);
  const signed = concat(encoder.encode(scheme.signedPrefix(id ?? '', timestamp)), body);
  const signatures = scheme.signatures(signatureHeader);
  if (!(await anyMatches(subtle, keys as Uint8Array<ArrayBuffer>[], signatures, signed))) {
    throw new WebhookVerificationError('invalid_signature', 'no signature matches any of the secrets');
  }

  try {
    return JSON.parse(new TextDecoder().decode(body)) as T;
  } catch {
    throw new WebhookVerificationError('invalid_json', 'the signature is valid but the body is not JSON');
  }
}

function checkTimestamp(timestamp: string, opts: VerifyOptions): void {
  if (!/^\d{1,15}$/.test(timestamp.trim())) throw new WebhookVerificationError('invalid_timestamp', 'the timestamp header is not Unix seconds');
  const tolerance = opts.toleranceSeconds ?? 300;
  const now = Math.floor((opts.now?.() ?? Date.now()) / 1000);
  const ts = Number(timestamp);
  if (ts < now - tolerance) throw new WebhookVerificationError('timestamp_too_old', `the timestamp is more than ${tolerance} s old`);
  if (ts > now + tolerance) throw new WebhookVerificationError('timestamp_too_new', `the timestamp is more than ${tolerance} s in the future`);
}

async function anyMatches(subtle: SubtleCrypto, keys: Uint8Array<ArrayBuffer>[], signatures: Uint8Array<ArrayBuffer>[], signed: Uint8Array<ArrayBuffer>): Promise<boolean> {
  for (const raw of keys) {
    const key = await subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    for (const sig of signatures) {
      if (await subtle.verify('HMAC', key, sig, signed)) return true;
    }
  }
  return false;
}

/** A case-insensitive header lookup over a Headers object or a plain (Node-style) record. */
function headerReader(headers: WebhookHeaders): (name: string) => string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (name) => (headers as Headers).get(name) ?? undefined;
  }
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (v === undefined) continue;
    // A repeated header arrives as a list; its values join as one list of signatures.
    lower.set(k.toLowerCase(), Array.isArray(v) ? v.join(k.toLowerCase().startsWith('x-') ? ',' : ' ') : v);
  }
  return (name) => lower.get(name);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function base64Decode(s: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

function hexDecode(s: string): Uint8Array<ArrayBuffer> | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}
