/**
 * The SSRF table (DESIGN.md §7). One row per address form; each row is checked at every layer that
 * applies: (1) the pure policy, (2) the create-time check as functions and (3) through the API,
 * (4) the connect-time DNS guard, plus a real send where the target is loopback. To add a case,
 * add one line to ROWS.
 *
 * Rule for this file: traffic goes to loopback only. Names are answered by the table's injected
 * resolver, never by real DNS. Rows that must pass only ever meet the check functions. Real sends
 * happen only for rows whose every address is loopback, to a loopback receiver that must see nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { addressBlockReason, isIpLiteral, normalizeAddress, type CidrList } from '../src/core/ip-policy.js';
import { Sender } from '../src/delivery/sender.js';
import { assertLiteralHostAllowed, checkUrlAllowed, guardedLookup, UrlNotAllowedError, type Resolver } from '../src/delivery/ssrf-guard.js';
import { startReceiver, startTestServer, type ApiResponse, type Receiver, type TestServer } from './helpers.js';

/** rebinds: passes the create-time check, refused at connect time (the answer changed). */
type Verdict = 'refused' | 'passes' | 'rebinds';
const R = 'refused';
const P = 'passes';

interface Row {
  name: string;
  url: string;
  /** Outbound endpoint `url`, with HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS empty as in production. */
  out: Verdict;
  /** Inbound `destination_url`, with the default HOOKBRIDGE_FORWARD_ALLOW_NETWORKS (private + loopback). */
  fwd: Verdict;
  /** What the injected resolver answers for the URL's name; `then`: the connect-time answer, if different. */
  dns?: string[];
  then?: string[];
}

const PUBLIC = '93.184.215.14';
const PUBLIC6 = '2606:4700:4700::1111';

const ROWS: Row[] = [
  // IPv4 ranges
  { name: 'IPv4 private 10/8', url: 'http://10.1.2.3/', out: R, fwd: P },
  { name: 'IPv4 private 172.16/12 (top end)', url: 'http://172.31.255.255/', out: R, fwd: P },
  { name: 'IPv4 private 192.168/16', url: 'http://192.168.1.1:8080/admin', out: R, fwd: P },
  { name: 'IPv4 loopback 127.0.0.1', url: 'http://127.0.0.1/', out: R, fwd: P },
  { name: 'IPv4 loopback 127.255.255.254', url: 'http://127.255.255.254/', out: R, fwd: P },
  { name: 'IPv4 unspecified 0.0.0.0', url: 'http://0.0.0.0/', out: R, fwd: R },
  { name: 'IPv4 "this network" 0/8', url: 'http://0.1.2.3/', out: R, fwd: R },
  { name: 'IPv4 link-local 169.254/16', url: 'http://169.254.10.20/', out: R, fwd: R },
  { name: 'metadata AWS/GCP/Azure 169.254.169.254', url: 'http://169.254.169.254/latest/meta-data/', out: R, fwd: R },
  { name: 'metadata Alibaba 100.100.100.200 (inside CGNAT)', url: 'http://100.100.100.200/latest/meta-data/', out: R, fwd: R },
  { name: 'metadata Oracle 192.0.0.192', url: 'http://192.0.0.192/opc/v2/instance/', out: R, fwd: R },
  { name: 'IPv4 CGNAT 100.64/10', url: 'http://100.64.0.1/', out: R, fwd: P },
  { name: 'IPv4 multicast 224/4', url: 'http://239.255.255.250/', out: R, fwd: R },
  { name: 'IPv4 limited broadcast', url: 'http://255.255.255.255/', out: R, fwd: R },
  { name: 'IPv4 reserved 240/4', url: 'http://240.0.0.1/', out: R, fwd: R },
  { name: 'IPv4 benchmarking 198.18/15', url: 'http://198.19.0.1/', out: R, fwd: R },
  { name: 'IPv4 TEST-NET-1 192.0.2/24', url: 'http://192.0.2.1/', out: R, fwd: R },
  { name: 'IPv4 TEST-NET-2 198.51.100/24', url: 'http://198.51.100.7/', out: R, fwd: R },
  { name: 'IPv4 TEST-NET-3 203.0.113/24', url: 'http://203.0.113.9/', out: R, fwd: R },
  { name: 'IPv4 IETF assignments 192.0.0/24', url: 'http://192.0.0.8/', out: R, fwd: R },
  // Numeric shorthands: the WHATWG parser turns these into dotted quads before we check them
  { name: 'decimal 2130706433', url: 'http://2130706433/', out: R, fwd: P },
  { name: 'octal 0177.0.0.1', url: 'http://0177.0.0.1/', out: R, fwd: P },
  { name: 'hex dotted 0x7f.0.0.1', url: 'http://0x7f.0.0.1/', out: R, fwd: P },
  { name: 'hex 0x7f000001', url: 'http://0x7f000001/', out: R, fwd: P },
  { name: 'short 127.1', url: 'http://127.1/', out: R, fwd: P },
  { name: 'short 127.0.1', url: 'http://127.0.1/', out: R, fwd: P },
  { name: 'mixed octal/hex/short 0177.0x0.1', url: 'http://0177.0x0.1/', out: R, fwd: P },
  { name: 'trailing dot 127.0.0.1.', url: 'http://127.0.0.1./', out: R, fwd: P },
  { name: 'percent-encoded %31%32%37.0.0.1', url: 'http://%31%32%37.0.0.1/', out: R, fwd: P },
  { name: 'enclosed digits ①②⑦.0.0.1 (IDNA-mapped)', url: 'http://①②⑦.0.0.1/', out: R, fwd: P },
  { name: 'short 0 (= 0.0.0.0)', url: 'http://0/', out: R, fwd: R },
  { name: 'decimal metadata 2852039166', url: 'http://2852039166/latest/', out: R, fwd: R },
  { name: 'hex metadata 0xA9FEA9FE', url: 'http://0xA9FEA9FE/latest/', out: R, fwd: R },
  // IPv6
  { name: 'IPv6 loopback [::1]', url: 'http://[::1]/', out: R, fwd: P },
  { name: 'IPv6 unspecified [::]', url: 'http://[::]/', out: R, fwd: R },
  { name: 'IPv6 ULA fc00::1', url: 'http://[fc00::1]/', out: R, fwd: P },
  { name: 'IPv6 ULA fd12:3456::1', url: 'http://[fd12:3456::1]/', out: R, fwd: P },
  { name: 'IPv6 link-local fe80::1', url: 'http://[fe80::1]/', out: R, fwd: R },
  // The URL parser rejects zone ids, so this one never gets as far as an address.
  { name: 'IPv6 link-local with zone id fe80::1%eth0', url: 'http://[fe80::1%25eth0]/', out: R, fwd: R },
  { name: 'IPv4-mapped ::ffff:127.0.0.1', url: 'http://[::ffff:127.0.0.1]/', out: R, fwd: P },
  { name: 'IPv4-mapped hex ::ffff:7f00:1', url: 'http://[::ffff:7f00:1]/', out: R, fwd: P },
  { name: 'IPv4-mapped uncompressed', url: 'http://[0:0:0:0:0:ffff:7f00:1]/', out: R, fwd: P },
  { name: 'IPv4-mapped metadata ::ffff:169.254.169.254', url: 'http://[::ffff:169.254.169.254]/', out: R, fwd: R },
  { name: 'IPv4-compatible ::127.0.0.1', url: 'http://[::127.0.0.1]/', out: R, fwd: R },
  { name: 'IPv4-translated (SIIT) ::ffff:0:7f00:1', url: 'http://[::ffff:0:7f00:1]/', out: R, fwd: R },
  { name: 'NAT64 64:ff9b::7f00:1', url: 'http://[64:ff9b::7f00:1]/', out: R, fwd: R },
  { name: 'NAT64 metadata 64:ff9b::a9fe:a9fe', url: 'http://[64:ff9b::a9fe:a9fe]/', out: R, fwd: R },
  { name: 'NAT64 local-use 64:ff9b:1::/48', url: 'http://[64:ff9b:1::a9fe:a9fe]/', out: R, fwd: R },
  { name: '6to4 2002:7f00:1::', url: 'http://[2002:7f00:1::]/', out: R, fwd: R },
  { name: '6to4 metadata 2002:a9fe:a9fe::', url: 'http://[2002:a9fe:a9fe::]/', out: R, fwd: R },
  { name: 'Teredo 2001::/32', url: 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', out: R, fwd: R },
  { name: 'IPv6 multicast ff02::1', url: 'http://[ff02::1]/', out: R, fwd: R },
  { name: 'IPv6 site-local fec0::1', url: 'http://[fec0::1]/', out: R, fwd: R },
  { name: 'metadata AWS IPv6 fd00:ec2::254 (inside fc00::/7)', url: 'http://[fd00:ec2::254]/latest/', out: R, fwd: R },
  { name: 'IPv6 documentation 2001:db8::', url: 'http://[2001:db8::1]/', out: R, fwd: R },
  { name: 'IPv6 outside 2000::/3', url: 'http://[4000::1]/', out: R, fwd: R },
  // DNS names (injected resolver)
  { name: 'name localhost', url: 'http://localhost/', dns: ['127.0.0.1', '::1'], out: R, fwd: P },
  { name: 'name foo.localhost', url: 'http://foo.localhost/', dns: ['127.0.0.1'], out: R, fwd: P },
  { name: 'name resolving to 10/8', url: 'https://internal.test/', dns: ['10.0.0.5'], out: R, fwd: P },
  { name: 'name resolving to metadata', url: 'http://metadata.google.internal/', dns: ['169.254.169.254'], out: R, fwd: R },
  { name: 'name resolving to AWS IPv6 metadata', url: 'http://imds6.test/', dns: ['fd00:ec2::254'], out: R, fwd: R },
  { name: 'name resolving to IPv4-mapped metadata', url: 'http://mapped.test/', dns: ['::ffff:169.254.169.254'], out: R, fwd: R },
  { name: 'name with one private answer among public', url: 'https://mixed.test/', dns: [PUBLIC, PUBLIC6, '10.0.0.1'], out: R, fwd: P },
  { name: 'name with one metadata answer among public', url: 'https://mixed-meta.test/', dns: [PUBLIC, '169.254.169.254'], out: R, fwd: R },
  { name: 'DNS rebinding: public, then loopback', url: 'http://rebind.test/', dns: [PUBLIC], then: ['127.0.0.1'], out: 'rebinds', fwd: P },
  { name: 'DNS rebinding: public, then metadata', url: 'http://rebind-meta.test/', dns: [PUBLIC], then: ['169.254.169.254'], out: 'rebinds', fwd: 'rebinds' },
  // Schemes, credentials and parser confusion
  { name: 'scheme ftp:', url: 'ftp://example.com/', out: R, fwd: R },
  { name: 'scheme file:', url: 'file:///etc/passwd', out: R, fwd: R },
  { name: 'scheme gopher: (to loopback)', url: 'gopher://127.0.0.1:6379/_INFO', out: R, fwd: R },
  { name: 'credentials user:pw@', url: `http://user:pw@${PUBLIC}/`, out: R, fwd: R },
  { name: 'credentials user@', url: 'http://user@public.test/', out: R, fwd: R },
  { name: 'public-looking userinfo before a loopback host', url: `http://${PUBLIC}@127.0.0.1/`, out: R, fwd: R },
  { name: 'backslash: host is what precedes it', url: `http://127.0.0.1\\@${PUBLIC}/`, out: R, fwd: P },
  { name: 'fragment: host is what precedes it', url: `http://127.0.0.1#@${PUBLIC}/`, out: R, fwd: P },
  { name: 'relative URL', url: '/hook', out: R, fwd: R },
  { name: 'not a URL', url: 'not a url', out: R, fwd: R },
  // Public: must pass (only the check functions see these; nothing is ever sent to them)
  { name: 'public IPv4 8.8.8.8', url: 'https://8.8.8.8/hook', out: P, fwd: P },
  { name: 'public IPv6', url: `https://[${PUBLIC6}]/hook`, out: P, fwd: P },
  { name: 'public IPv4-mapped ::ffff:8.8.8.8', url: 'https://[::ffff:8.8.8.8]/hook', out: P, fwd: P },
  { name: 'name resolving to a public address', url: 'https://public.test/hook', dns: [PUBLIC], out: P, fwd: P },
  { name: 'name resolving to public v4 and v6', url: 'https://dual.test/hook', dns: [PUBLIC, PUBLIC6], out: P, fwd: P },
];

type Phase = 'create' | 'connect';
const PHASES: Phase[] = ['create', 'connect'];
const LISTS: Array<['out' | 'fwd', CidrList]> = [
  ['out', []],
  ['fwd', loadConfig({}).forwardAllowNetworks],
];
const refusedAt = (v: Verdict, phase: Phase) => v === 'refused' || (v === 'rebinds' && phase === 'connect');
const answersOf = (row: Row, phase: Phase) => (phase === 'connect' && row.then) || row.dns || [];

const byName = new Map(ROWS.filter((r) => r.dns).map((r) => [new URL(r.url).hostname, r]));
/** The table's DNS; a name not in the table fails the test instead of reaching real DNS. */
const resolverFor =
  (phase: Phase): Resolver =>
  async (hostname) => {
    const row = byName.get(hostname);
    if (!row) throw new Error(`test resolver: unexpected lookup of ${hostname}`);
    return answersOf(row, phase).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

/** The host of an http(s) URL without credentials: the rows decided by addresses, not earlier. */
function hostOf(row: Row): string | null {
  const u = URL.canParse(row.url) ? new URL(row.url) : null;
  if (!u || !/^https?:$/.test(u.protocol) || u.username || u.password) return null;
  return u.hostname;
}
const addressesOf = (row: Row, phase: Phase) => (isIpLiteral(hostOf(row)!) ? [hostOf(row)!] : answersOf(row, phase));
const ADDRESSED = ROWS.filter((r) => hostOf(r) !== null);

const settle = (p: Promise<unknown>) => p.then((v) => v, (e: unknown) => e);
function expectVerdict(refused: boolean, outcome: unknown, what: string) {
  if (!refused) return expect(outcome, what).not.toBeInstanceOf(Error);
  expect(outcome, what).toBeInstanceOf(UrlNotAllowedError);
  expect((outcome as UrlNotAllowedError).code).toBe('url_not_allowed');
}

it('the table covers at least 40 forms, each named once', () => {
  expect(ROWS.length).toBeGreaterThanOrEqual(40);
  expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
});

describe('1. pure policy: addressBlockReason', () => {
  it.each(ADDRESSED)('$name', (row) => {
    for (const [key, list] of LISTS) {
      for (const phase of PHASES) {
        const reasons = addressesOf(row, phase).map((a) => addressBlockReason(a, list));
        expect(reasons.some((r) => r !== null), `${key}, ${phase}: ${reasons.join('; ')}`).toBe(refusedAt(row[key], phase));
      }
    }
  });
});

describe('2. create time: checkUrlAllowed and assertLiteralHostAllowed', () => {
  it.each(ROWS)('$name', async (row) => {
    const host = hostOf(row);
    for (const [key, list] of LISTS) {
      const refused = refusedAt(row[key], 'create');
      expectVerdict(refused, await settle(checkUrlAllowed(row.url, list, resolverFor('create'))), `checkUrlAllowed, ${key}`);
      if (host && isIpLiteral(host)) {
        expectVerdict(refused, await settle(Promise.resolve().then(() => assertLiteralHostAllowed(new URL(row.url), list))), `literal, ${key}`);
      }
    }
  });
});

describe.sequential('3. create time through the API: 422 url_not_allowed', () => {
  let server: TestServer;
  let endpointId: string;
  let inboundId: string;
  // The server's Sender shares this resolver; outside an API call below it hears only loopback.
  let window = false;
  const resolver: Resolver = (h) => (window ? resolverFor('create')(h) : Promise.resolve([{ address: '127.0.0.1', family: 4 }]));
  async function call(method: 'post' | 'patch', path: string, body: unknown): Promise<ApiResponse> {
    window = true;
    try {
      return await server.api[method](path, body);
    } finally {
      window = false;
    }
  }
  function expectRefused(res: ApiResponse, field: string) {
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'url_not_allowed', details: [expect.objectContaining({ field })] });
  }
  const inbound = (url: string) => ({ name: 'ssrf', mode: 'forward', destination_url: url, verification: { type: 'none' } });

  beforeAll(async () => {
    server = await startTestServer({ HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS: '' }, { resolver });
    endpointId = (await call('post', '/v1/endpoints', { url: 'http://rebind.test/base', retry_schedule: [] })).body.id;
    inboundId = (await call('post', '/v1/inbound-endpoints', inbound('http://127.0.0.1:9/base'))).body.id;
    expect([endpointId, inboundId]).toEqual([expect.any(String), expect.any(String)]);
  });
  afterAll(() => server?.close());

  // No message is ever posted here, so nothing is delivered, not even to the rows that are accepted.
  it.each(ROWS.filter((r) => r.out !== P))('$name', async (row) => {
    const created = await call('post', '/v1/endpoints', { url: row.url, retry_schedule: [] });
    if (row.out === 'rebinds') {
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await server.api.delete(`/v1/endpoints/${created.body.id}`)).status).toBe(204);
    } else {
      expectRefused(created, 'url');
      expectRefused(await call('patch', `/v1/endpoints/${endpointId}`, { url: row.url }), 'url');
    }
    if (row.fwd === R) {
      expectRefused(await call('post', '/v1/inbound-endpoints', inbound(row.url)), 'destination_url');
      expectRefused(await call('patch', `/v1/inbound-endpoints/${inboundId}`, { destination_url: row.url }), 'destination_url');
    }
  });

  it('created nothing and changed no stored URL', async () => {
    expect((await server.api.get('/v1/endpoints')).body.data.map((e: { url: string }) => e.url)).toEqual(['http://rebind.test/base']);
    expect((await server.api.get('/v1/inbound-endpoints')).body.data.map((e: { destination_url: string }) => e.destination_url)).toEqual([
      'http://127.0.0.1:9/base',
    ]);
  });
});

/** Calls a dns.lookup-style function as net.connect does with happy-eyeballs on. */
const lookupOnce = (lookup: ReturnType<typeof guardedLookup>, host: string) =>
  new Promise<unknown>((done) => lookup(host, { all: true }, (err: unknown, addresses: unknown) => done(err ?? addresses)));

describe.sequential('4. connect time: guardedLookup, and a real send where the target is loopback', () => {
  let receiver: Receiver;
  let sender: Sender;
  beforeAll(async () => {
    receiver = await startReceiver();
    sender = new Sender({ allowPrivateNetworks: [], connectTimeoutMs: 2_000, resolver: resolverFor('connect') });
  });
  afterAll(async () => {
    await sender?.close();
    await receiver?.close();
  });

  it.each(ADDRESSED)('lookup: $name', async (row) => {
    for (const [key, list] of LISTS) {
      const outcome = await lookupOnce(guardedLookup(list, resolverFor('connect')), hostOf(row)!);
      expectVerdict(refusedAt(row[key], 'connect'), outcome, `guardedLookup, ${key}`);
    }
  });

  // Only rows whose every connect-time address is loopback: even a broken guard could reach no further.
  const loopbackOnly = ADDRESSED.filter((r) => r.out !== P && addressesOf(r, 'connect').every((a) => normalizeAddress(a)?.range() === 'loopback'));
  it.each(loopbackOnly)('send: $name', async (row) => {
    const url = new URL(row.url);
    url.port = String(receiver.port);
    const result = await sender.send({ url: url.href, headers: {}, body: '{}', timeoutMs: 5_000 });
    expect(result).toMatchObject({ errorClass: 'url_not_allowed', statusCode: null });
    expect(receiver.connections).toBe(0);
    expect(receiver.requests).toHaveLength(0);
  });
});
