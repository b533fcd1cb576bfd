/**
 * Consumer portal tokens: a bearer credential limited to one consumer of one project until a
 * time. They are signed, not stored (HMAC-SHA256 under a key derived from the master key), so
 * every API process of a deployment checks them without a table; what a token may reach is
 * decided by the API (api/portal-scope.ts), never by the console.
 *
 *   hbp_<base64url(JSON claims)>.<base64url(HMAC of the first part)>
 *
 * A token also names the API key that made it: the API refuses it once that key is revoked.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const PORTAL_TOKEN_PREFIX = 'hbp_';

export interface PortalClaims {
  /** The session's id (psess_…), for logs and GET /v1/portal-sessions/current. */
  sessionId: string;
  projectId: string;
  consumerId: string;
  readOnly: boolean;
  /** Epoch ms after which the token is refused. */
  expiresAt: number;
  /** The API key that created the session. */
  keyId: string;
}

interface Wire {
  v: 1;
  s: string;
  p: string;
  c: string;
  r: 0 | 1;
  e: number;
  k: string;
}

export const isPortalToken = (bearer: string) => bearer.startsWith(PORTAL_TOKEN_PREFIX);

export function newPortalSessionId(): string {
  return `psess_${randomBytes(12).toString('base64url')}`;
}

export function signPortalToken(key: Buffer, c: PortalClaims): string {
  const wire: Wire = { v: 1, s: c.sessionId, p: c.projectId, c: c.consumerId, r: c.readOnly ? 1 : 0, e: c.expiresAt, k: c.keyId };
  const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
  return `${PORTAL_TOKEN_PREFIX}${body}.${mac(key, body)}`;
}

export type PortalTokenCheck = { ok: PortalClaims } | { error: 'malformed' | 'bad_signature' | 'expired' };

/** Checks the signature first, so nothing of an unsigned token is ever parsed or trusted. */
export function verifyPortalToken(key: Buffer, token: string, now: number): PortalTokenCheck {
  if (!isPortalToken(token)) return { error: 'malformed' };
  const [body, sig, extra] = token.slice(PORTAL_TOKEN_PREFIX.length).split('.');
  if (!body || !sig || extra !== undefined) return { error: 'malformed' };
  const expected = Buffer.from(mac(key, body));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: 'bad_signature' };
  let w: Wire;
  try {
    w = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Wire;
  } catch {
    return { error: 'malformed' };
  }
  if (w.v !== 1 || typeof w.e !== 'number' || typeof w.c !== 'string' || typeof w.p !== 'string') return { error: 'malformed' };
  if (now >= w.e) return { error: 'expired' };
  return { ok: { sessionId: w.s, projectId: w.p, consumerId: w.c, readOnly: w.r === 1, expiresAt: w.e, keyId: w.k } };
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(`portal.${body}`).digest('base64url');
}
