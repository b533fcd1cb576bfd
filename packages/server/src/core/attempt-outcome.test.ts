import { describe, expect, it } from 'vitest';
import { attemptOutcome } from './attempt-outcome.js';

describe('attempt outcome', () => {
  it('counts 2xx as success and every other answer as failure', () => {
    expect(attemptOutcome(200, null)).toBe('success');
    expect(attemptOutcome(299, null)).toBe('success');
    expect(attemptOutcome(199, null)).toBe('failure');
    expect(attemptOutcome(300, null)).toBe('failure');
    expect(attemptOutcome(410, null)).toBe('failure');
    expect(attemptOutcome(503, null)).toBe('failure');
  });

  it('tells the SSRF guard and timeouts apart from other network errors', () => {
    expect(attemptOutcome(null, 'url_not_allowed')).toBe('blocked');
    expect(attemptOutcome(null, 'timeout')).toBe('timeout');
    expect(attemptOutcome(null, 'connect_error')).toBe('failure');
    expect(attemptOutcome(null, 'dns_error')).toBe('failure');
  });
});
