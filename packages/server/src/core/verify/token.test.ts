import { describe, expect, it } from 'vitest';
import { tokenPreset, type TokenConfig } from './token.js';
import type { IngestRequest } from './types.js';

const TOKEN = 'tok_live_9f8e7d6c5b4a';
const req = (headers: Record<string, string>, query: Record<string, string> = {}, body: Buffer = Buffer.from('{}')): IngestRequest => ({
  body,
  headers,
  query,
  now: 1_700_000_000_000,
});

describe('token preset', () => {
  const bearer: TokenConfig = { type: 'token', secret: TOKEN };

  it('accepts Authorization: Bearer <token> or the bare token', () => {
    expect(tokenPreset.verify(bearer, req({ authorization: `Bearer ${TOKEN}` }))).toEqual({ ok: true });
    expect(tokenPreset.verify(bearer, req({ authorization: `bearer   ${TOKEN}` }))).toEqual({ ok: true });
    expect(tokenPreset.verify(bearer, req({ authorization: TOKEN }))).toEqual({ ok: true });
  });

  it('rejects a wrong token as invalid_token and an absent one as missing_signature', () => {
    expect(tokenPreset.verify(bearer, req({ authorization: `Bearer ${TOKEN}x` }))).toEqual({ ok: false, reason: 'invalid_token' });
    expect(tokenPreset.verify(bearer, req({ authorization: `Basic ${TOKEN}` }))).toEqual({ ok: false, reason: 'invalid_token' });
    expect(tokenPreset.verify(bearer, req({ authorization: 'Bearer ' + 'x'.repeat(TOKEN.length) }))).toEqual({ ok: false, reason: 'invalid_token' });
    expect(tokenPreset.verify(bearer, req({}))).toEqual({ ok: false, reason: 'missing_signature' });
    expect(tokenPreset.verify(bearer, req({ authorization: '' }))).toEqual({ ok: false, reason: 'missing_signature' });
    expect(tokenPreset.verify(bearer, req({ authorization: 'Bearer   ' }))).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('compares the whole value of a custom header', () => {
    const custom: TokenConfig = { type: 'token', secret: TOKEN, header: 'X-Webhook-Token' };
    expect(tokenPreset.verify(custom, req({ 'x-webhook-token': TOKEN }))).toEqual({ ok: true });
    expect(tokenPreset.verify(custom, req({ 'x-webhook-token': `Bearer ${TOKEN}` }))).toEqual({ ok: false, reason: 'invalid_token' });
    expect(tokenPreset.verify(custom, req({ authorization: `Bearer ${TOKEN}` }))).toEqual({ ok: false, reason: 'missing_signature' });
    expect(tokenPreset.credentialHeaders(custom)).toEqual(['x-webhook-token']);
    expect(tokenPreset.credentialQuery(custom)).toEqual([]);
  });

  it('reads a token from the query string', () => {
    const q: TokenConfig = { type: 'token', secret: TOKEN, query: 'key' };
    expect(tokenPreset.verify(q, req({}, { key: TOKEN }))).toEqual({ ok: true });
    expect(tokenPreset.verify(q, req({}, { key: 'nope' }))).toEqual({ ok: false, reason: 'invalid_token' });
    expect(tokenPreset.verify(q, req({ authorization: `Bearer ${TOKEN}` }))).toEqual({ ok: false, reason: 'missing_signature' });
    expect(tokenPreset.credentialHeaders(q)).toEqual([]);
    expect(tokenPreset.credentialQuery(q)).toEqual(['key']);
  });

  it('accepts any of several tokens, ignores the body and has no event id', () => {
    const rotating: TokenConfig = { type: 'token', secrets: ['old-token-value', TOKEN] };
    expect(tokenPreset.verify(rotating, req({ authorization: 'Bearer old-token-value' }))).toEqual({ ok: true });
    expect(tokenPreset.verify(rotating, req({ authorization: TOKEN }, {}, Buffer.from([0xff, 0x00])))).toEqual({ ok: true });
    expect(tokenPreset.verify(rotating, req({ authorization: 'other' }))).toEqual({ ok: false, reason: 'invalid_token' });
    expect(tokenPreset.eventId(rotating, req({}))).toBeNull();
    expect(tokenPreset.eventType(rotating, req({}))).toBeNull();
    expect(tokenPreset.credentialHeaders(bearer)).toEqual(['authorization']);
  });
});
