/**
 * The SSRF guard through the real API and worker (DESIGN.md §7), with the private-network allow
 * list empty as in production.
 *
 * Rule for this file: traffic goes to loopback only. Every name is answered by an injected
 * resolver, never by real DNS, and the resolver hands out a non-loopback address only to the
 * create-time check (which never connects) — and then only inside an explicit window around the
 * POST that creates the endpoint. Any other lookup gets loopback, which the guard must refuse;
 * a loopback receiver proves that nothing connected.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { normalizeAddress } from '../src/core/ip-policy.js';
import type { Resolver } from '../src/delivery/ssrf-guard.js';
import { startReceiver, startTestServer, waitForDelivery, type ApiResponse, type Receiver, type TestServer } from './helpers.js';

type Answer = { address: string; family: number };
const answer = (address: string): Answer => ({ address, family: address.includes(':') ? 6 : 4 });
const PUBLIC = '93.184.216.34';

/**
 * A resolver for tests. `loopback` names always answer loopback. `public` names answer PUBLIC only
 * while `publicWindow` is open and only for their first lookup; every other lookup of them answers
 * 127.0.0.1. Any other name fails (no real DNS). Every answer is logged so tests can check that no
 * non-loopback answer was ever given outside the window.
 */
function testResolver(names: { loopback?: string[]; public?: string[] }) {
  const log: Array<{ hostname: string; addresses: string[]; inWindow: boolean }> = [];
  const publicLookups = new Map<string, number>();
  const state = { publicWindow: false };
  const resolve: Resolver = async (hostname) => {
    let addresses: string[];
    if (names.loopback?.includes(hostname)) {
      addresses = ['127.0.0.1', '::1'];
    } else if (names.public?.includes(hostname)) {
      const n = (publicLookups.get(hostname) ?? 0) + 1;
      publicLookups.set(hostname, n);
      addresses = state.publicWindow && n === 1 ? [PUBLIC] : ['127.0.0.1'];
    } else {
      throw new Error(`test resolver: unexpected lookup of ${hostname}`);
    }
    log.push({ hostname, addresses, inWindow: state.publicWindow });
    return addresses.map(answer);
  };
  return {
    resolve,
    log,
    lookups: (hostname: string) => log.filter((l) => l.hostname === hostname).length,
    /** Runs `fn` (one create call) with public answers allowed. */
    async withPublicWindow<T>(fn: () => Promise<T>): Promise<T> {
      state.publicWindow = true;
      try {
        return await fn();
      } finally {
        state.publicWindow = false;
      }
    },
    /** No non-loopback address was ever handed out outside a create window. */
    assertLoopbackOnlyOutsideWindow() {
      for (const l of log) {
        if (l.inWindow) continue;
        for (const a of l.addresses) expect(normalizeAddress(a)?.range(), `${l.hostname} -> ${a}`).toBe('loopback');
      }
    },
  };
}

function expectError(res: ApiResponse, status: number, code: string) {
  expect(res.status, `${status} ${code} expected, got ${res.status} ${JSON.stringify(res.body)}`).toBe(status);
  expect(res.body).toMatchObject({ error: { code, message: expect.any(String) } });
}

const NO_PRIVATE = { HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS: '' };

describe.sequential('SSRF guard with the allow list empty', () => {
  let server: TestServer;
  let receiver: Receiver;
  const dns = testResolver({ loopback: ['localhost'], public: ['rebind.test', 'public.test'] });

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startTestServer(NO_PRIVATE, { resolver: dns.resolve });
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });
  afterEach(() => {
    dns.assertLoopbackOnlyOutsideWindow();
    expect(receiver.connections).toBe(0);
  });

  it('refuses loopback, metadata and non-http URLs at create time with 422 url_not_allowed', async () => {
    const port = receiver.port;
    const urls = [
      `http://127.0.0.1:${port}/hook`,
      `http://localhost:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://[::ffff:127.0.0.1]:${port}/hook`,
      `http://2130706433:${port}/hook`,
      `http://0x7f000001:${port}/`,
      `http://0177.0.0.1:${port}/`,
      `http://127.1:${port}/`,
      'http://169.254.169.254/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://10.0.0.1/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://0.0.0.0/',
      'ftp://x.example/',
      'file:///etc/passwd',
      `http://user:pw@127.0.0.1:${port}/`,
    ];
    for (const url of urls) {
      const res = await server.api.post('/v1/endpoints', { url, retry_schedule: [] });
      expectError(res, 422, 'url_not_allowed');
      expect(res.body.error.details, url).toEqual([expect.objectContaining({ field: 'url' })]);
    }
    // localhost went through the (injected) resolver; nothing was created.
    expect(dns.lookups('localhost')).toBeGreaterThanOrEqual(1);
    expect((await server.api.get('/v1/endpoints')).body.data).toEqual([]);
  });

  it('refuses a PATCH to a refused URL with 422 and keeps the old URL', async () => {
    const created = await dns.withPublicWindow(() => server.api.post('/v1/endpoints', { url: 'http://public.test/hook', retry_schedule: [] }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(dns.lookups('public.test')).toBe(1);
    const id = created.body.id;

    for (const url of [`http://127.0.0.1:${receiver.port}/hook`, `http://localhost:${receiver.port}/hook`, 'http://169.254.169.254/', 'gopher://x.example/']) {
      expectError(await server.api.patch(`/v1/endpoints/${id}`, { url }), 422, 'url_not_allowed');
    }
    // The name itself now answers loopback (outside the window): re-setting it is refused too.
    expectError(await server.api.patch(`/v1/endpoints/${id}`, { url: 'http://public.test/other' }), 422, 'url_not_allowed');
    const after = await server.api.get(`/v1/endpoints/${id}`);
    expect(after.body.url).toBe('http://public.test/hook');
    // Never sent anything: delete it so no later message can fan out to it.
    expect((await server.api.delete(`/v1/endpoints/${id}`)).status).toBe(204);
  });

  it('refuses at connect time when the name rebinds to loopback after the create-time check', async () => {
    const url = `http://rebind.test:${receiver.port}/hook`;
    const created = await dns.withPublicWindow(() => server.api.post('/v1/endpoints', { url, retry_schedule: [] }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // Exactly one lookup so far: the create-time check, the only one ever answered publicly.
    expect(dns.lookups('rebind.test')).toBe(1);
    expect(dns.log.filter((l) => l.hostname === 'rebind.test')[0]).toMatchObject({ addresses: [PUBLIC], inWindow: true });

    const msg = await server.api.post('/v1/messages', { event_type: 'rebind.check', payload: { n: 1 }, endpoint_id: created.body.id });
    expect(msg.status).toBe(202);
    const deliveryId = msg.body.deliveries[0].id;

    const d = await waitForDelivery(server.api, deliveryId, ['failed', 'succeeded']);
    expect(d.status).toBe('failed');
    expect(d.attempt_count).toBe(1);
    const attempts = await server.api.get(`/v1/deliveries/${deliveryId}/attempts`);
    expect(attempts.status).toBe(200);
    expect(attempts.body.data).toHaveLength(1);
    expect(attempts.body.data[0]).toMatchObject({ error_class: 'url_not_allowed', status_code: null, outcome: 'failed' });

    // The connect-time lookup happened and was answered with loopback, which the guard refused.
    expect(dns.lookups('rebind.test')).toBeGreaterThanOrEqual(2);
    for (const l of dns.log.filter((x) => x.hostname === 'rebind.test').slice(1)) expect(l.addresses).toEqual(['127.0.0.1']);
    expect(receiver.connections).toBe(0);
    expect(receiver.requests).toHaveLength(0);
  });
});
