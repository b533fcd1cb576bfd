import { describe, expect, it } from 'vitest';
import { addressBlockReason, isIpLiteral, normalizeAddress, parseCidrList } from './ip-policy.js';

// [address, expected range word in the reason]. Each of these is a way to reach something that is
// not the public internet, so each must be refused with no allow list.
const BLOCKED: Array<[string, string]> = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'linkLocal'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['255.255.255.255', 'broadcast'],
  ['224.0.0.1', 'multicast'],
  ['192.0.0.1', 'reserved'],
  ['192.0.2.1', 'reserved'],
  ['198.18.0.1', 'reserved'],
  ['240.0.0.1', 'reserved'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['::', 'unspecified'],
  ['fe80::1', 'linkLocal'],
  ['fe80::1%eth0', 'linkLocal'],
  ['fc00::1', 'uniqueLocal'],
  ['fd00:ec2::254', 'uniqueLocal'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:169.254.169.254', 'linkLocal'],
  ['::127.0.0.1', 'loopback'],
  ['::7f00:1', 'non-global'],
  ['64:ff9b::7f00:1', 'rfc6052'],
  ['64:ff9b::808:808', 'rfc6052'],
  ['2002:7f00:1::', '6to4'],
  ['2001:0:4136:e378::1', 'teredo'],
  ['2001:2::1', 'benchmarking'],
  ['2001:db8::1', 'reserved'],
  ['ff02::1', 'multicast'],
  ['fec0::1', 'deprecatedSiteLocal'],
  ['::ffff:0:7f00:1', 'rfc6145'],
  ['4000::1', 'non-global'],
];

const ALLOWED = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'];

describe('addressBlockReason without an allow list', () => {
  it.each(BLOCKED)('refuses %s (%s)', (address, word) => {
    const reason = addressBlockReason(address, []);
    expect(reason).not.toBeNull();
    expect(reason).toContain(word);
    expect(reason).toMatch(/is not allowed$/);
  });

  it.each(ALLOWED)('allows public %s', (address) => {
    expect(addressBlockReason(address, [])).toBeNull();
  });

  it('names the address in the reason', () => {
    expect(addressBlockReason('127.0.0.1', [])).toBe('loopback address 127.0.0.1 is not allowed');
  });

  it.each(['', 'example.com', 'localhost', '1.2.3.4.5', '::g', '1.2.3.4%eth0', '[127.0.0.1'])(
    'treats %j as not an IP address',
    (input) => {
      expect(addressBlockReason(input, [])).toBe('not an IP address');
    },
  );
});

describe('addressBlockReason with an allow list', () => {
  const loopback4 = parseCidrList('127.0.0.0/8');

  it('127.0.0.0/8 allows 127.0.0.1 and its IPv4-mapped form', () => {
    expect(addressBlockReason('127.0.0.1', loopback4)).toBeNull();
    expect(addressBlockReason('127.9.9.9', loopback4)).toBeNull();
    expect(addressBlockReason('::ffff:127.0.0.1', loopback4)).toBeNull();
  });

  it('127.0.0.0/8 does not allow other private ranges or IPv6 loopback', () => {
    expect(addressBlockReason('10.0.0.1', loopback4)).toMatch(/private/);
    expect(addressBlockReason('::1', loopback4)).toMatch(/loopback/);
  });

  it('::1/128 allows ::1 only', () => {
    const list = parseCidrList('::1/128');
    expect(addressBlockReason('::1', list)).toBeNull();
    expect(addressBlockReason('[::1]', list)).toBeNull();
    expect(addressBlockReason('127.0.0.1', list)).toMatch(/loopback/);
  });

  it('an allow entry written in IPv4-mapped form matches plain IPv4', () => {
    const list = parseCidrList('::ffff:10.0.0.0/104');
    expect(addressBlockReason('10.2.3.4', list)).toBeNull();
    expect(addressBlockReason('11.2.3.4', list)).toBeNull(); // public anyway
    expect(addressBlockReason('192.168.0.1', list)).toMatch(/private/);
  });

  it('a broad entry does not open link-local or metadata addresses inside it; a narrow one does', () => {
    // The inbound forwarding default (private ranges) and "allow everything" lists.
    const broad = parseCidrList('10.0.0.0/8,100.64.0.0/10,fc00::/7,192.0.0.0/24,0.0.0.0/0,::/0');
    for (const address of ['fd00:ec2::254', '100.100.100.200', '192.0.0.192', '169.254.169.254', '::ffff:169.254.169.254', 'fe80::1']) {
      expect(addressBlockReason(address, broad), address).toBe(`link-local or metadata address ${address} is not allowed unless listed explicitly`);
    }
    // Their neighbours stay open, and listing the block (or the address) opens it.
    for (const address of ['fd00:ec2::253', '100.100.100.201', '192.0.0.193', '10.0.0.1']) expect(addressBlockReason(address, broad), address).toBeNull();
    const narrow = parseCidrList('169.254.0.0/16,fd00:ec2::254,100.100.100.200/32');
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']) expect(addressBlockReason(address, narrow), address).toBeNull();
  });

  it('a bare IP allows exactly that address', () => {
    const list = parseCidrList('10.0.0.5');
    expect(addressBlockReason('10.0.0.5', list)).toBeNull();
    expect(addressBlockReason('10.0.0.6', list)).toMatch(/private/);
  });
});

describe('parseCidrList', () => {
  it('parses a comma-separated list with whitespace', () => {
    const list = parseCidrList(' 127.0.0.0/8 , ::1/128,10.0.0.1,fd00::/8 ');
    expect(list.map((e) => e.text)).toEqual(['127.0.0.0/8', '::1/128', '10.0.0.1', 'fd00::/8']);
    expect(list.map((e) => [e.range[0].toString(), e.range[1]])).toEqual([
      ['127.0.0.0', 8],
      ['::1', 128],
      ['10.0.0.1', 32],
      ['fd00::', 8],
    ]);
  });

  it('returns [] for an empty or blank string', () => {
    expect(parseCidrList('')).toEqual([]);
    expect(parseCidrList('  ')).toEqual([]);
  });

  it.each(['nope', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/08', '1.2.3.4.5/8', '::ffff:10.0.0.0/64'])(
    'throws on %j',
    (entry) => {
      expect(() => parseCidrList(`127.0.0.0/8, ${entry}`)).toThrow(`invalid CIDR "${entry}"`);
    },
  );
});

describe('normalizeAddress and isIpLiteral', () => {
  it('turns IPv4-mapped IPv6 into IPv4 and strips brackets and zone ids', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')?.toString()).toBe('127.0.0.1');
    expect(normalizeAddress('[::1]')?.toString()).toBe('::1');
    expect(normalizeAddress('fe80::1%eth0.100')?.toString()).toBe('fe80::1');
    expect(normalizeAddress('example.com')).toBeNull();
  });

  it.each([
    ['127.0.0.1', true],
    ['[::1]', true],
    ['::1', true],
    ['2606:4700:4700::1111', true],
    ['example.com', false],
    ['localhost', false],
    ['', false],
  ])('isIpLiteral(%j) is %s', (hostname, expected) => {
    expect(isIpLiteral(hostname)).toBe(expected);
  });
});
