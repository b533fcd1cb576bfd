import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSigningSecret, signatureHeaders } from './signing.js';

describe('standard webhooks signing', () => {
  it('is verified by the independent standardwebhooks library', () => {
    const secret = generateSigningSecret();
    const body = JSON.stringify({ hello: 'wörld', n: 1 });
    const now = Math.floor(Date.now() / 1000);
    const headers = signatureHeaders({ scheme: 'standard', messageId: 'msg_1', timestamp: now, body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, headers)).toEqual({ hello: 'wörld', n: 1 });
    expect(() => new Webhook(secret).verify(body + ' ', headers)).toThrow();
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers)).toThrow();
  });

  it('signs with every active secret so both verify during rotation', () => {
    const [a, b] = [generateSigningSecret(), generateSigningSecret()];
    const body = '{"x":1}';
    const headers = signatureHeaders({ scheme: 'standard', messageId: 'msg_2', timestamp: Math.floor(Date.now() / 1000), body, secrets: [a, b] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(a).verify(body, headers)).toEqual({ x: 1 });
    expect(new Webhook(b).verify(body, headers)).toEqual({ x: 1 });
  });

  it('secrets are whsec_ plus base64 of 32 random bytes', () => {
    const s = generateSigningSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(32);
    expect(generateSigningSecret()).not.toBe(s);
  });
});

describe('hookbridge header scheme', () => {
  it('is hex HMAC-SHA256 of "ts.body" keyed by the whole secret string', () => {
    const secret = 'whsec_abc';
    const headers = signatureHeaders({ scheme: 'hookbridge', messageId: 'msg_3', timestamp: 1700000000, body: '{"a":1}', secrets: [secret, 'whsec_old'] });
    const expected = createHmac('sha256', secret).update('1700000000.{"a":1}').digest('hex');
    const old = createHmac('sha256', 'whsec_old').update('1700000000.{"a":1}').digest('hex');
    expect(headers).toEqual({
      'x-webhook-id': 'msg_3',
      'x-webhook-timestamp': '1700000000',
      'x-webhook-signature': `sha256=${expected},sha256=${old}`,
    });
  });
});
