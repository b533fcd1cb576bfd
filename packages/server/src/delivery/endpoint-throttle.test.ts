import { describe, expect, it } from 'vitest';
import { EndpointThrottle } from './endpoint-throttle.js';

describe('EndpointThrottle', () => {
  it('sends at most the cap per endpoint and claims up to twice that', () => {
    const t = new EndpointThrottle(2);
    t.attemptEnded('a', 'answered'); // from the initial limit (1) to the cap
    const claims = Array.from({ length: 6 }, () => t.tryClaim('a', 'none', null, 0));
    expect(claims).toEqual([true, true, true, true, false, false]);
    expect(t.saturated(0)).toEqual(['a']);
    t.unclaim('a');
    expect(t.saturated(0)).toEqual(['a']);
    t.tryClaim('a', 'none', null, 0);
    expect(t.canSend('a', 'none')).toBe(true);
    t.startSending('a');
    t.startSending('a');
    expect(t.canSend('a', 'none')).toBe(false);
    t.doneSending('a');
    expect(t.canSend('a', 'none')).toBe(true);
    expect(t.saturated(0)).toEqual(['a']);
    t.doneSending('a');
    expect(t.saturated(0)).toEqual([]);
    expect(t.tryClaim('a', 'none', null, 0)).toBe(true);
    expect(t.tryClaim('b', 'none', null, 0)).toBe(true);
  });

  it('allows one claim and one request at a time for fifo endpoints', () => {
    const t = new EndpointThrottle(8);
    expect(t.tryClaim('f', 'fifo', null, 0)).toBe(true);
    expect(t.saturated(0)).toEqual(['f']);
    expect(t.tryClaim('f', 'fifo', null, 0)).toBe(false);
    t.startSending('f');
    expect(t.canSend('f', 'fifo')).toBe(false);
    t.doneSending('f');
    expect(t.tryClaim('f', 'fifo', null, 0)).toBe(true);
    t.unclaim('f');
    expect(t.tryClaim('f', 'fifo', null, 0)).toBe(true);
  });

  it('rate-limits with a half-second bucket and says when the next token comes', () => {
    const t = new EndpointThrottle(100);
    let ok = 0;
    for (let i = 0; i < 10; i++) if (t.tryClaim('r', 'none', 4, 1000)) ok++;
    expect(ok).toBe(2); // half a second's burst
    expect(t.saturated(1000)).toEqual(['r']);
    expect(t.nextTokenAt(1000)).toBe(1250);
    expect(t.nextTokenAt(1300)).toBeNull();
    expect(t.tryClaim('r', 'none', 4, 1250)).toBe(true);
    expect(t.saturated(2000)).toEqual([]);
  });

  it('skips a rate-limited endpoint whose line is full, so it cannot hide other work', () => {
    const t = new EndpointThrottle(2);
    t.attemptEnded('r', 'answered');
    expect(t.tryClaim('r', 'none', 1000, 0)).toBe(true);
    expect(t.saturated(0)).toEqual([]);
    expect(t.tryClaim('r', 'none', 1000, 0)).toBe(true);
    expect(t.saturated(0)).toEqual(['r']);
  });

  it('starts an endpoint at a quarter of the cap, grows it with answers and halves it on timeouts', () => {
    const t = new EndpointThrottle(16);
    const sendable = (id: string) => {
      let n = 0;
      while (t.canSend(id, 'none')) {
        t.startSending(id);
        n++;
      }
      for (let i = 0; i < n; i++) t.doneSending(id);
      return n;
    };
    expect(sendable('slow')).toBe(4);
    expect(Array.from({ length: 12 }, () => t.tryClaim('slow', 'none', null, 0)).filter(Boolean)).toHaveLength(8); // claims: twice the limit
    for (let i = 0; i < 8; i++) t.unclaim('slow');
    for (let i = 0; i < 20; i++) t.attemptEnded('fast', 'answered');
    expect(sendable('fast')).toBe(16);
    t.attemptEnded('slow', 'timed_out');
    expect(sendable('slow')).toBe(2);
    t.attemptEnded('slow', 'timed_out');
    t.attemptEnded('slow', 'timed_out');
    expect(sendable('slow')).toBe(1);
    expect(sendable('fast')).toBe(16); // one endpoint's timeouts leave the others alone
  });
});
