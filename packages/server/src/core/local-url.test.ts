import { describe, expect, it } from 'vitest';
import { localUrl } from './local-url.js';

describe('localUrl', () => {
  it('shows wildcard addresses as localhost and brackets IPv6 literals', () => {
    expect(localUrl('0.0.0.0', 8080)).toBe('http://localhost:8080');
    expect(localUrl('::', 8080)).toBe('http://localhost:8080');
    expect(localUrl('::1', 9090)).toBe('http://[::1]:9090');
    expect(localUrl('127.0.0.1', 1)).toBe('http://127.0.0.1:1');
  });
});
