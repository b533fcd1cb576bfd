import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it('masks credential query parameters and keeps the rest', () => {
    expect(redactUrl('/hooks/in_01?token=s3cr3t&x=1')).toBe('/hooks/in_01?token=[redacted]&x=1');
    expect(redactUrl('/v1/messages?limit=5&api_key=hb_live_abc&cursor=msg_1')).toBe('/v1/messages?limit=5&api_key=[redacted]&cursor=msg_1');
    expect(redactUrl('https://b.example/f?X-Amz-Signature=abc&X-Amz-Credential=AK%2F1&v=2')).toBe('https://b.example/f?X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]&v=2');
    expect(redactUrl('/a?client_secret=1&Secret=2&KEY=3&sig=4&password=5')).toBe('/a?client_secret=[redacted]&Secret=[redacted]&KEY=[redacted]&sig=[redacted]&password=[redacted]');
  });

  it('recognises encoded names, repeated parameters and keeps fragments', () => {
    expect(redactUrl('/a?%74oken=x&token=y#frag')).toBe('/a?%74oken=[redacted]&token=[redacted]#frag');
    expect(redactUrl('/a?access+token=x')).toBe('/a?access+token=[redacted]');
    expect(redactUrl('/a?%E0%A4%A=1')).toBe('/a?%E0%A4%A=1'); // undecodable name: kept, not thrown
  });

  it('masks the password of a userinfo part', () => {
    expect(redactUrl('https://alice:hunter2@hooks.example/x?y=1')).toBe('https://alice:[redacted]@hooks.example/x?y=1');
    expect(redactUrl('https://tokenonly@hooks.example/x')).toBe('https://[redacted]@hooks.example/x');
  });

  it('leaves URLs without credentials untouched', () => {
    for (const u of ['/v1/endpoints', '/v1/deliveries?status=failed&limit=50', '/a?flag', '/a?', 'https://h.example/p#x=token=1', '/a?monk=1']) {
      expect(redactUrl(u)).toBe(u);
    }
  });

  it('masks every query value of an ingest URL, whatever the token parameter is called', () => {
    expect(redactUrl('/in/in_abc?code=s3cret&x=1')).toBe('/in/in_abc?code=[redacted]&x=[redacted]');
    expect(redactUrl('https://hb.example/in/in_abc?t=s3cret')).toBe('https://hb.example/in/in_abc?t=[redacted]');
    expect(redactUrl('/v1/in/x?code=1')).toBe('/v1/in/x?code=1');
  });
});
