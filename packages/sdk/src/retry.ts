/**
 * When and how long the client waits before trying a request again. Pure functions apart from
 * `sleep`, so the rules can be read (and tested) on their own.
 */

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
/** A Retry-After longer than this is not waited for: the error goes back to the caller instead. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Only requests that can safely run twice are retried: a POST that timed out may have been stored,
 * and sending it again would publish the message twice, unless the server can recognise the
 * repeat by its idempotency key.
 */
export function isRetryable(method: string, path: string, headers: Record<string, string>, body: unknown): boolean {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD' || m === 'PUT' || m === 'DELETE' || m === 'OPTIONS') return true;
  if (m !== 'POST') return false;
  if (Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key')) return true;
  const route = path.split('?')[0].replace(/\/+$/, '');
  return route === '/v1/messages' && typeof body === 'object' && body !== null && typeof (body as { idempotency_key?: unknown }).idempotency_key === 'string';
}

/** Statuses worth another try: the server is overloaded, restarting or rate limiting. */
export const isRetryableStatus = (status: number) => status === 429 || status >= 500;

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before retry number `retry` (0-based): exponential, capped, with "equal jitter" (half
 * fixed, half random) so that many clients failing together do not come back together. A server's
 * Retry-After wins when present; undefined means "do not retry" (it asked for too long a wait).
 */
export function retryDelayMs(retry: number, retryAfterMs: number | undefined, random = Math.random): number | undefined {
  if (retryAfterMs !== undefined) return retryAfterMs > MAX_RETRY_AFTER_MS ? undefined : retryAfterMs;
  const exp = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** retry);
  return exp / 2 + random() * (exp / 2);
}

/** setTimeout as a promise that an AbortSignal cuts short (rejecting with the signal's reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
