/**
 * Which IP addresses a webhook may be delivered to. Pure logic so that the create-time URL check,
 * the connect-time DNS guard and the config parser all share one definition of "blocked".
 *
 * The policy is deny-by-default: an address is allowed only when ipaddr.js classifies it as plain
 * public unicast, or when the operator put it in the allow list. Enumerating bad ranges instead
 * would silently allow whatever range we forgot (NAT64, 6to4, Teredo, ...), each of which can
 * route to an internal IPv4 host.
 */
import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

export type CidrList = ReadonlyArray<{ text: string; range: [IpAddress, number] }>;

// ipaddr.js labels ::/96 (IPv4-compatible), 4000::/2 and other unassigned space as 'unicast'.
// Only 2000::/3 is handed out as global unicast, so anything outside it cannot be a legitimate
// public receiver and some stacks still route ::a.b.c.d to the IPv4 host.
const IPV6_GLOBAL_UNICAST: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('2000::'), 3];

// Link-local and cloud metadata addresses stay refused unless listed explicitly (DESIGN.md §7):
// an allow entry opens them only when it is no wider than the block itself. Otherwise a broad
// entry such as the forwarding default's fc00::/7 or 100.64.0.0/10 would open AWS's fd00:ec2::254
// or Alibaba's 100.100.100.200 by accident. 192.0.0.192 is Oracle Cloud's.
const EXPLICIT_ONLY: ReadonlyArray<[IpAddress, number]> = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32', '192.0.0.192/32'].map(
  (cidr) => ipaddr.parseCIDR(cidr),
);

/**
 * Parses like ipaddr.process (IPv4-mapped IPv6 becomes IPv4) but also accepts the bracketed form
 * URL.hostname uses and drops IPv6 zone ids, which ipaddr.js only partly understands and which do
 * not change which host is reached.
 */
export function normalizeAddress(address: string): IpAddress | null {
  let s = address.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.includes(':')) {
    const pct = s.indexOf('%');
    if (pct !== -1) s = s.slice(0, pct);
  }
  if (s === '' || !ipaddr.isValid(s)) return null;
  try {
    return ipaddr.process(s);
  } catch {
    return null;
  }
}

/**
 * "a.b.c.d/n, x::/n, 10.0.0.1" -> ranges. Entries written in IPv4-mapped form are stored as IPv4,
 * because addresses are normalized to IPv4 before matching and would otherwise never hit them.
 */
export function parseCidrList(raw: string): CidrList {
  const out: Array<{ text: string; range: [IpAddress, number] }> = [];
  for (const part of raw.split(',')) {
    const text = part.trim();
    // Tolerate "a, b," as people write it in env vars.
    if (text === '') continue;
    const range = parseCidr(text);
    if (!range) throw new Error(`invalid CIDR "${text}"`);
    out.push({ text, range });
  }
  return out;
}

function parseCidr(text: string): [IpAddress, number] | null {
  const slash = text.indexOf('/');
  if (slash === -1) {
    const addr = normalizeAddress(text);
    if (!addr) return null;
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  }
  const prefixText = text.slice(slash + 1);
  // ipaddr.parseCIDR accepts "1.2.3.4/08"; insist on a plain decimal prefix.
  if (!/^(0|[1-9]\d{0,2})$/.test(prefixText)) return null;
  const addr = normalizeAddress(text.slice(0, slash));
  if (!addr) return null;
  const prefix = Number(prefixText);
  const written = text.slice(0, slash).trim();
  const wasMapped = addr.kind() === 'ipv4' && written.includes(':');
  if (wasMapped) {
    if (prefix < 96 || prefix > 128) return null;
    return [addr, prefix - 96];
  }
  if (prefix > (addr.kind() === 'ipv4' ? 32 : 128)) return null;
  return [addr, prefix];
}

const inRange = (addr: IpAddress, range: [IpAddress, number]) =>
  // ipaddr's match() throws across families, and a v4 range must not match a v6 address anyway.
  range[0].kind() === addr.kind() && addr.match(range);

function inAllowList(addr: IpAddress, allow: CidrList, minPrefix = 0): boolean {
  return allow.some(({ range }) => range[1] >= minPrefix && inRange(addr, range));
}

/** Whether `address` (any textual form) lies in one of the ranges. */
export function addressInList(address: string, list: CidrList): boolean {
  const addr = normalizeAddress(address);
  return addr !== null && inAllowList(addr, list);
}

/** Why `address` must not be connected to, or null when it may be. */
export function addressBlockReason(address: string, allow: CidrList): string | null {
  const addr = normalizeAddress(address);
  if (!addr) return 'not an IP address';
  const shown = address.trim();
  const explicitOnly = EXPLICIT_ONLY.find((block) => inRange(addr, block));
  if (inAllowList(addr, allow, explicitOnly?.[1])) return null;
  if (explicitOnly && inAllowList(addr, allow)) return `link-local or metadata address ${shown} is not allowed unless listed explicitly`;
  const range: string = addr.range();
  if (range !== 'unicast') return `${range} address ${shown} is not allowed`;
  if (addr.kind() === 'ipv6' && !addr.match(IPV6_GLOBAL_UNICAST)) {
    return `non-global IPv6 address ${shown} is not allowed`;
  }
  return null;
}

/**
 * True when a URL hostname names an address rather than a DNS name. Uses the same parser as
 * normalizeAddress so that nothing can be an address to one function and a name to the other.
 */
export function isIpLiteral(hostname: string): boolean {
  return normalizeAddress(hostname) !== null;
}
