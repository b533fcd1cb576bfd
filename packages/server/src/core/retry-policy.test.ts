import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, decideAfterAttempt, parseRetryAfter, type RetryContext } from './retry-policy.js';

const ctx = (over: Partial<RetryContext> = {}): RetryContext => ({
  attemptNumber: 1,
  attemptsInRun: 1,
  schedule: DEFAULT_RETRY_SCHEDULE,
  retryClientErrors: false,
  throttleMinDelaySeconds: 60,
  random: 0.5,
  ...over,
});

describe('decideAfterAttempt', () => {
  it('any 2xx succeeds', () => {
    for (const s of [200, 201, 202, 204, 299]) expect(decideAfterAttempt({ statusCode: s }, ctx())).toEqual({ kind: 'succeeded' });
  });

  it('410 fails and disables the endpoint', () => {
    expect(decideAfterAttempt({ statusCode: 410 }, ctx())).toMatchObject({ kind: 'failed', disableEndpoint: true });
    expect(decideAfterAttempt({ statusCode: 410 }, ctx({ retryClientErrors: true }))).toMatchObject({ kind: 'failed', disableEndpoint: true });
  });

  it('other 4xx fail at once unless retry_client_errors', () => {
    for (const s of [400, 401, 403, 404, 422]) {
      expect(decideAfterAttempt({ statusCode: s }, ctx())).toMatchObject({ kind: 'failed', disableEndpoint: false });
      expect(decideAfterAttempt({ statusCode: s }, ctx({ retryClientErrors: true })).kind).toBe('retry');
    }
  });

  it('3xx, 408, 425, 429, 5xx, timeouts and network errors retry', () => {
    for (const s of [301, 302, 307, 408, 425, 429, 500, 502, 503, 599]) expect(decideAfterAttempt({ statusCode: s }, ctx()).kind).toBe('retry');
    for (const e of ['timeout', 'connect_error', 'dns_error', 'network_error', 'url_not_allowed'] as const) {
      expect(decideAfterAttempt({ errorClass: e }, ctx()).kind).toBe('retry');
    }
  });

  it('follows the schedule with ±20 % jitter and fails when it runs out', () => {
    expect(decideAfterAttempt({ statusCode: 500 }, ctx({ random: 0.5 }))).toEqual({ kind: 'retry', delayMs: 5000 });
    expect(decideAfterAttempt({ statusCode: 500 }, ctx({ random: 0 }))).toEqual({ kind: 'retry', delayMs: 4000 });
    expect(decideAfterAttempt({ statusCode: 500 }, ctx({ random: 0.999999 }))).toMatchObject({ kind: 'retry', delayMs: 6000 });
    expect(decideAfterAttempt({ statusCode: 500 }, ctx({ attemptsInRun: 2 }))).toEqual({ kind: 'retry', delayMs: 300_000 });
    expect(decideAfterAttempt({ statusCode: 500 }, ctx({ attemptsInRun: 10 }))).toMatchObject({ kind: 'failed' });
    // n entries = up to n + 1 attempts
    expect(decideAfterAttempt({ statusCode: 500 }, ctx({ schedule: [1, 1], attemptsInRun: 2 })).kind).toBe('retry');
    expect(decideAfterAttempt({ statusCode: 500 }, ctx({ schedule: [1, 1], attemptsInRun: 3 })).kind).toBe('failed');
    expect(decideAfterAttempt({ statusCode: 500 }, ctx({ schedule: [] })).kind).toBe('failed');
  });

  it('clamps Retry-After to [scheduled, 2 × scheduled]', () => {
    const at = (retryAfterSeconds: number) => decideAfterAttempt({ statusCode: 503, retryAfterSeconds }, ctx({ attemptsInRun: 2 }));
    expect(at(1)).toEqual({ kind: 'retry', delayMs: 300_000 });
    expect(at(400)).toEqual({ kind: 'retry', delayMs: 400_000 });
    expect(at(100_000)).toEqual({ kind: 'retry', delayMs: 600_000 });
  });

  it('429 and timeouts wait at least throttle_min_delay', () => {
    expect(decideAfterAttempt({ statusCode: 429 }, ctx())).toEqual({ kind: 'retry', delayMs: 60_000 });
    expect(decideAfterAttempt({ errorClass: 'timeout' }, ctx())).toEqual({ kind: 'retry', delayMs: 60_000 });
    expect(decideAfterAttempt({ statusCode: 503 }, ctx())).toEqual({ kind: 'retry', delayMs: 5000 });
    expect(decideAfterAttempt({ statusCode: 429 }, ctx({ throttleMinDelaySeconds: 0.1 }))).toEqual({ kind: 'retry', delayMs: 5000 });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
