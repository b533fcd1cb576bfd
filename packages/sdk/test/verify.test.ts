/**
 * verifyWebhook against what real signers produce: the `standardwebhooks` library, and the
 * server's own signing code (both schemes), so a change on either side shows up here.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signatureHeaders } from '../../server/src/core/signing.js';
import { verifyWebhook, WebhookVerificationError, type WebhookVerificationReason } from '../src/index.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = 'whsec_' + btoa('another key of thirty-two bytes!');
const BODY = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1', amount: 4200 } });
const nowSeconds = () => Math.floor(Date.now() / 1000);

function standardHeaders(secret = SECRET, body = BODY, at = new Date(), id = 'msg_2mVbWc') {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body) };
}

async function reason(p: Promise<unknown>): Promise<WebhookVerificationReason> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookVerificationError);
  return (err as WebhookVerificationError).reason;
}

describe('verifyWebhook: Standard Webhooks', () => {
  it('accepts what standardwebhooks signs, from a string, bytes, a Headers object or upper-case names', async () => {
    const h = standardHeaders();
    expect(await verifyWebhook(BODY, h, SECRET)).toEqual(JSON.parse(BODY));
    expect(await verifyWebhook(new TextEncoder().encode(BODY), new Headers(h), SECRET)).toEqual(JSON.parse(BODY));
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    expect(await verifyWebhook(Buffer.from(BODY), upper, SECRET)).toEqual(JSON.parse(BODY));
  });

  it('and standardwebhooks accepts what verifyWebhook accepts (same secret handling, prefix or not)', async () => {
    const h = standardHeaders();
    expect(new Webhook(SECRET).verify(BODY, h)).toEqual(await verifyWebhook(BODY, h, SECRET.slice('whsec_'.length)));
  });

  it('rejects a tampered body, a wrong secret and missing headers', async () => {
    const h = standardHeaders();
    expect(await reason(verifyWebhook(BODY.replace('4200', '4201'), h, SECRET))).toBe('invalid_signature');
    expect(await reason(verifyWebhook(BODY, h, OTHER))).toBe('invalid_signature');
    expect(await reason(verifyWebhook(BODY, { ...h, 'webhook-id': 'msg_other' }, SECRET))).toBe('invalid_signature');
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _gone, ...rest } = h;
      expect(await reason(verifyWebhook(BODY, rest, SECRET)), name).toBe('missing_headers');
    }
    expect(await reason(verifyWebhook(BODY, {}, SECRET))).toBe('missing_headers');
  });

  it('rejects a stale, a future and a malformed timestamp; the tolerance and the clock can be set', async () => {
    const old = standardHeaders(SECRET, BODY, new Date(Date.now() - 301_000));
    const future = standardHeaders(SECRET, BODY, new Date(Date.now() + 301_000));
    expect(await reason(verifyWebhook(BODY, old, SECRET))).toBe('timestamp_too_old');
    expect(await reason(verifyWebhook(BODY, future, SECRET))).toBe('timestamp_too_new');
    expect(await reason(verifyWebhook(BODY, { ...old, 'webhook-timestamp': 'yesterday' }, SECRET))).toBe('invalid_timestamp');
    expect(await verifyWebhook(BODY, old, SECRET, { toleranceSeconds: 600 })).toBeTruthy();
    expect(await verifyWebhook(BODY, old, SECRET, { now: () => Date.now() - 300_000 })).toBeTruthy();
  });

  it('during a rotation: either secret of the list, and any signature of a header with two', async () => {
    const at = new Date();
    const two = { ...standardHeaders(SECRET, BODY, at), 'webhook-signature': `${new Webhook(OTHER).sign('msg_2mVbWc', at, BODY)} ${new Webhook(SECRET).sign('msg_2mVbWc', at, BODY)}` };
    expect(await verifyWebhook(BODY, two, SECRET)).toBeTruthy();
    expect(await verifyWebhook(BODY, two, OTHER)).toBeTruthy();
    expect(await verifyWebhook(BODY, standardHeaders(SECRET), [OTHER, SECRET])).toBeTruthy();
    expect(await verifyWebhook(BODY, standardHeaders(OTHER), [OTHER, SECRET])).toBeTruthy();
    expect(await reason(verifyWebhook(BODY, standardHeaders('whsec_' + btoa('a third key')), [OTHER, SECRET]))).toBe('invalid_signature');
  });

  it('matches the server signing with two active secrets (newest first)', async () => {
    const h = signatureHeaders({ scheme: 'standard', messageId: 'msg_1', timestamp: nowSeconds(), body: BODY, secrets: [OTHER, SECRET] });
    expect(h['webhook-signature'].split(' ')).toHaveLength(2);
    expect(await verifyWebhook(BODY, h, SECRET)).toEqual(JSON.parse(BODY));
    expect(await verifyWebhook(BODY, h, OTHER)).toEqual(JSON.parse(BODY));
  });

  it('refuses unusable secrets and a valid signature over a body that is not JSON', async () => {
    expect(await reason(verifyWebhook(BODY, standardHeaders(), 'whsec_not base64!'))).toBe('invalid_secret');
    expect(await reason(verifyWebhook(BODY, standardHeaders(), []))).toBe('invalid_secret');
    expect(await reason(verifyWebhook(BODY, standardHeaders(), ''))).toBe('invalid_secret');
    expect(await reason(verifyWebhook('not json', standardHeaders(SECRET, 'not json'), SECRET))).toBe('invalid_json');
  });

  it('ignores garbage in the signature header instead of crashing', async () => {
    const h = standardHeaders();
    for (const sig of ['v1,', 'v1,%%%', 'v2,abc', ',,, ', `v1,${'A'.repeat(10_000)}`]) {
      expect(await reason(verifyWebhook(BODY, { ...h, 'webhook-signature': sig }, SECRET)), sig).toBe('invalid_signature');
    }
    expect(await verifyWebhook(BODY, { ...h, 'webhook-signature': `v1,%%% v2,x  ${h['webhook-signature']}` }, SECRET)).toBeTruthy();
  });
});

describe('verifyWebhook: the hookbridge scheme (x-webhook-*)', () => {
  const sign = (secrets: string[], body = BODY, timestamp = nowSeconds()) =>
    signatureHeaders({ scheme: 'hookbridge', messageId: 'msg_9', timestamp, body, secrets });

  it('accepts the server signature with either secret of a rotation', async () => {
    const h = sign([OTHER, SECRET]);
    expect(h['x-webhook-signature']).toMatch(/^sha256=[0-9a-f]{64},sha256=[0-9a-f]{64}$/);
    expect(await verifyWebhook(BODY, h, SECRET)).toEqual(JSON.parse(BODY));
    expect(await verifyWebhook(BODY, h, [OTHER])).toEqual(JSON.parse(BODY));
    expect(await verifyWebhook(BODY, new Headers(h), SECRET)).toEqual(JSON.parse(BODY));
  });

  it('rejects a tampered body, a wrong secret, stale and future timestamps and missing headers', async () => {
    expect(await reason(verifyWebhook(BODY + ' ', sign([SECRET]), SECRET))).toBe('invalid_signature');
    expect(await reason(verifyWebhook(BODY, sign([SECRET]), OTHER))).toBe('invalid_signature');
    expect(await reason(verifyWebhook(BODY, sign([SECRET], BODY, nowSeconds() - 400), SECRET))).toBe('timestamp_too_old');
    expect(await reason(verifyWebhook(BODY, sign([SECRET], BODY, nowSeconds() + 400), SECRET))).toBe('timestamp_too_new');
    const { 'x-webhook-timestamp': _t, ...noTimestamp } = sign([SECRET]);
    expect(await reason(verifyWebhook(BODY, noTimestamp, SECRET))).toBe('missing_headers');
  });

  it('takes a repeated header as given by Node (a list of values)', async () => {
    const ts = nowSeconds();
    const [a, b] = sign([OTHER, SECRET], BODY, ts)['x-webhook-signature'].split(',');
    expect(await verifyWebhook(BODY, { ...sign([SECRET], BODY, ts), 'x-webhook-signature': [a, b] }, SECRET)).toBeTruthy();
  });
});
