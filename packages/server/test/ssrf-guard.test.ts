/**
 * Rule for this file: traffic may only go to loopback. Refusals of other addresses are proven with
 * injected resolvers, and every undici agent here is wrapped in `loopbackOnly` so that even a bug
 * in the guard could not make a test dial anywhere else.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeAddress, parseCidrList } from '../src/core/ip-policy.js';
import { assertLiteralHostAllowed, checkUrlAllowed, guardedLookup, systemResolver } from '../src/delivery/ssrf-guard.js';
import { UrlNotAllowedError, type Resolver } from '../src/delivery/ssrf-guard.js';

type Answer = { address: string; family: number };
const v = (address: string): Answer => ({ address, family: address.includes(':') ? 6 : 4 });

/** Answers from a fixed table; any other name fails the test instead of reaching real DNS. */
function fakeResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (hostname: string) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) throw new Error(`test resolver: unexpected lookup of ${hostname}`);
    return answers.map(v);
  };
  return Object.assign(fn, { calls });
}

const notFound: Resolver = async (hostname) => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

const loopbackResolver = fakeResolver({ localhost: ['127.0.0.1', '::1'] });

/** Settles to the rejection reason, or null if `promise` fulfilled. */
const failure = (promise: Promise<unknown>) => promise.then(() => null, (e: unknown) => e);

async function refusal(promise: Promise<unknown>): Promise<UrlNotAllowedError> {
  const err = await failure(promise);
  expect(err).toBeInstanceOf(UrlNotAllowedError);
  expect((err as UrlNotAllowedError).code).toBe('url_not_allowed');
  return err as UrlNotAllowedError;
}

const LOOPBACK_URLS = ['http://127.0.0.1:1/', 'http://localhost:1/', 'http://[::1]:1/', 'http://[::ffff:127.0.0.1]:1/'];

describe('checkUrlAllowed', () => {
  // Numeric forms are canonicalised to 127.0.0.1 by new URL(); these prove we check after that.
  const numeric = ['http://2130706433:1/', 'http://0x7f000001/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://127.1/', 'http://127.0.0.1./'];
  const otherHosts = ['https://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://[64:ff9b::7f00:1]/'];
  const notHttp = ['ftp://example.com/', 'file:///etc/passwd', 'http://user:pw@example.com/', 'http://user@example.com/', 'not a url', '/relative'];
  it.each([...LOOPBACK_URLS, ...numeric, ...otherHosts, ...notHttp])('refuses %s', async (url) => {
    await refusal(checkUrlAllowed(url, [], loopbackResolver));
  });

  it('refuses a name when any one of its addresses is private', async () => {
    const resolve = fakeResolver({ 'mixed.test': ['93.184.216.34', '10.0.0.1'] });
    const err = await refusal(checkUrlAllowed('https://mixed.test/hook', [], resolve));
    expect(err.message).toContain('mixed.test');
    // what an internal name resolves to is not told to the tenant
    expect(err.message).not.toContain('10.0.0.1');
  });

  it('passes a name resolving only to public addresses and returns the parsed URL', async () => {
    const resolve = fakeResolver({ 'public.test': ['93.184.216.34', '2606:4700:4700::1111'] });
    const url = await checkUrlAllowed('https://public.test/hook?x=1', [], resolve);
    expect(url).toBeInstanceOf(URL);
    expect(url.href).toBe('https://public.test/hook?x=1');
    expect(resolve.calls).toEqual(['public.test']);
  });

  it('passes public IP literals without resolving', async () => {
    const resolve = fakeResolver({});
    await expect(checkUrlAllowed('http://93.184.216.34/', [], resolve)).resolves.toBeInstanceOf(URL);
    await expect(checkUrlAllowed('http://[2606:4700:4700::1111]/', [], resolve)).resolves.toBeInstanceOf(URL);
    expect(resolve.calls).toEqual([]);
  });

  it('passes a name that does not resolve (yet)', async () => {
    await expect(checkUrlAllowed('https://nowhere.test/', [], notFound)).resolves.toBeInstanceOf(URL);
  });

  it('does not swallow a resolver failure that is not a DNS error', async () => {
    await expect(checkUrlAllowed('https://odd.test/', [], fakeResolver({}))).rejects.toThrow(/unexpected lookup/);
  });

  it('lets loopback through when the allow list says so', async () => {
    const allow = parseCidrList('127.0.0.0/8,::1/128');
    for (const url of [...LOOPBACK_URLS, 'http://2130706433:1/', 'http://0x7f000001/', 'http://0177.0.0.1/']) {
      await expect(checkUrlAllowed(url, allow, loopbackResolver), url).resolves.toBeInstanceOf(URL);
    }
    // The allow list opens exactly what it names.
    await refusal(checkUrlAllowed('http://169.254.169.254/', allow, loopbackResolver));
  });
});

describe('assertLiteralHostAllowed', () => {
  it('refuses blocked literals and ignores names', () => {
    expect(() => assertLiteralHostAllowed(new URL('http://0x7f.1/'), [])).toThrow(UrlNotAllowedError);
    expect(() => assertLiteralHostAllowed(new URL('http://[::1]/'), [])).toThrow(UrlNotAllowedError);
    expect(() => assertLiteralHostAllowed(new URL('http://[::1]/'), parseCidrList('::1'))).not.toThrow();
    expect(() => assertLiteralHostAllowed(new URL('http://8.8.8.8/'), [])).not.toThrow();
    expect(() => assertLiteralHostAllowed(new URL('http://localhost/'), [])).not.toThrow();
  });
});

/** Calls a dns.lookup-style function and returns what it called back with. */
function callLookup(lookup: ReturnType<typeof guardedLookup>, hostname: string, options?: unknown) {
  return new Promise<unknown[]>((resolve) => {
    if (options === undefined) (lookup as (h: string, cb: unknown) => void)(hostname, (...args: unknown[]) => resolve(args));
    else lookup(hostname, options, (...args: unknown[]) => resolve(args));
  });
}

describe('guardedLookup', () => {
  const resolve = fakeResolver({ 'dual.test': ['2606:4700:4700::1111', '93.184.216.34'], 'bad.test': ['93.184.216.34', '::1'] });

  it('answers in every shape dns.lookup does', async () => {
    const lookup = guardedLookup([], resolve);
    expect(await callLookup(lookup, 'dual.test', { all: true })).toEqual([null, [v('2606:4700:4700::1111'), v('93.184.216.34')]]);
    expect(await callLookup(lookup, 'dual.test', {})).toEqual([null, '2606:4700:4700::1111', 6]);
    expect(await callLookup(lookup, 'dual.test', { family: 4 })).toEqual([null, '93.184.216.34', 4]);
    expect(await callLookup(lookup, 'dual.test', { family: 'IPv6', all: true })).toEqual([null, [v('2606:4700:4700::1111')]]);
    expect(await callLookup(lookup, 'dual.test', 4)).toEqual([null, '93.184.216.34', 4]);
    expect(await callLookup(lookup, 'dual.test')).toEqual([null, '2606:4700:4700::1111', 6]);
  });

  it('refuses the whole answer when any address is blocked, whatever family was asked for', async () => {
    const lookup = guardedLookup([], resolve);
    for (const options of [{ all: true }, {}, { family: 4 }, 4]) {
      const [err] = await callLookup(lookup, 'bad.test', options);
      expect(err).toBeInstanceOf(UrlNotAllowedError);
    }
  });

  it('vets literal hosts without asking the resolver', async () => {
    const none = fakeResolver({});
    const lookup = guardedLookup([], none);
    expect((await callLookup(lookup, '127.0.0.1', {}))[0]).toBeInstanceOf(UrlNotAllowedError);
    expect(await callLookup(lookup, '8.8.8.8', { all: true })).toEqual([null, [v('8.8.8.8')]]);
    expect(none.calls).toEqual([]);
  });

  it('passes resolver errors through and reports ENOTFOUND when no address fits the family', async () => {
    expect(await callLookup(guardedLookup([], notFound), 'x.test', {})).toMatchObject([{ code: 'ENOTFOUND' }]);
    const v4only = fakeResolver({ 'v4.test': ['93.184.216.34'] });
    expect(await callLookup(guardedLookup([], v4only), 'v4.test', { family: 6 })).toMatchObject([{ code: 'ENOTFOUND' }]);
  });
});

describe('systemResolver', () => {
  it('answers a numeric host without any network traffic', async () => {
    expect(await systemResolver('127.0.0.1')).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });
});

// ---- End to end through undici, against a loopback server only. ----

/** Test safety net: refuses to hand net.connect anything but a loopback address. */
function loopbackOnly(lookup: ReturnType<typeof guardedLookup>): ReturnType<typeof guardedLookup> {
  return (hostname, options, callback) =>
    lookup(hostname, options, (err: unknown, address?: unknown, family?: unknown) => {
      if (err) return callback(err);
      const list = Array.isArray(address) ? (address as Answer[]) : [{ address: String(address) }];
      if (!list.every((a) => normalizeAddress(a.address)?.range() === 'loopback')) {
        return callback(new Error(`test safety net: refusing to connect to ${JSON.stringify(address)}`));
      }
      callback(null, address, family);
    });
}

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err; e && codes.length < 20; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

describe.sequential('undici with guardedLookup', () => {
  let server: http.Server;
  let connections = 0;
  let requests = 0;
  let port = 0;
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    connections = 0;
    requests = 0;
    server = http.createServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
    cleanup.push(() => new Promise((done) => server.close(done)));
  });

  function agentWith(lookup: ReturnType<typeof guardedLookup>) {
    const agent = new Agent({ connect: { lookup: loopbackOnly(lookup), timeout: 5_000 } });
    cleanup.push(() => agent.close());
    return agent;
  }

  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });

  const answers127 = () => fakeResolver({ 'rebind.test': ['127.0.0.1'] });

  it('refuses before any socket is opened when the name resolves to loopback', async () => {
    const dispatcher = agentWith(guardedLookup([], answers127()));
    expect(errorCodes(await failure(request(`http://rebind.test:${port}/`, { dispatcher })))).toContain('url_not_allowed');
    expect(connections).toBe(0);
  });

  it('connects when the allow list covers the address', async () => {
    const dispatcher = agentWith(guardedLookup(parseCidrList('127.0.0.0/8'), answers127()));
    const res = await request(`http://rebind.test:${port}/`, { dispatcher });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('ok');
    expect(connections).toBe(1);
    expect(requests).toBe(1);
  });

  it('catches DNS rebinding: public at create time, loopback at connect time', async () => {
    let calls = 0;
    // Only the create-time check (which never connects) ever sees the public answer.
    const rebinding: Resolver = async () => [v(++calls === 1 ? '93.184.216.34' : '127.0.0.1')];
    const url = `http://rebind.test:${port}/`;
    await expect(checkUrlAllowed(url, [], rebinding)).resolves.toBeInstanceOf(URL);
    expect(calls).toBe(1);

    const dispatcher = agentWith(guardedLookup([], rebinding));
    expect(errorCodes(await failure(request(url, { dispatcher })))).toContain('url_not_allowed');
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(connections).toBe(0);
  });
});
