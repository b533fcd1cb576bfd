/** Helpers shared by the verification presets: parsing that never throws, constant-time compares. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Type } from 'typebox';
import type { IngestRequest } from './types.js';

// --- schema pieces ------------------------------------------------------------------------

export const SecretString = Type.String({ minLength: 1, maxLength: 1024 });
/** Both optional here: "exactly one of" is enforced by checkVerificationConfig. */
export const secretFields = {
  secret: Type.Optional(SecretString),
  secrets: Type.Optional(Type.Array(SecretString, { minItems: 1, maxItems: 10 })),
};
export const Tolerance = Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 }));
export const HeaderName = Type.String({ minLength: 1, maxLength: 128, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" });

export const DEFAULT_TOLERANCE_SECONDS = 300;

// --- request access -----------------------------------------------------------------------

/** A header's trimmed value, or null when absent or blank (both count as "missing"). */
export function headerOf(req: IngestRequest, name: string): string | null {
  const key = name.toLowerCase();
  // hasOwn: a header literally named "constructor" must not resolve to Object.prototype's.
  if (!Object.hasOwn(req.headers, key)) return null;
  const value = req.headers[key];
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

export function queryOf(req: IngestRequest, name: string): string | null {
  if (!Object.hasOwn(req.query, name)) return null;
  const value = req.query[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The body as a JSON object, or null for anything else (form bodies, arrays, garbage). */
export function jsonObject(body: Buffer): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function stringField(obj: Record<string, unknown> | null, key: string): string | null {
  if (!obj || !Object.hasOwn(obj, key)) return null;
  const v = obj[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

// --- timestamps ---------------------------------------------------------------------------

/**
 * Unix seconds as sent by Stripe, Slack and Standard Webhooks → milliseconds; null if malformed.
 * `flexible` (generic HMAC) also accepts fractional seconds and milliseconds (values > 1e12).
 */
export function parseTimestamp(raw: string, flexible = false): number | null {
  const pattern = flexible ? /^\d{1,16}(\.\d{1,9})?$/ : /^\d{1,12}$/;
  if (!pattern.test(raw)) return null;
  const n = Number(raw);
  if (!Number.isFinite(n)) return null;
  return flexible && n > 1e12 ? n : n * 1000;
}

/** Both directions: a far-future timestamp is as suspicious as a stale one (pre-signed replays). */
export function withinTolerance(tsMs: number, now: number, toleranceSeconds: number | undefined): boolean {
  return Math.abs(now - tsMs) <= (toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
}

// --- crypto -------------------------------------------------------------------------------

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** HMAC over several parts fed in order, so a large body is never copied into a new buffer. */
export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, parts: Array<string | Buffer>): Buffer {
  const mac = createHmac(algorithm, key);
  for (const p of parts) mac.update(p);
  return mac.digest();
}

/**
 * True if any candidate equals any expected digest. Every pair is compared (no early exit) and
 * lengths are checked before timingSafeEqual, which throws on unequal lengths.
 */
export function anyDigestMatches(expected: Buffer[], candidates: Buffer[]): boolean {
  let found = false;
  for (const e of expected) {
    for (const c of candidates) {
      if (c.length === e.length && timingSafeEqual(c, e)) found = true;
    }
  }
  return found;
}

// Buffer.from(…, 'hex'|'base64') silently stops at the first bad character; validate first so a
// garbage header is rejected as garbage rather than decoded into some shorter prefix.
export function decodeHex(s: string): Buffer | null {
  return s.length > 0 && s.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(s) ? Buffer.from(s, 'hex') : null;
}

export function decodeBase64(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) return null;
  const buf = Buffer.from(s, 'base64');
  return buf.length > 0 ? buf : null;
}

/** Strict check used on configured secrets, where a typo should be an error, not a silent mismatch. */
export function isStrictBase64(s: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return false;
  const unpadded = s.replace(/=+$/, '');
  return Buffer.from(s, 'base64').toString('base64').replace(/=+$/, '') === unpadded;
}

/** Token compare that leaks neither content nor length: both sides are hashed first. */
export function tokenEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
