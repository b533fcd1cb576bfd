import { describe, expect, it } from 'vitest';
import { bucketCapacity, nextTokenAt, refill } from './token-bucket.js';

describe('token bucket', () => {
  it('starts full with half a second of burst and refills at the rate', () => {
    expect(bucketCapacity(20)).toBe(10);
    expect(bucketCapacity(1)).toBe(1);
    const b = refill(undefined, 20, 1000);
    expect(b).toEqual({ tokens: 10, at: 1000 });
    expect(refill({ tokens: 0, at: 1000 }, 20, 1100).tokens).toBeCloseTo(2);
    expect(refill({ tokens: 0, at: 1000 }, 20, 9000).tokens).toBe(10);
    expect(nextTokenAt({ tokens: 0.5, at: 1000 }, 20)).toBe(1025);
  });

  it('keeps any 10 s window within 5 % of the limit', () => {
    let b = refill(undefined, 20, 0);
    let sent = 0;
    for (let t = 0; t <= 10_000; t += 1) {
      b = refill(b, 20, t);
      while (b.tokens >= 1) {
        b.tokens -= 1;
        sent++;
      }
    }
    expect(sent).toBeLessThanOrEqual(210);
    expect(sent).toBeGreaterThanOrEqual(200);
  });
});
