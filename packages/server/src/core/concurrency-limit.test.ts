import { describe, expect, it } from 'vitest';
import { initialConcurrencyLimit, nextConcurrencyLimit } from './concurrency-limit.js';

describe('per-endpoint concurrency limit', () => {
  it('starts at a quarter of the cap, never below one', () => {
    expect(initialConcurrencyLimit(16)).toBe(4);
    expect(initialConcurrencyLimit(2)).toBe(1);
    expect(initialConcurrencyLimit(1)).toBe(1);
  });

  it('grows by one per answered request up to the cap', () => {
    let l = initialConcurrencyLimit(16);
    for (let i = 0; i < 20; i++) l = nextConcurrencyLimit(l, 'answered', 16);
    expect(l).toBe(16);
  });

  it('halves on a timeout, down to one', () => {
    expect(nextConcurrencyLimit(16, 'timed_out', 16)).toBe(8);
    expect(nextConcurrencyLimit(3, 'timed_out', 16)).toBe(1);
    expect(nextConcurrencyLimit(1, 'timed_out', 16)).toBe(1);
  });
});
