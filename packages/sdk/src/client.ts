/**
 * The API client: one `request` that every helper goes through (auth, JSON, timeouts, retries,
 * typed errors), `paginate` for list routes, and the resource helpers (resources.ts) on top.
 * Only `fetch` and timers: it runs wherever fetch exists.
 */
import { HookbridgeApiError, HookbridgeNetworkError } from './errors.js';
import * as resources from './resources.js';
import { isRetryable, isRetryableStatus, parseRetryAfter, retryDelayMs, sleep } from './retry.js';
import type { Page, QueryParams } from './types.js';
import { SDK_VERSION } from './version.js';

export interface ClientOptions {
  /** Where the server is, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** `hb_live_…` / `hb_test_…`; sent as `Authorization: Bearer`. */
  apiKey?: string;
  /** Your own fetch (a proxy agent, a test double); default the global one. */
  fetch?: typeof fetch;
  /** Retries after the first try, for requests that may be retried (see `request`). Default 3. */
  maxRetries?: number;
  /** Per try, headers and body included. Default 30 000. */
  timeoutMs?: number;
  userAgent?: string;
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Undefined and null values are left out. */
  query?: QueryParams;
  headers?: Record<string, string>;
  /** Aborting rejects with the signal's reason; an aborted request is never retried. */
  signal?: AbortSignal;
  /** Overrides the client's timeoutMs for this request (a long poll needs longer). */
  timeoutMs?: number;
}

/** What one try came to: a value, or an error and whether trying again could help. */
type TryResult<T> = { value: T } | { error: Error; transient: boolean; retryAfterMs?: number };

export class HookbridgeClient {
  readonly endpoints: resources.EndpointsApi;
  readonly messages: resources.MessagesApi;
  readonly deliveries: resources.DeliveriesApi;
  readonly eventTypes: resources.EventTypesApi;
  readonly apiKeys: resources.ApiKeysApi;
  readonly projects: resources.ProjectsApi;
  readonly inboundEndpoints: resources.InboundEndpointsApi;
  readonly inboundEvents: resources.InboundEventsApi;
  readonly inboundRejections: resources.InboundRejectionsApi;
  readonly metrics: resources.MetricsApi;
  readonly exports: resources.ExportsApi;

  readonly #baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #maxRetries: number;
  readonly #timeoutMs: number;
  readonly #userAgent: string;

  constructor(opts: ClientOptions) {
    if (!opts || typeof opts.baseUrl !== 'string' || opts.baseUrl === '') throw new TypeError('HookbridgeClient: baseUrl is required');
    const f = opts.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('HookbridgeClient: no fetch in this runtime; pass one as the fetch option');
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.#apiKey = opts.apiKey;
    // Called unbound: some runtimes' fetch throws "Illegal invocation" when called as a method.
    this.#fetch = (input, init) => f(input, init);
    this.#maxRetries = Math.max(0, opts.maxRetries ?? 3);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#userAgent = opts.userAgent ?? `hookbridge-sdk-js/${SDK_VERSION}`;

    this.endpoints = resources.endpointsApi(this);
    this.messages = resources.messagesApi(this);
    this.deliveries = resources.deliveriesApi(this);
    this.eventTypes = resources.eventTypesApi(this);
    this.apiKeys = resources.apiKeysApi(this);
    this.projects = resources.projectsApi(this);
    this.inboundEndpoints = resources.inboundEndpointsApi(this);
    this.inboundEvents = resources.inboundEventsApi(this);
    this.inboundRejections = resources.inboundRejectionsApi(this);
    this.metrics = resources.metricsApi(this);
    this.exports = resources.exportsApi(this);
  }

  /**
   * Any route: returns the parsed JSON body (undefined for 204). Throws HookbridgeApiError for
   * non-2xx, HookbridgeNetworkError when no answer came. Retries with exponential backoff + jitter
   * on network errors, 5xx and 429 (honouring Retry-After), but only for idempotent methods
   * (GET/HEAD/PUT/DELETE), or for a POST with an Idempotency-Key header, or POST /v1/messages with
   * idempotency_key in the body.
   */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = this.#url(path, opts.query);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.#userAgent };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, opts.headers);
    const init: RequestInit = { method: method.toUpperCase(), headers, body };
    const retryable = isRetryable(method, path, opts.headers ?? {}, opts.body);

    for (let retry = 0; ; retry++) {
      const result = await this.#try<T>(url, init, `${init.method} ${path}`, opts.timeoutMs ?? this.#timeoutMs, opts.signal);
      if ('value' in result) return result.value;
      const delay = retryable && result.transient && retry < this.#maxRetries ? retryDelayMs(retry, result.retryAfterMs) : undefined;
      if (delay === undefined) throw result.error;
      await sleep(delay, opts.signal);
    }
  }

  /** Iterates every item of a list route, following next_cursor ({data, has_more, next_cursor}). */
  async *paginate<T = unknown>(path: string, query: QueryParams = {}): AsyncIterable<T> {
    let cursor = query.cursor ?? undefined;
    for (;;) {
      const page = await this.request<Page<T>>('GET', path, { query: { ...query, cursor } });
      yield* page.data;
      // The cursor check guards against a server that hands back the cursor it was given.
      if (!page.has_more || !page.next_cursor || page.next_cursor === cursor) return;
      cursor = page.next_cursor;
    }
  }

  /**
   * A route that answers a file rather than JSON (an export download): resolves with the
   * Response as soon as its headers arrive, its body left for the caller to stream
   * (`res.body`) or read. Retried like `request` until then (GET only); the timeout covers the
   * wait for the headers, not the body, which may take as long as the file is big. A caller's
   * signal aborts the body too. Non-2xx answers throw HookbridgeApiError.
   */
  async download(path: string, opts: Omit<RequestOptions, 'body'> = {}): Promise<Response> {
    const url = this.#url(path, opts.query);
    const headers: Record<string, string> = { 'user-agent': this.#userAgent, ...opts.headers };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    for (let retry = 0; ; retry++) {
      const controller = new AbortController();
      const onAbort = () => controller.abort(opts.signal?.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) onAbort();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      let failure: { error: Error; transient: boolean; retryAfterMs?: number };
      try {
        const res = await this.#fetch(url, { method: 'GET', headers, signal: controller.signal });
        clearTimeout(timer);
        if (res.ok) return res;
        opts.signal?.removeEventListener('abort', onAbort);
        const text = await res.text();
        failure = { error: apiError(res, text), transient: isRetryableStatus(res.status), retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
      } catch (err) {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (opts.signal?.aborted) throw opts.signal.reason;
        failure = { error: new HookbridgeNetworkError(`GET ${path}: ${timedOut ? `no answer within ${timeoutMs} ms` : errorText(err)}`, err), transient: true };
      }
      const delay = failure.transient && retry < this.#maxRetries ? retryDelayMs(retry, failure.retryAfterMs) : undefined;
      if (delay === undefined) throw failure.error;
      await sleep(delay, opts.signal);
    }
  }

  #url(path: string, query: QueryParams | undefined): string {
    let url = this.#baseUrl + (path.startsWith('/') ? path : `/${path}`);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) params.append(k, String(v));
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
    return url;
  }

  /** One try, bounded by the timeout (which covers reading the body too). */
  async #try<T>(url: string, init: RequestInit, what: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<TryResult<T>> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      let res: Response;
      let text: string;
      try {
        res = await this.#fetch(url, { ...init, signal: controller.signal });
        text = await res.text();
      } catch (err) {
        // The caller gave up: that is theirs to handle, not a network failure to retry.
        if (signal?.aborted) throw signal.reason;
        const why = timedOut ? `no answer within ${timeoutMs} ms` : errorText(err);
        return { error: new HookbridgeNetworkError(`${what}: ${why}`, err), transient: true };
      }
      if (res.ok) return parseSuccess<T>(res, text, what);
      return { error: apiError(res, text), transient: isRetryableStatus(res.status), retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

function parseSuccess<T>(res: Response, text: string, what: string): TryResult<T> {
  if (res.status === 204 || text === '') return { value: undefined as T };
  try {
    return { value: JSON.parse(text) as T };
  } catch {
    const error = new HookbridgeApiError({ status: res.status, code: 'invalid_response', message: `${what}: the answer is not JSON`, requestId: res.headers.get('x-request-id') ?? undefined });
    return { error, transient: false };
  }
}

/** The API's `{"error":{code,message,details}}`, or something sensible when a proxy answered instead. */
function apiError(res: Response, text: string): HookbridgeApiError {
  let parsed: { error?: { code?: unknown; message?: unknown; details?: unknown; request_id?: unknown } } | undefined;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const e = parsed?.error;
  const code = typeof e?.code === 'string' ? e.code : `http_${res.status}`;
  const message = typeof e?.message === 'string' ? e.message : `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`;
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  return new HookbridgeApiError({
    status: res.status,
    code,
    message,
    details: e?.details,
    // The body has it too, for when a proxy dropped the header.
    requestId: res.headers.get('x-request-id') ?? (typeof e?.request_id === 'string' ? e.request_id : undefined),
    retryAfterSeconds: retryAfterMs === undefined ? undefined : retryAfterMs / 1000,
  });
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED…) is in `cause`.
  const cause = err.cause instanceof Error ? `: ${(err.cause as Error & { code?: string }).code ?? err.cause.message}` : '';
  return err.message + cause;
}
