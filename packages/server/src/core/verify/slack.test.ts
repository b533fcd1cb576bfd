import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { slackPreset, slackUrlVerificationChallenge, type SlackConfig } from './slack.js';
import type { IngestRequest } from './types.js';

// Slack's documented example (https://api.slack.com/authentication/verifying-requests-from-slack).
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TS = 1531420618;
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIG = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const NOW = TS * 1000 + 5_000;

// For variations beyond the example, the same documented algorithm via node:crypto.
const slackSign = (secret: string, ts: number | string, body: string | Buffer) =>
  'v0=' + createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex');

const cfg: SlackConfig = { type: 'slack', secret: SECRET };
const req = (body: string | Buffer, headers: Record<string, string>, now = NOW): IngestRequest => ({
  body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  headers,
  query: {},
  now,
});
const hdrs = (sig: string, ts: number | string = TS) => ({ 'x-slack-signature': sig, 'x-slack-request-timestamp': String(ts) });
const verify = (headers: Record<string, string>, body: string | Buffer = BODY, config = cfg, now = NOW) =>
  slackPreset.verify(config, req(body, headers, now));

describe('slack preset', () => {
  it("accepts Slack's documented example", () => {
    expect(slackSign(SECRET, TS, BODY)).toBe(SIG);
    expect(verify(hdrs(SIG))).toEqual({ ok: true });
  });

  it('rejects a forged signature, a wrong secret and a changed body', () => {
    expect(verify(hdrs(SIG.slice(0, -1) + '4'))).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify(hdrs(SIG), BODY, { type: 'slack', secret: 'wrong-secret' })).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(verify(hdrs(SIG), BODY.replace('foobar', 'foobaz'))).toEqual({ ok: false, reason: 'invalid_signature' });
    // The timestamp is signed too: moving it breaks the signature.
    expect(verify(hdrs(SIG, TS + 1))).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('treats a missing signature or timestamp header as missing', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify({ 'x-slack-signature': SIG })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify({ 'x-slack-request-timestamp': String(TS) })).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('rejects stale and future timestamps after the signature matches', () => {
    expect(verify(hdrs(SIG), BODY, cfg, (TS + 301) * 1000)).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
    expect(verify(hdrs(SIG), BODY, cfg, (TS - 301) * 1000)).toEqual({ ok: false, reason: 'timestamp_out_of_range' });
    expect(verify(hdrs(SIG), BODY, { ...cfg, tolerance_seconds: 3600 }, (TS + 3000) * 1000)).toEqual({ ok: true });
    expect(verify(hdrs(slackSign('forger', TS, BODY)), BODY, cfg, (TS + 9999) * 1000)).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('accepts a binary body and any of several secrets', () => {
    const body = Buffer.from([0x80, 0x81, 0xff, 0x00]);
    expect(verify(hdrs(slackSign(SECRET, TS, body)), body)).toEqual({ ok: true });
    const rotating: SlackConfig = { type: 'slack', secrets: ['new-secret-value', SECRET] };
    expect(verify(hdrs(SIG), BODY, rotating)).toEqual({ ok: true });
    expect(verify(hdrs(slackSign('new-secret-value', TS, BODY)), BODY, rotating)).toEqual({ ok: true });
    expect(verify(hdrs(slackSign('third', TS, BODY)), BODY, rotating)).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('never throws on malformed headers', () => {
    for (const [sig, ts] of [['v0=', TS], ['v1=' + SIG.slice(3), TS], [SIG.slice(3), TS], ['v0=xyz', TS], [SIG, 'abc'], [SIG, '1.5'], [SIG, '-1'], ['\u0000', TS]] as const) {
      expect(verify(hdrs(sig, ts))).toEqual({ ok: false, reason: 'invalid_signature' });
    }
  });

  it('reads event id and type from Events API JSON, none from form bodies', () => {
    const event = Buffer.from(JSON.stringify({ type: 'event_callback', event_id: 'Ev08MFMKH6', event: { type: 'app_mention' } }));
    expect(slackPreset.eventId(cfg, req(event, {}))).toBe('Ev08MFMKH6');
    expect(slackPreset.eventType(cfg, req(event, {}))).toBe('app_mention');
    const bare = Buffer.from(JSON.stringify({ type: 'app_rate_limited' }));
    expect(slackPreset.eventType(cfg, req(bare, {}))).toBe('app_rate_limited');
    expect(slackPreset.eventId(cfg, req(BODY, { 'content-type': 'application/x-www-form-urlencoded' }))).toBeNull();
    expect(slackPreset.eventType(cfg, req(BODY, {}))).toBeNull();
    expect(slackPreset.credentialHeaders(cfg)).toEqual(['x-slack-signature']);
  });

  it('extracts the url_verification challenge', () => {
    const body = Buffer.from(JSON.stringify({ token: 'x', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' }));
    expect(slackUrlVerificationChallenge(body)).toBe('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
    expect(slackUrlVerificationChallenge(Buffer.from('{"type":"event_callback","challenge":"x"}'))).toBeNull();
    expect(slackUrlVerificationChallenge(Buffer.from('{"type":"url_verification","challenge":5}'))).toBeNull();
    expect(slackUrlVerificationChallenge(Buffer.from(BODY))).toBeNull();
    expect(slackUrlVerificationChallenge(Buffer.from([0xff]))).toBeNull();
  });
});
