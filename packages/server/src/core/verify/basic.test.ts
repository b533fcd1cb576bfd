import { describe, expect, it } from 'vitest';
import { basicPreset, type BasicConfig } from './basic.js';
import type { IngestRequest } from './types.js';

const req = (headers: Record<string, string>, query: Record<string, string> = {}, body: Buffer = Buffer.from('{}')): IngestRequest => ({
  body,
  headers,
  query,
  now: 1_700_000_000_000,
});

describe('basic preset', () => {
  const cfg: BasicConfig = { type: 'basic', username: 'hook', password: 'p@ss:w0rd-ü' };
  const auth = (user: string, pass: string) => ({ authorization: 'Basic ' + Buffer.from(`${user}:${pass}`, 'utf8').toString('base64') });

  it('accepts the right credentials (a colon in the password is fine)', () => {
    expect(basicPreset.verify(cfg, req(auth('hook', 'p@ss:w0rd-ü')))).toEqual({ ok: true });
    expect(basicPreset.verify(cfg, req({ authorization: 'basic ' + auth('hook', 'p@ss:w0rd-ü').authorization.slice(6) }))).toEqual({ ok: true });
  });

  it('rejects wrong credentials and malformed headers as invalid_token, absent as missing_signature', () => {
    expect(basicPreset.verify(cfg, req(auth('hook', 'wrong')))).toEqual({ ok: false, reason: 'invalid_token' });
    expect(basicPreset.verify(cfg, req(auth('other', 'p@ss:w0rd-ü')))).toEqual({ ok: false, reason: 'invalid_token' });
    for (const h of ['Basic', 'Basic !!!', 'Bearer x', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Basic ===', '\u0000']) {
      expect(basicPreset.verify(cfg, req({ authorization: h }))).toEqual({ ok: false, reason: 'invalid_token' });
    }
    expect(basicPreset.verify(cfg, req({}))).toEqual({ ok: false, reason: 'missing_signature' });
    expect(basicPreset.verify(cfg, req({ authorization: ' ' }))).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('redacts the authorization header and has no event id', () => {
    expect(basicPreset.credentialHeaders(cfg)).toEqual(['authorization']);
    expect(basicPreset.credentialQuery(cfg)).toEqual([]);
    expect(basicPreset.eventId(cfg, req(auth('hook', 'x')))).toBeNull();
  });
});
