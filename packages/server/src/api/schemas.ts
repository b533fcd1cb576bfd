/**
 * TypeBox schemas: the single source for request validation, response serialization (which drops
 * any field not declared here — a safety net for an API that holds secrets) and /openapi.json.
 * Plus the functions that turn domain objects into their JSON shape.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { redactHeaders } from '../core/endpoint-rules.js';
import { FRAME_ANCESTOR_ORIGIN } from '../core/frame-ancestors.js';
import type { ApiKey, Attempt, Delivery, Endpoint, EventType, Message, Page, Project } from '../core/model.js';
import { DELIVERY_STATUSES, type DeliveryStatus as DeliveryStatusName } from '../core/model.js';

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const Time = Type.String({ format: 'date-time' });
export const Name = Type.String({ minLength: 1, maxLength: 256 });
const StringList = Type.Array(Name, { maxItems: 256 });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
    request_id: Type.String({ description: "this request's id, also in the x-request-id header; quote it when reporting a problem" }),
  }),
});

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 256 })),
});

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

export function ListOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), has_more: Type.Boolean(), next_cursor: Nullable(Type.String()) });
}

export function listJson<T, J>(page: Page<T>, map: (t: T) => J) {
  return { data: page.data.map(map), has_more: page.hasMore, next_cursor: page.nextCursor };
}

// --- endpoints ----------------------------------------------------------------------------

const endpointFields = {
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  consumer_id: Nullable(Name),
  description: Nullable(Type.String({ maxLength: 1024 })),
  event_types: Nullable(StringList),
  channels: Nullable(StringList),
  headers: Type.Record(Type.String(), Type.String({ maxLength: 4096 }), { maxProperties: 50 }),
  rate_limit_rps: Nullable(Type.Integer({ minimum: 1, maximum: 100_000 })),
  timeout_ms: Nullable(Type.Integer({ minimum: 1000, maximum: 30_000 })),
  retry_schedule: Nullable(Type.Array(Type.Number({ minimum: 0, maximum: 7 * 86400 }), { maxItems: 50 })),
  retry_client_errors: Type.Boolean(),
  signature_scheme: Type.Union([Type.Literal('standard'), Type.Literal('hookbridge')]),
  ordering: Type.Union([Type.Literal('none'), Type.Literal('fifo')]),
  metadata: Type.Record(Type.String(), Type.Unknown(), { maxProperties: 50 }),
  disable_after_seconds: Nullable(Type.Integer({ minimum: 0, maximum: 365 * 86400, description: 'Auto-disable after this long without a success (0 = never); null = the project\'s.' })),
  disable_min_failures: Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Auto-disable needs at least this many failed attempts in a row; null = the project\'s.' })),
};

export const EndpointCreate = Type.Object(
  {
    url: endpointFields.url,
    consumer_id: Type.Optional(endpointFields.consumer_id),
    description: Type.Optional(endpointFields.description),
    event_types: Type.Optional(endpointFields.event_types),
    channels: Type.Optional(endpointFields.channels),
    headers: Type.Optional(endpointFields.headers),
    rate_limit_rps: Type.Optional(endpointFields.rate_limit_rps),
    timeout_ms: Type.Optional(endpointFields.timeout_ms),
    retry_schedule: Type.Optional(endpointFields.retry_schedule),
    retry_client_errors: Type.Optional(endpointFields.retry_client_errors),
    signature_scheme: Type.Optional(endpointFields.signature_scheme),
    ordering: Type.Optional(endpointFields.ordering),
    metadata: Type.Optional(endpointFields.metadata),
    disable_after_seconds: Type.Optional(endpointFields.disable_after_seconds),
    disable_min_failures: Type.Optional(endpointFields.disable_min_failures),
  },
  { additionalProperties: false },
);
export type EndpointCreateBody = Static<typeof EndpointCreate>;
export const EndpointPatch = Type.Partial(EndpointCreate, { additionalProperties: false });
export type EndpointPatchBody = Static<typeof EndpointPatch>;

export const EndpointJson = Type.Object({
  id: Type.String(),
  ...endpointFields,
  status: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('disabled')]),
  disabled_reason: Nullable(Type.String()),
  failing_since: Nullable(Time),
  failures_since_success: Type.Integer(),
  created_at: Time,
  updated_at: Time,
  signing_secret: Type.Optional(Type.String()),
});

export function endpointJson(e: Endpoint, signingSecret?: string) {
  return {
    id: e.id,
    url: e.url,
    consumer_id: e.consumerId,
    description: e.description,
    event_types: e.eventTypes,
    channels: e.channels,
    headers: redactHeaders(e.headers),
    rate_limit_rps: e.rateLimitRps,
    timeout_ms: e.timeoutMs,
    retry_schedule: e.retrySchedule,
    retry_client_errors: e.retryClientErrors,
    signature_scheme: e.signatureScheme,
    ordering: e.ordering,
    metadata: e.metadata,
    status: e.status,
    disabled_reason: e.disabledReason,
    disable_after_seconds: e.disableAfterSeconds,
    disable_min_failures: e.disableMinFailures,
    failing_since: isoOrNull(e.failingSince),
    failures_since_success: e.failuresSinceSuccess,
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt),
    ...(signingSecret ? { signing_secret: signingSecret } : {}),
  };
}

// --- messages and deliveries ---------------------------------------------------------------

export const MessageCreate = Type.Object(
  {
    event_type: Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9_.:/-]+$' }),
    payload: Type.Unknown({ description: 'Any JSON value; sent as its compact JSON text.' }),
    consumer_id: Type.Optional(Name),
    endpoint_id: Type.Optional(Name),
    broadcast: Type.Optional(Type.Boolean()),
    channels: Type.Optional(StringList),
    idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type MessageCreateBody = Static<typeof MessageCreate>;

const DeliveryStatus = Type.Unsafe<DeliveryStatusName>({ type: 'string', enum: [...DELIVERY_STATUSES] });

export const DeliveryJson = Type.Object({
  id: Type.String(),
  message_id: Type.String(),
  endpoint_id: Type.String(),
  consumer_id: Nullable(Type.String()),
  event_type: Type.String(),
  status: DeliveryStatus,
  attempt_count: Type.Integer(),
  replay_count: Type.Integer(),
  next_attempt_at: Nullable(Time),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  last_attempt_at: Nullable(Time),
  created_at: Time,
  updated_at: Time,
});

export function deliveryJson(d: Delivery) {
  const waiting = d.status === 'queued' || d.status === 'pending_retry';
  return {
    id: d.id,
    message_id: d.messageId,
    endpoint_id: d.endpointId,
    consumer_id: d.consumerId,
    event_type: d.eventType,
    status: d.status,
    attempt_count: d.attemptCount,
    replay_count: d.replayCount,
    next_attempt_at: waiting ? isoOrNull(d.nextAttemptAt) : null,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    last_attempt_at: isoOrNull(d.lastAttemptAt),
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
  };
}

export const MessageJson = Type.Object({
  id: Type.String(),
  event_type: Type.String(),
  consumer_id: Nullable(Type.String()),
  endpoint_id: Nullable(Type.String()),
  broadcast: Type.Boolean(),
  channels: Nullable(Type.Array(Type.String())),
  payload: Type.Unknown({ description: 'null once the payload was removed (payload_removed_at is then set)' }),
  idempotency_key: Nullable(Type.String()),
  created_at: Time,
  payload_removed_at: Nullable(Time),
  request_id: Nullable(Type.String({ description: 'the x-request-id of the API request that created it; null for operational events' })),
});

export function messageJson(m: Message) {
  return {
    id: m.id,
    event_type: m.eventType,
    consumer_id: m.consumerId,
    endpoint_id: m.endpointId,
    broadcast: m.broadcast,
    channels: m.channels,
    // Removed (retention, DELETE): null, told apart from a JSON null payload by payload_removed_at.
    payload: m.payloadRemovedAt === null ? (JSON.parse(m.payload) as unknown) : null,
    idempotency_key: m.idempotencyKey,
    created_at: iso(m.createdAt),
    payload_removed_at: isoOrNull(m.payloadRemovedAt),
    request_id: m.requestId,
  };
}

export const MessageAccepted = Type.Object({
  id: Type.String(),
  event_type: Type.String(),
  created_at: Time,
  deliveries: Type.Array(Type.Object({ id: Type.String(), endpoint_id: Type.String(), status: DeliveryStatus })),
});

export const AttemptJson = Type.Object({
  id: Type.String(),
  delivery_id: Type.String(),
  endpoint_id: Type.String(),
  attempt_number: Type.Integer(),
  started_at: Time,
  duration_ms: Type.Integer(),
  status_code: Nullable(Type.Integer()),
  outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('retry'), Type.Literal('failed')]),
  error_class: Nullable(Type.String()),
  error_message: Nullable(Type.String()),
  response_body: Nullable(Type.String()),
  response_truncated: Type.Boolean(),
  request_id: Nullable(Type.String({ description: 'the x-hookbridge-request-id header Hookbridge sent; null for results reported by `hookbridge listen`' })),
  request_headers: Nullable(
    Type.Record(Type.String(), Type.String(), {
      description: "the headers of the request Hookbridge sent, the endpoint's custom header values shown as [redacted]; null for results reported by `hookbridge listen` and once retention removed the payload",
    }),
  ),
});

export function attemptJson(a: Attempt) {
  return {
    id: a.id,
    delivery_id: a.deliveryId,
    endpoint_id: a.endpointId,
    attempt_number: a.attemptNumber,
    started_at: iso(a.startedAt),
    duration_ms: a.durationMs,
    status_code: a.statusCode,
    outcome: a.outcome,
    error_class: a.errorClass,
    error_message: a.errorMessage,
    response_body: a.responseBody,
    response_truncated: a.responseTruncated,
    request_id: a.requestId,
    request_headers: a.requestHeaders,
  };
}

// --- projects, keys, event types --------------------------------------------------------------

export const ProjectSettingsSchema = {
  retry_schedule: Type.Optional(Nullable(Type.Array(Type.Number({ minimum: 0, maximum: 7 * 86400 }), { maxItems: 50 }))),
  api_rate_limit_per_minute: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 10_000_000 }))),
  strict_event_types: Type.Optional(Nullable(Type.Boolean())),
  disable_after_seconds: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 365 * 86400 }))),
  disable_min_failures: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 }))),
  // Fractions of a day are allowed (0.5 = 12 h); the record window keeps idempotency keys, promised for 24 h.
  payload_retention_days: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 36500 }))),
  record_retention_days: Type.Optional(Nullable(Type.Number({ minimum: 1, maximum: 36500 }))),
  portal_brand_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100, description: 'Name the consumer portal shows; null = the project name' }))),
  portal_brand_color: Type.Optional(Nullable(Type.String({ pattern: '^#[0-9A-Fa-f]{6}$', description: 'Accent colour of the portal, #rrggbb' }))),
  portal_logo_url: Type.Optional(Nullable(Type.String({ maxLength: 2048, pattern: '^https://[^\\s"\'<>]+$', description: 'https URL of a logo shown in the portal' }))),
  // Each origin goes into a Content-Security-Policy header as it is (core/frame-ancestors.ts).
  portal_frame_ancestors: Type.Optional(
    Nullable(
      Type.Array(Type.String({ maxLength: 256, pattern: FRAME_ANCESTOR_ORIGIN.source }), {
        maxItems: 20,
        description: 'Origins (https://app.example.com) that may embed the portal in an iframe',
      }),
    ),
  ),
};

export const ProjectJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  retry_schedule: Nullable(Type.Array(Type.Number())),
  api_rate_limit_per_minute: Nullable(Type.Integer()),
  strict_event_types: Type.Boolean(),
  disable_after_seconds: Nullable(Type.Integer()),
  disable_min_failures: Nullable(Type.Integer()),
  payload_retention_days: Nullable(Type.Number()),
  record_retention_days: Nullable(Type.Number()),
  portal_brand_name: Nullable(Type.String()),
  portal_brand_color: Nullable(Type.String()),
  portal_logo_url: Nullable(Type.String()),
  portal_frame_ancestors: Nullable(Type.Array(Type.String())),
  created_at: Time,
});

export function projectJson(p: Project) {
  return {
    id: p.id,
    name: p.name,
    retry_schedule: p.settings.retry_schedule ?? null,
    api_rate_limit_per_minute: p.settings.api_rate_limit_per_minute ?? null,
    strict_event_types: p.settings.strict_event_types ?? false,
    disable_after_seconds: p.settings.disable_after_seconds ?? null,
    disable_min_failures: p.settings.disable_min_failures ?? null,
    payload_retention_days: p.settings.payload_retention_days ?? null,
    record_retention_days: p.settings.record_retention_days ?? null,
    portal_brand_name: p.settings.portal_brand_name ?? null,
    portal_brand_color: p.settings.portal_brand_color ?? null,
    portal_logo_url: p.settings.portal_logo_url ?? null,
    portal_frame_ancestors: p.settings.portal_frame_ancestors ?? null,
    created_at: iso(p.createdAt),
  };
}

export const ApiKeyJson = Type.Object({
  id: Type.String(),
  project_id: Type.String(),
  prefix: Type.String(),
  label: Nullable(Type.String()),
  admin: Type.Boolean(),
  created_at: Time,
  last_used_at: Nullable(Time),
  revoked_at: Nullable(Time),
  key: Type.Optional(Type.String({ description: 'The key itself; returned once, when it is created.' })),
});

export function apiKeyJson(k: ApiKey, key?: string) {
  return {
    id: k.id,
    project_id: k.projectId,
    prefix: k.prefix,
    label: k.label,
    admin: k.isAdmin,
    created_at: iso(k.createdAt),
    last_used_at: isoOrNull(k.lastUsedAt),
    revoked_at: isoOrNull(k.revokedAt),
    ...(key ? { key } : {}),
  };
}

export const EventTypeJson = Type.Object({
  name: Type.String(),
  description: Nullable(Type.String()),
  schema: Type.Unknown(),
  created_at: Time,
});

export function eventTypeJson(e: EventType) {
  return { name: e.name, description: e.description, schema: e.schema ?? null, created_at: iso(e.createdAt) };
}

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
};
