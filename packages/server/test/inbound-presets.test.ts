/**
 * Every verification preset end to end, signed by the provider's own code where one exists: a
 * correctly signed request is accepted and forwarded byte-identical and re-signed (checked with
 * standardwebhooks); forged, stale, unsigned and wrongly keyed ones are refused with their reason
 * code, listed as rejections, and never forwarded.
 */
import { createHmac } from 'node:crypto';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { resignedBy, sleep, useServer, type Receiver } from './helpers.js';

const s = useServer();
const stripe = new Stripe('sk_test_unused');
const STD_SECRET = 'whsec_' + Buffer.from('a-standard-webhooks-test-key-32b').toString('base64');
const STD_OTHER = 'whsec_' + Buffer.from('another-standard-webhooks-key-32').toString('base64');

type Signed = { headers: Record<string, string>; query?: string };
interface Case {
  type: string;
  verification: Record<string, unknown>;
  /** Signs `body` at Unix time `ts` with `secret` (or the endpoint's own when undefined). */
  sign: (body: string, ts: number, secret?: string) => Signed | Promise<Signed>;
  wrongSecret: string;
  forge: (signed: Signed) => Signed;
  missing: (signed: Signed) => Signed;
  hasTimestamp: boolean;
  wrongReason?: string;
}

const hmac = (alg: string, key: string | Buffer, data: string, enc: 'hex' | 'base64') => createHmac(alg, key).update(data).digest(enc);
const without = (h: Record<string, string>, name: string) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== name));
const replace = (name: string, value: string) => (x: Signed) => ({ ...x, headers: { ...x.headers, [name]: value } });
const drop = (name: string) => (x: Signed) => ({ ...x, headers: without(x.headers, name) });

const CASES: Case[] = [
  {
    type: 'stripe',
    verification: { type: 'stripe', secret: 'whsec_stripe_test' },
    sign: (payload, timestamp, secret = 'whsec_stripe_test') => ({ headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }) } }),
    wrongSecret: 'whsec_other',
    forge: (x) => replace('stripe-signature', x.headers['stripe-signature'].replace(/v1=[0-9a-f]+/, 'v1=' + 'ab'.repeat(32)))(x),
    missing: drop('stripe-signature'),
    hasTimestamp: true,
  },
  {
    type: 'github',
    verification: { type: 'github', secret: 'gh-secret' },
    sign: async (body, _ts, secret = 'gh-secret') => ({ headers: { 'x-hub-signature-256': await githubSign(secret, body), 'x-github-event': 'push', 'x-github-delivery': `d-${Math.random()}` } }),
    wrongSecret: 'not-gh-secret',
    forge: replace('x-hub-signature-256', 'sha256=' + 'cd'.repeat(32)),
    missing: drop('x-hub-signature-256'),
    hasTimestamp: false,
  },
  {
    // Shopify's documented algorithm: base64 HMAC-SHA256 of the raw body with the app secret.
    type: 'shopify',
    verification: { type: 'shopify', secret: 'shpss_test' },
    sign: (body, _ts, secret = 'shpss_test') => ({ headers: { 'x-shopify-hmac-sha256': hmac('sha256', secret, body, 'base64'), 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': `w-${Math.random()}` } }),
    wrongSecret: 'shpss_other',
    forge: replace('x-shopify-hmac-sha256', Buffer.alloc(32, 7).toString('base64')),
    missing: drop('x-shopify-hmac-sha256'),
    hasTimestamp: false,
  },
  {
    // Slack's documented scheme: v0= hex HMAC-SHA256 of "v0:{timestamp}:{body}".
    type: 'slack',
    verification: { type: 'slack', secret: 'slack-signing-secret' },
    sign: (body, ts, secret = 'slack-signing-secret') => ({
      headers: { 'x-slack-signature': 'v0=' + hmac('sha256', secret, `v0:${ts}:${body}`, 'hex'), 'x-slack-request-timestamp': String(ts) },
    }),
    wrongSecret: 'other-slack-secret',
    forge: replace('x-slack-signature', 'v0=' + 'ef'.repeat(32)),
    missing: drop('x-slack-signature'),
    hasTimestamp: true,
  },
  {
    type: 'standard',
    verification: { type: 'standard', secret: STD_SECRET },
    sign: (body, ts, secret = STD_SECRET) => {
      const id = `msg_${Math.random()}`;
      return { headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': new Webhook(secret).sign(id, new Date(ts * 1000), body) } };
    },
    wrongSecret: STD_OTHER,
    forge: replace('webhook-signature', 'v1,' + Buffer.alloc(32, 9).toString('base64')),
    missing: drop('webhook-signature'),
    hasTimestamp: true,
  },
  {
    type: 'hmac',
    verification: { type: 'hmac', secret: 'generic-secret', header: 'X-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', timestamp_header: 'X-Timestamp' },
    sign: (body, ts, secret = 'generic-secret') => ({ headers: { 'x-signature': 'sha512=' + hmac('sha512', secret, `${ts}.${body}`, 'base64'), 'x-timestamp': String(ts) } }),
    wrongSecret: 'other-generic',
    forge: replace('x-signature', 'sha512=' + Buffer.alloc(64, 1).toString('base64')),
    missing: drop('x-signature'),
    hasTimestamp: true,
  },
  {
    type: 'token',
    verification: { type: 'token', secret: 'tok_header_value', header: 'X-Api-Token' },
    sign: (_b, _t, secret = 'tok_header_value') => ({ headers: { 'x-api-token': secret } }),
    wrongSecret: 'tok_wrong',
    forge: replace('x-api-token', 'tok_forged'),
    missing: drop('x-api-token'),
    hasTimestamp: false,
    wrongReason: 'invalid_token',
  },
  {
    type: 'token (query)',
    verification: { type: 'token', secret: 'tok_query_value', query: 'token' },
    sign: (_b, _t, secret = 'tok_query_value') => ({ headers: {}, query: `?token=${encodeURIComponent(secret)}` }),
    wrongSecret: 'tok_wrong',
    forge: (x) => ({ ...x, query: '?token=forged' }),
    missing: (x) => ({ ...x, query: '' }),
    hasTimestamp: false,
    wrongReason: 'invalid_token',
  },
  {
    type: 'basic',
    verification: { type: 'basic', username: 'provider', password: 'pa55word' },
    sign: (_b, _t, password = 'pa55word') => ({ headers: { authorization: 'Basic ' + Buffer.from(`provider:${password}`).toString('base64') } }),
    wrongSecret: 'not-the-password',
    forge: replace('authorization', 'Basic ' + Buffer.from('provider:guess').toString('base64')),
    missing: drop('authorization'),
    hasTimestamp: false,
    wrongReason: 'invalid_token',
  },
];

async function ingest(url: string, body: string, signed: Signed, contentType = 'application/json') {
  const res = await fetch(url + (signed.query ?? ''), { method: 'POST', headers: { 'content-type': contentType, ...signed.headers }, body });
  return { status: res.status, body: (await res.json()) as any };
}

async function inboundTo(receiver: Receiver, verification: Record<string, unknown>) {
  const res = await s.api.post('/v1/inbound-endpoints', { name: `test ${verification.type}`, mode: 'forward', destination_url: receiver.url, verification });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('inbound verification presets', () => {
  for (const c of CASES) {
    it(`${c.type}: accepts and forwards a signed request; refuses forged, unsigned, wrongly keyed${c.hasTimestamp ? ' and stale' : ''} ones`, async () => {
      const receiver = await s.receiver();
      const inbound = await inboundTo(receiver, c.verification);
      const now = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({ id: `evt_${Math.random()}`, type: 'thing.happened', text: 'ünïcödé ✓', n: [1, 2.5, null] });

      const signed = await c.sign(body, now);
      const ok = await ingest(inbound.ingest_url, body, signed);
      expect(ok.status).toBe(202);
      expect(ok.body.id).toMatch(/^ie_/);

      const [forwarded] = await receiver.waitForRequests(1);
      expect(forwarded.raw.equals(Buffer.from(body))).toBe(true);
      expect(forwarded.headers['content-type']).toBe('application/json');
      // The destination verifies Hookbridge's re-signature, whatever the provider's scheme was.
      expect(() => new Webhook(inbound.signing_secret).verify(forwarded.raw.toString('utf8'), forwarded.headers as Record<string, string>)).not.toThrow();
      expect(forwarded.headers['webhook-id']).toBe(ok.body.id);
      // The provider's credentials stay at the door.
      for (const name of Object.keys(signed.headers)) {
        if (/signature|token|authorization|hmac/.test(name) && !name.startsWith('webhook-')) expect(forwarded.headers[name]).toBeUndefined();
      }

      const refusals: Array<[string, Signed, string]> = [
        ['forged', c.forge(await c.sign(body, now)), c.wrongReason ?? 'invalid_signature'],
        ['missing', c.missing(await c.sign(body, now)), 'missing_signature'],
        ['wrong secret', await c.sign(body, now, c.wrongSecret), c.wrongReason ?? 'invalid_signature'],
      ];
      if (c.hasTimestamp) {
        refusals.push(['stale', await c.sign(body, now - 600), 'timestamp_out_of_range']);
        refusals.push(['from the future', await c.sign(body, now + 600), 'timestamp_out_of_range']);
      }
      if (c.type !== 'token (query)' && c.type !== 'token' && c.type !== 'basic') {
        refusals.push(['body changed', await c.sign(body, now), 'invalid_signature']);
      }
      for (const [what, req, reason] of refusals) {
        const sent = what === 'body changed' ? body.replace('thing', 'thinG') : body;
        const res = await ingest(inbound.ingest_url, sent, req);
        expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(401);
        expect(res.body).toEqual({ error: { code: reason, message: 'request refused', request_id: expect.stringMatching(/^req_[0-9a-z]{26}$/) } });
      }

      const rejections = await s.api.get(`/v1/inbound-rejections?inbound_endpoint_id=${inbound.id}`);
      expect(rejections.body.data.map((r: any) => r.reason).sort()).toEqual(refusals.map(([, , reason]) => reason).sort());
      for (const r of rejections.body.data) {
        expect(r.source_ip).toBe('127.0.0.1');
        for (const [name, value] of Object.entries(r.headers)) {
          if (/signature|token|authorization|hmac/.test(name)) expect(value).toBe('[redacted]');
        }
      }
      await sleep(150);
      expect(receiver.requests).toHaveLength(1);
      const events = await s.api.get(`/v1/inbound-events?inbound_endpoint_id=${inbound.id}`);
      expect(events.body.data).toHaveLength(1);
    });
  }

  it('none: accepts anything, and still re-signs what it forwards', async () => {
    const receiver = await s.receiver();
    const inbound = await inboundTo(receiver, { type: 'none' });
    expect((await ingest(inbound.ingest_url, 'plain text', { headers: {} }, 'text/plain')).status).toBe(202);
    const [forwarded] = await receiver.waitForRequests(1);
    expect(forwarded.body).toBe('plain text');
    expect(resignedBy(inbound.signing_secret, forwarded)).toBe(true);
  });

  it('accepts any one of several secrets (a provider-side rotation)', async () => {
    const receiver = await s.receiver();
    const inbound = await inboundTo(receiver, { type: 'github', secrets: ['old-secret', 'new-secret'] });
    const body = '{"zen":"Keep it logically awesome."}';
    for (const secret of ['old-secret', 'new-secret']) {
      const res = await ingest(inbound.ingest_url, body, { headers: { 'x-hub-signature-256': await githubSign(secret, body) } });
      expect(res.status).toBe(202);
    }
    expect((await ingest(inbound.ingest_url, body, { headers: { 'x-hub-signature-256': await githubSign('third', body) } })).status).toBe(401);
  });
});
