import { describe, expect, it } from 'vitest';
import { newRequestId, requestIdFrom } from './request-id.js';

describe('request ids', () => {
  it('are req_ plus a unique, time-sortable body', () => {
    const ids = Array.from({ length: 1000 }, () => newRequestId());
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-z]{26}$/);
    expect([...ids].sort()).toEqual(ids);
  });

  it("keep a client's id when it is short and plain, and replace anything else", () => {
    for (const given of ['abc', 'trace-1.2:3_x', 'A'.repeat(128), '0']) expect(requestIdFrom(given)).toBe(given);
    for (const given of ['', 'A'.repeat(129), 'has space', 'new\nline', 'semi;colon', 'ünï', '"quoted"', undefined, ['a', 'b']]) {
      expect(requestIdFrom(given as string | string[] | undefined)).toMatch(/^req_[0-9a-z]{26}$/);
    }
  });
});
