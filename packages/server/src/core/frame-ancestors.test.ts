import { describe, expect, it } from 'vitest';
import { FRAME_ANCESTOR_ORIGIN, portalFrameAncestors } from './frame-ancestors.js';

describe('portal frame ancestors', () => {
  it('takes origins, with a port or a wildcard subdomain', () => {
    for (const o of ['https://app.example.com', 'http://127.0.0.1:8080', 'https://*.example.com']) expect(FRAME_ANCESTOR_ORIGIN.test(o), o).toBe(true);
  });

  it('refuses what would end or extend the header: spaces, semicolons, quotes, commas, paths, bare wildcards', () => {
    for (const o of ["https://a.example.com; script-src 'unsafe-inline'", 'https://a.example.com b.example.com', "'none'", 'https://a.com,https://b.com', 'https://a.com/path', '*', 'javascript:x']) {
      expect(FRAME_ANCESTOR_ORIGIN.test(o), o).toBe(false);
    }
  });

  it("is 'self' plus the valid origins", () => {
    expect(portalFrameAncestors(undefined)).toBe("'self'");
    expect(portalFrameAncestors(['https://app.example.com', 'https://x.com; evil'])).toBe("'self' https://app.example.com");
  });
});
