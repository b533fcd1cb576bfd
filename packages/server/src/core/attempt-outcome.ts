/**
 * How one delivery attempt ended, as operators count it (metrics, trace attributes). Coarser than
 * the retry decision: it says what the receiver (or the SSRF guard) did, not what happens next.
 */
import type { ErrorClass } from './retry-policy.js';

export const ATTEMPT_OUTCOMES = ['success', 'failure', 'timeout', 'blocked'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** blocked: refused by the SSRF guard; timeout: no answer in time; success: 2xx; failure: the rest. */
export function attemptOutcome(statusCode: number | null, errorClass: ErrorClass | null): AttemptOutcome {
  if (errorClass === 'url_not_allowed') return 'blocked';
  if (errorClass === 'timeout') return 'timeout';
  return statusCode !== null && statusCode >= 200 && statusCode < 300 ? 'success' : 'failure';
}
