/**
 * Keeps deliveries away from internal networks. Two layers, because either alone is bypassable:
 *  - checkUrlAllowed at endpoint create time gives the user an immediate, readable error;
 *  - guardedLookup runs inside every connection attempt, so a name that resolved to a public
 *    address at create time but to 127.0.0.1 now (DNS rebinding) is still refused, and the
 *    address checked is exactly the address the socket will use.
 * undici skips `lookup` for IP-literal hosts, hence assertLiteralHostAllowed for the send path.
 */
import dns from 'node:dns';
import { addressBlockReason, isIpLiteral, normalizeAddress, type CidrList } from '../core/ip-policy.js';

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = async (hostname) => {
  // verbatim: keep the resolver's order so the address we vet first is the one we would dial first.
  const answers = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family }));
};

export class UrlNotAllowedError extends Error {
  readonly code = 'url_not_allowed';
  constructor(message: string) {
    super(message);
    this.name = 'UrlNotAllowedError';
  }
}

/** Literal hosts only; a DNS name passes here and is vetted when it is resolved. */
export function assertLiteralHostAllowed(url: URL, allow: CidrList): void {
  if (!isIpLiteral(url.hostname)) return;
  const reason = addressBlockReason(url.hostname, allow);
  if (reason) throw new UrlNotAllowedError(`URL host ${url.hostname} refused: ${reason}`);
}

function firstBlocked(hostname: string, addresses: ReadonlyArray<{ address: string }>, allow: CidrList) {
  for (const { address } of addresses) {
    const reason = addressBlockReason(address, allow);
    // One bad answer taints the whole set: the OS or happy-eyeballs may pick any of them.
    // The message names the kind of address, not the address: answering tenants with what an
    // internal name resolves to would turn this guard into a DNS oracle for the private network.
    if (reason) return new UrlNotAllowedError(`host ${hostname} resolves to a non-public address, which is not allowed`);
  }
  return null;
}

export async function checkUrlAllowed(url: string, allow: CidrList, resolve: Resolver = systemResolver): Promise<URL> {
  let parsed: URL;
  try {
    // Absolute only (no base). The WHATWG parser also canonicalises 2130706433, 0x7f.1 and
    // 0177.0.0.1 to 127.0.0.1, so the literal check below sees the address that will be dialled.
    parsed = new URL(url);
  } catch {
    throw new UrlNotAllowedError('URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UrlNotAllowedError(`URL protocol ${parsed.protocol} is not allowed; use http: or https:`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // Credentials in the URL would be stored and shown back in plain text with the endpoint.
    throw new UrlNotAllowedError('URL must not contain a username or password');
  }
  if (isIpLiteral(parsed.hostname)) {
    assertLiteralHostAllowed(parsed, allow);
    return parsed;
  }
  let answers: Array<{ address: string }>;
  try {
    answers = await resolve(parsed.hostname);
  } catch (err) {
    // A name that does not resolve yet is not dangerous: every attempt goes through
    // guardedLookup, which will vet whatever it resolves to later. Only DNS failures (which carry
    // a code such as ENOTFOUND or EAI_AGAIN) are forgiven; anything else is a bug to surface.
    if (typeof (err as { code?: unknown } | null)?.code === 'string') return parsed;
    throw err;
  }
  const blocked = firstBlocked(parsed.hostname, answers, allow);
  if (blocked) throw blocked;
  return parsed;
}

type LookupCallback = (...args: any[]) => void;

function familyOf(options: unknown): 0 | 4 | 6 {
  const f = typeof options === 'number' ? options : (options as { family?: unknown } | null)?.family;
  if (f === 4 || f === 'IPv4') return 4;
  if (f === 6 || f === 'IPv6') return 6;
  return 0;
}

/**
 * Drop-in for dns.lookup in `connect: { lookup }`. net.connect calls it with `all: true` when
 * happy-eyeballs (autoSelectFamily) is on and with a single-answer callback otherwise, so both
 * shapes are produced; callers that pass (hostname, callback) are accepted too.
 */
export function guardedLookup(
  allow: CidrList,
  resolve: Resolver = systemResolver,
): (hostname: string, options: any, callback: LookupCallback) => void {
  return (hostname, options, callback) => {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    const family = familyOf(options);
    const all = typeof options === 'object' && options !== null && options.all === true;

    // An address handed to us directly is its own answer; asking DNS about it would be pointless.
    const literal = normalizeAddress(hostname);
    const answers: Promise<Array<{ address: string; family: number }>> = literal
      ? Promise.resolve([{ address: literal.toString(), family: literal.kind() === 'ipv4' ? 4 : 6 }])
      : Promise.resolve().then(() => resolve(hostname));

    answers.then(
      (resolved) => {
        // Checked before filtering by family so a refused address cannot hide behind the family
        // the caller asked for and surface in a later attempt.
        const blocked = firstBlocked(hostname, resolved, allow);
        if (blocked) return callback(blocked);
        const usable = resolved
          .map(({ address, family: fam }) => ({ address, family: fam === 6 || address.includes(':') ? 6 : 4 }))
          .filter((a) => family === 0 || a.family === family);
        if (usable.length === 0) {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
            code: 'ENOTFOUND',
            hostname,
          });
          return callback(err);
        }
        if (all) return callback(null, usable);
        return callback(null, usable[0].address, usable[0].family);
      },
      (err: unknown) => callback(err),
    );
  };
}
