/**
 * The three error classes of the SDK. Callers branch on `instanceof` and on the string codes, never
 * on messages: messages are for humans and may change.
 */

/** The server answered, with a non-2xx status. `code` is the API's `error.code` (docs/api.md "Errors"). */
export class HookbridgeApiError extends Error {
  readonly status: number;
  /** e.g. `not_found`, `unauthorized`, `invalid_request`; `http_<status>` when the body had no error code. */
  readonly code: string;
  /** For 400s: a list of `{field, in, message}`. */
  readonly details?: unknown;
  /** The `x-request-id` response header, when the server (or a proxy in front of it) sets one. */
  readonly requestId?: string;
  /** Seconds from `Retry-After`, when the answer had one (429, 503). */
  readonly retryAfterSeconds?: number;

  constructor(init: { status: number; code: string; message: string; details?: unknown; requestId?: string; retryAfterSeconds?: number }) {
    super(init.message);
    this.name = 'HookbridgeApiError';
    this.status = init.status;
    this.code = init.code;
    if (init.details !== undefined) this.details = init.details;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** No answer came: DNS, connection refused or reset, TLS, or the client's own timeout. */
export class HookbridgeNetworkError extends Error {
  override readonly cause?: unknown;

  constructor(message: string, cause?: unknown) {
    super(message);
    this.name = 'HookbridgeNetworkError';
    if (cause !== undefined) this.cause = cause;
  }
}

/** Why a webhook was refused; the same vocabulary as the `standardwebhooks` library's errors, as codes. */
export type WebhookVerificationReason =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'invalid_secret'
  | 'invalid_signature'
  | 'invalid_json';

export class WebhookVerificationError extends Error {
  readonly reason: WebhookVerificationReason;

  constructor(reason: WebhookVerificationReason, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}
