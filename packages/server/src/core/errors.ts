/**
 * The one error type the API answers with. Every foreign error (Fastify, the store, undici) is
 * mapped onto one of these codes in one place (api/errors.ts), so clients see a stable vocabulary.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'idempotency_conflict'
  | 'invalid_state'
  | 'conflict'
  | 'payload_expired'
  | 'payload_too_large'
  | 'request_timeout'
  | 'headers_too_large'
  | 'unsupported_media_type'
  | 'url_not_allowed'
  | 'rate_limited'
  | 'store_unavailable'
  | 'internal_error';

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  idempotency_conflict: 409,
  invalid_state: 409,
  conflict: 409,
  payload_expired: 410,
  payload_too_large: 413,
  request_timeout: 408,
  headers_too_large: 431,
  unsupported_media_type: 415,
  url_not_allowed: 422,
  rate_limited: 429,
  store_unavailable: 503,
  internal_error: 500,
};

/** Every code with its HTTP status (tests check answers against it). */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = STATUS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = STATUS[code];
  }
}

export const notFound = (what: string) => new ApiError('not_found', `${what} not found`);
export const invalidState = (message: string) => new ApiError('invalid_state', message);
export const invalidRequest = (message: string, details?: unknown) => new ApiError('invalid_request', message, details);
