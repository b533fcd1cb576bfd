/**
 * Typed helpers, one group per resource of docs/api.md. Each is a thin line over
 * `client.request`: the route and the types. `list` answers one page; `listAll` iterates every item.
 */
import type { RequestOptions } from './client.js';
import type * as T from './types.js';

/** What the helpers need from the client. */
export interface Transport {
  request<R = unknown>(method: string, path: string, opts?: RequestOptions): Promise<R>;
  paginate<R = unknown>(path: string, query?: T.QueryParams): AsyncIterable<R>;
  /** A GET whose answer is a file: the Response, its body unread (see HookbridgeClient.download). */
  download(path: string, opts?: Omit<RequestOptions, 'body'>): Promise<Response>;
}

const seg = encodeURIComponent;
type Q<P> = P & T.QueryParams;

/** list + listAll for one list route. */
function listing<Item, Params extends object>(t: Transport, path: string) {
  return {
    list: (params?: Params) => t.request<T.Page<Item>>('GET', path, { query: params as Q<Params> }),
    listAll: (params?: Omit<Params, 'cursor'>) => t.paginate<Item>(path, params as Q<Params>),
  };
}

/** The routes endpoints and inbound endpoints share: one of them by id, and its lifecycle. */
function manageable<E, Update>(t: Transport, base: string) {
  const one = (id: string) => `${base}/${seg(id)}`;
  return {
    get: (id: string) => t.request<E>('GET', one(id)),
    /** `null` clears a nullable field; a URL is re-checked. */
    update: (id: string, body: Update) => t.request<E>('PATCH', one(id), { body }),
    delete: (id: string) => t.request<void>('DELETE', one(id)),
    pause: (id: string) => t.request<E>('POST', `${one(id)}/pause`),
    resume: (id: string) => t.request<E>('POST', `${one(id)}/resume`),
    /** The previous secret keeps signing for `grace_seconds` (default 1 day). */
    rotateSecret: (id: string, body?: T.RotateSecretParams) => t.request<T.RotatedSecret>('POST', `${one(id)}/secret/rotate`, { body }),
  };
}

export function endpointsApi(t: Transport) {
  return {
    ...listing<T.Endpoint, T.EndpointListParams>(t, '/v1/endpoints'),
    ...manageable<T.Endpoint, T.EndpointUpdate>(t, '/v1/endpoints'),
    /** The answer carries `signing_secret`, shown only here and on rotation. */
    create: (body: T.EndpointCreate) => t.request<T.Endpoint>('POST', '/v1/endpoints', { body }),
  };
}

export function messagesApi(t: Transport) {
  return {
    ...listing<T.Message, T.MessageListParams>(t, '/v1/messages'),
    /**
     * Publish. With `idempotency_key` (in the body or as `opts.idempotencyKey`, sent as the
     * Idempotency-Key header) a repeat answers the original message, so the send is retried safely.
     */
    send: (body: T.MessageSend, opts?: { idempotencyKey?: string; signal?: AbortSignal }) =>
      t.request<T.MessageAccepted>('POST', '/v1/messages', {
        body,
        headers: opts?.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : undefined,
        signal: opts?.signal,
      }),
    get: (id: string) => t.request<T.Message>('GET', `/v1/messages/${seg(id)}`),
    /** Removes the payload now and cancels the deliveries that could still send it (204). */
    delete: (id: string) => t.request<void>('DELETE', `/v1/messages/${seg(id)}`),
  };
}

export function deliveriesApi(t: Transport) {
  const one = (id: string) => `/v1/deliveries/${seg(id)}`;
  return {
    ...listing<T.Delivery, T.DeliveryListParams>(t, '/v1/deliveries'),
    get: (id: string) => t.request<T.Delivery>('GET', one(id)),
    /** Oldest first; one page (use `client.paginate` for all). */
    attempts: (id: string, params?: T.ListParams) => t.request<T.Page<T.Attempt>>('GET', `${one(id)}/attempts`, { query: params as Q<T.ListParams> }),
    retry: (id: string) => t.request<T.Delivery>('POST', `${one(id)}/retry`),
    cancel: (id: string) => t.request<T.Delivery>('POST', `${one(id)}/cancel`),
    replay: (id: string) => t.request<T.Delivery>('POST', `${one(id)}/replay`),
    bulkReplay: (body: T.BulkReplay) => t.request<T.BulkReplayResult>('POST', '/v1/deliveries/replay', { body }),
  };
}

export function eventTypesApi(t: Transport) {
  return {
    ...listing<T.EventType, T.ListParams>(t, '/v1/event-types'),
    create: (body: T.EventTypeCreate) => t.request<T.EventType>('POST', '/v1/event-types', { body }),
    get: (name: string) => t.request<T.EventType>('GET', `/v1/event-types/${seg(name)}`),
  };
}

export function apiKeysApi(t: Transport) {
  return {
    /** The caller's project's keys (never the key itself). */
    ...listing<T.ApiKey, T.ListParams>(t, '/v1/api-keys'),
    /** A new key for the caller's project; the answer's `key` is shown only once. */
    create: (body?: T.ApiKeyCreate) => t.request<T.ApiKey>('POST', '/v1/api-keys', { body }),
    /** Revoked at once; the admin key cannot be revoked (409). */
    revoke: (id: string) => t.request<void>('DELETE', `/v1/api-keys/${seg(id)}`),
  };
}

/** Admin key only (others get 403). */
export function projectsApi(t: Transport) {
  const one = (id: string) => `/v1/projects/${seg(id)}`;
  return {
    ...listing<T.Project, T.ListParams>(t, '/v1/projects'),
    create: (body: T.ProjectCreate) => t.request<T.Project>('POST', '/v1/projects', { body }),
    get: (id: string) => t.request<T.Project>('GET', one(id)),
    /** `null` resets a setting to the server default. */
    update: (id: string, body: T.ProjectUpdate) => t.request<T.Project>('PATCH', one(id), { body }),
    createApiKey: (id: string, body?: T.ApiKeyCreate) => t.request<T.ApiKey>('POST', `${one(id)}/api-keys`, { body }),
    listApiKeys: (id: string, params?: T.ListParams) => t.request<T.Page<T.ApiKey>>('GET', `${one(id)}/api-keys`, { query: params as Q<T.ListParams> }),
  };
}

export function inboundEndpointsApi(t: Transport) {
  const one = (id: string) => `/v1/inbound-endpoints/${seg(id)}`;
  return {
    ...listing<T.InboundEndpoint, T.ListParams>(t, '/v1/inbound-endpoints'),
    ...manageable<T.InboundEndpoint, T.InboundEndpointUpdate>(t, '/v1/inbound-endpoints'),
    /** The answer carries `ingest_url` and `signing_secret` (shown only here and on rotation). */
    create: (body: T.InboundEndpointCreate) => t.request<T.InboundEndpoint>('POST', '/v1/inbound-endpoints', { body }),
    /**
     * Pull mode (also cli): unacknowledged events, oldest first. Pass the answer's `next_cursor`
     * back as `after`. With `wait` the server holds the request open, so the timeout grows with it.
     */
    pullEvents: (id: string, params?: T.PullParams, opts?: { signal?: AbortSignal }) =>
      t.request<T.Page<T.InboundEvent>>('GET', `${one(id)}/events`, {
        query: params as Q<T.PullParams>,
        signal: opts?.signal,
        timeoutMs: params?.wait ? params.wait * 1000 + 30_000 : undefined,
      }),
    ackEvents: (id: string, ids: string[]) => t.request<{ acked: number }>('POST', `${one(id)}/events/ack`, { body: { ids } }),
  };
}

export function inboundEventsApi(t: Transport) {
  const one = (id: string) => `/v1/inbound-events/${seg(id)}`;
  return {
    ...listing<T.InboundEvent, T.InboundListParams>(t, '/v1/inbound-events'),
    get: (id: string) => t.request<T.InboundEvent>('GET', one(id)),
    attempts: (id: string, params?: T.ListParams) => t.request<T.Page<T.Attempt>>('GET', `${one(id)}/attempts`, { query: params as Q<T.ListParams> }),
    /** Forward mode only (409 for pull/cli events). */
    replay: (id: string) => t.request<T.Delivery>('POST', `${one(id)}/replay`),
  };
}

export function inboundRejectionsApi(t: Transport) {
  return listing<T.InboundRejection, T.InboundListParams>(t, '/v1/inbound-rejections');
}

export function metricsApi(t: Transport) {
  return {
    get: (params?: T.MetricsParams) => t.request<T.Metrics>('GET', '/v1/metrics', { query: params as Q<T.MetricsParams> }),
    timeseries: (params?: T.MetricsParams) => t.request<T.MetricsTimeseries>('GET', '/v1/metrics/timeseries', { query: params as Q<T.MetricsParams> }),
  };
}

/**
 * Exports (CSV or NDJSON of deliveries or inbound events): `create` makes the job (counted at once),
 * `download` streams the file — a Response whose `body` yields the bytes as they come.
 */
export function exportsApi(t: Transport) {
  const one = (id: string) => `/v1/exports/${seg(id)}`;
  return {
    ...listing<T.ExportJob, T.ListParams>(t, '/v1/exports'),
    create: (body: T.ExportCreate) => t.request<T.ExportJob>('POST', '/v1/exports', { body }),
    get: (id: string) => t.request<T.ExportJob>('GET', one(id)),
    /** The file; `x-hookbridge-row-count` says how many rows were counted when the job was made. */
    download: (id: string, opts?: { signal?: AbortSignal }) => t.download(`${one(id)}/download`, { signal: opts?.signal }),
  };
}

export type EndpointsApi = ReturnType<typeof endpointsApi>;
export type MessagesApi = ReturnType<typeof messagesApi>;
export type DeliveriesApi = ReturnType<typeof deliveriesApi>;
export type EventTypesApi = ReturnType<typeof eventTypesApi>;
export type ApiKeysApi = ReturnType<typeof apiKeysApi>;
export type ProjectsApi = ReturnType<typeof projectsApi>;
export type InboundEndpointsApi = ReturnType<typeof inboundEndpointsApi>;
export type InboundEventsApi = ReturnType<typeof inboundEventsApi>;
export type InboundRejectionsApi = ReturnType<typeof inboundRejectionsApi>;
export type MetricsApi = ReturnType<typeof metricsApi>;
export type ExportsApi = ReturnType<typeof exportsApi>;
