/**
 * What happens after an attempt (DESIGN.md §4). Pure: no clock, no randomness of its own.
 *
 * The status line decides. 2xx succeeds; 410 fails and disables the endpoint; 3xx, 408, 425,
 * 429, 5xx, timeouts and network errors retry; other 4xx fail at once unless the endpoint asks
 * to retry client errors.
 */

/** Waits in seconds after the first attempt (Standard Webhooks' recommendation): 10 attempts. */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/** ±20 % around each scheduled wait, so a recovering receiver is not hit by a synchronized wave. */
export const JITTER = 0.2;

export type ErrorClass = 'timeout' | 'connect_error' | 'dns_error' | 'url_not_allowed' | 'tls_error' | 'network_error';

export interface AttemptResult {
  statusCode?: number;
  errorClass?: ErrorClass;
  /** Retry-After in seconds, when the receiver sent one. */
  retryAfterSeconds?: number;
}

export interface RetryContext {
  /** 1 for the first attempt of this delivery (replays keep counting). */
  attemptNumber: number;
  /** Attempts of this delivery's current run (since created or last replayed), this one included. */
  attemptsInRun: number;
  schedule: readonly number[];
  retryClientErrors: boolean;
  throttleMinDelaySeconds: number;
  /** A number in [0, 1), e.g. Math.random(). */
  random: number;
}

export type Decision =
  | { kind: 'succeeded' }
  | { kind: 'failed'; disableEndpoint: boolean; reason: string }
  | { kind: 'retry'; delayMs: number };

export function isRetryableStatus(status: number, retryClientErrors: boolean): boolean {
  if (status >= 300 && status < 400) return true;
  if (status === 408 || status === 425 || status === 429) return true;
  if (status >= 500) return true;
  return status >= 400 && status < 500 && status !== 410 && retryClientErrors;
}

export function decideAfterAttempt(result: AttemptResult, ctx: RetryContext): Decision {
  const status = result.statusCode;
  if (status !== undefined && status >= 200 && status < 300) return { kind: 'succeeded' };
  if (status === 410) return { kind: 'failed', disableEndpoint: true, reason: 'endpoint answered 410 Gone' };
  if (status !== undefined && !isRetryableStatus(status, ctx.retryClientErrors)) {
    return { kind: 'failed', disableEndpoint: false, reason: `endpoint answered ${status}` };
  }
  const waitIndex = ctx.attemptsInRun - 1;
  if (waitIndex >= ctx.schedule.length) {
    return { kind: 'failed', disableEndpoint: false, reason: 'retry schedule exhausted' };
  }
  const scheduled = ctx.schedule[waitIndex] * (1 - JITTER + 2 * JITTER * ctx.random);
  let delay = scheduled;
  if (result.retryAfterSeconds !== undefined) {
    // Honour Retry-After, but never sooner than planned nor later than twice the plan, so a
    // receiver cannot stall a delivery for days or make us hammer it.
    delay = Math.min(Math.max(result.retryAfterSeconds, scheduled), 2 * scheduled);
  }
  if (status === 429 || result.errorClass === 'timeout') delay = Math.max(delay, ctx.throttleMinDelaySeconds);
  return { kind: 'retry', delayMs: Math.round(delay * 1000) };
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - nowMs) / 1000);
}
