/**
 * Pure rules of the ingest side: who sent a request (behind trusted proxies), which of its
 * headers are passed on when forwarding, how headers are shown in rejection logs, and how a body
 * is kept as text.
 */
import { addressInList, normalizeAddress, type CidrList } from './ip-policy.js';

/**
 * Headers that describe one hop (RFC 9110 §7.6.1), or that the forwarding request sets itself
 * (host, length, framing), plus proxy bookkeeping that would mislead the destination.
 */
const NOT_FORWARDED = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect',
]);
/** Set again by the forwarding signature; a provider's own values would contradict ours. */
const RESIGNED = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature']);

/** The request headers an inbound event keeps and forwards: all but hop-by-hop and credentials. */
export function forwardableHeaders(headers: Record<string, string>, credentialHeaders: string[]): Record<string, string> {
  const drop = new Set(credentialHeaders.map((h) => h.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    // x-hookbridge-* is ours to set: a sender must not be able to pose as Hookbridge.
    if (NOT_FORWARDED.has(lower) || RESIGNED.has(lower) || drop.has(lower) || lower.startsWith('x-hookbridge-')) continue;
    out[lower] = value;
  }
  return out;
}

const ALWAYS_SECRET = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Headers as a rejection log shows them: every name, but no credential values. */
export function redactIngestHeaders(headers: Record<string, string>, credentialHeaders: string[]): Record<string, string> {
  const secret = new Set([...ALWAYS_SECRET, ...credentialHeaders.map((h) => h.toLowerCase())]);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    out[lower] = secret.has(lower) ? '[redacted]' : value.slice(0, 512);
  }
  return out;
}

/**
 * The address a request came from. X-Forwarded-For is believed only hop by hop from the right:
 * each entry is trusted only while the address that handed it to us is a trusted proxy, so a
 * client cannot choose its own source address by sending the header itself.
 */
export function sourceAddress(peer: string, forwardedFor: string | undefined, trustProxy: CidrList): string {
  const normalized = (a: string) => normalizeAddress(a)?.toString() ?? a;
  let current = normalized(peer);
  if (!forwardedFor || trustProxy.length === 0) return current;
  const hops = forwardedFor.split(',').map((h) => h.trim()).filter(Boolean);
  while (hops.length > 0 && addressInList(current, trustProxy)) {
    const next = hops.pop()!;
    if (!normalizeAddress(next)) break;
    current = normalized(next);
  }
  return current;
}

/** Whether the source may post to an endpoint limited to `allowed` CIDRs (null = anyone). */
export function sourceAllowed(source: string, allowed: CidrList | null): boolean {
  return allowed === null || addressInList(source, allowed);
}

/**
 * A body is kept as text when it is valid UTF-8 (so it reads well in the API), else as base64;
 * also when it holds a NUL byte, which PostgreSQL text cannot store.
 */
export function encodeBody(body: Buffer): { payload: string; encoding: 'base64' | null } {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) && !body.includes(0) ? { payload: text, encoding: null } : { payload: body.toString('base64'), encoding: 'base64' };
}

/** The exact bytes received, back from what encodeBody stored. */
export function decodeBody(payload: string, encoding: string | null): Buffer {
  return Buffer.from(payload, encoding === 'base64' ? 'base64' : 'utf8');
}
