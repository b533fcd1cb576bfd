import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPortalToken, verifyPortalToken, type PortalClaims } from './portal-token.js';

const key = randomBytes(32);
const claims: PortalClaims = { sessionId: 'psess_1', projectId: 'proj_1', consumerId: 'acme', readOnly: false, expiresAt: 2_000, keyId: 'key_1' };

describe('portal tokens', () => {
  it('round-trips the claims until expires_at, then refuses', () => {
    const t = signPortalToken(key, claims);
    expect(t.startsWith('hbp_')).toBe(true);
    expect(verifyPortalToken(key, t, 1_999)).toEqual({ ok: claims });
    expect(verifyPortalToken(key, t, 2_000)).toEqual({ error: 'expired' });
  });

  it('refuses a token signed under another key', () => {
    expect(verifyPortalToken(randomBytes(32), signPortalToken(key, claims), 0)).toEqual({ error: 'bad_signature' });
  });

  it('refuses changed claims: another consumer, read_only dropped, a later expiry', () => {
    const [body, sig] = signPortalToken(key, { ...claims, readOnly: true }).slice(4).split('.');
    const wire = JSON.parse(Buffer.from(body, 'base64url').toString());
    for (const change of [{ c: 'other' }, { r: 0 }, { e: 9_999_999 }]) {
      const forged = `hbp_${Buffer.from(JSON.stringify({ ...wire, ...change })).toString('base64url')}.${sig}`;
      expect(verifyPortalToken(key, forged, 0)).toEqual({ error: 'bad_signature' });
    }
  });

  it('refuses malformed tokens without throwing', () => {
    for (const t of ['hbp_', 'hbp_abc', 'hbp_a.b.c', 'hb_live_x', `hbp_${'!'.repeat(10)}.x`]) {
      expect(verifyPortalToken(key, t, 0)).toHaveProperty('error');
    }
  });
});
