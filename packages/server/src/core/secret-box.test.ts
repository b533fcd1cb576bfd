import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, generateApiKey, hashApiKey } from './secret-box.js';

describe('SecretBox', () => {
  it('round-trips, never stores the clear text, and refuses another key', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('whsec_topsecret');
    expect(sealed).not.toContain('topsecret');
    expect(box.seal('whsec_topsecret')).not.toBe(sealed);
    expect(box.open(sealed)).toBe('whsec_topsecret');
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();
  });
});

describe('API keys', () => {
  it('are random, prefixed and hashed deterministically', () => {
    const k = generateApiKey();
    expect(k).toMatch(/^hb_live_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey('test')).toMatch(/^hb_test_/);
    expect(hashApiKey(k)).toBe(hashApiKey(k));
    expect(hashApiKey(k)).not.toContain(k);
  });
});
