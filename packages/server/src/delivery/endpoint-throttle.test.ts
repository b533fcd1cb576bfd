import { describe, expect, it } from 'vitest';
import { EndpointThrottle } from './endpoint-throttle.js';

describe('EndpointThrottle', () => {
  it('caps in-flight attempts per endpoint, one for fifo', () => {
    const t = new EndpointThrottle(2);
    expect(t.tryTake('a', 'none', null, 0)).toBe(true);
    expect(t.tryTake('a', 'none', null, 0)).toBe(true);
    expect(t.tryTake('a', 'none', null, 0)).toBe(false);
    expect(t.tryTake('b', 'none', null, 0)).toBe(true);
    expect(t.saturated(0)).toEqual(['a']);
    t.release('a');
    expect(t.tryTake('a', 'none', null, 0)).toBe(true);
    expect(t.tryTake('f', 'fifo', null, 0)).toBe(true);
    expect(t.tryTake('f', 'fifo', null, 0)).toBe(false);
  });

  it('rate-limits with a one-second bucket and says when the next token comes', () => {
    const t = new EndpointThrottle(100);
    let ok = 0;
    for (let i = 0; i < 10; i++) if (t.tryTake('r', 'none', 4, 1000)) ok++;
    expect(ok).toBe(4);
    expect(t.saturated(1000)).toEqual(['r']);
    expect(t.nextTokenAt()).toBe(1250);
    expect(t.tryTake('r', 'none', 4, 1250)).toBe(true);
    expect(t.saturated(2000)).toEqual([]);
  });
});
