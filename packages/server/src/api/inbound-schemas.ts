/** TypeBox schemas and JSON shapes of the inbound resources (endpoints, events, rejections). */
import { Type, type Static } from 'typebox';
import type { InboundEndpoint, InboundEvent, InboundRejection } from '../core/model.js';
import { redactVerification, VerificationSchema } from '../core/verify/index.js';
import type { LocalResult } from '../store/inbound-events.js';
import { DeliveryJson, deliveryJson, iso, Nullable } from './schemas.js';

const HeaderName = Type.String({ minLength: 1, maxLength: 256, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" });

const inboundFields = {
  name: Type.String({ minLength: 1, maxLength: 256 }),
  mode: Type.Union([Type.Literal('forward'), Type.Literal('pull'), Type.Literal('cli')]),
  destination_url: Nullable(Type.String({ minLength: 1, maxLength: 2048 })),
  verification: VerificationSchema,
  allowed_cidrs: Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 })),
  idempotency_header_names: Nullable(Type.Array(HeaderName, { maxItems: 10 })),
  dedupe_window_seconds: Nullable(Type.Integer({ minimum: 0, maximum: 30 * 86400 })),
  retention_seconds: Nullable(Type.Integer({ minimum: 60, maximum: 365 * 86400 })),
  ingest_response_code: Type.Integer({ minimum: 200, maximum: 299 }),
  ordering: Type.Union([Type.Literal('none'), Type.Literal('fifo')]),
  timeout_ms: Nullable(Type.Integer({ minimum: 1000, maximum: 30_000 })),
  retry_schedule: Nullable(Type.Array(Type.Number({ minimum: 0, maximum: 7 * 86400 }), { maxItems: 50 })),
};

export const InboundEndpointCreate = Type.Object(
  {
    name: inboundFields.name,
    mode: inboundFields.mode,
    destination_url: Type.Optional(inboundFields.destination_url),
    verification: inboundFields.verification,
    allowed_cidrs: Type.Optional(inboundFields.allowed_cidrs),
    idempotency_header_names: Type.Optional(inboundFields.idempotency_header_names),
    dedupe_window_seconds: Type.Optional(inboundFields.dedupe_window_seconds),
    retention_seconds: Type.Optional(inboundFields.retention_seconds),
    ingest_response_code: Type.Optional(inboundFields.ingest_response_code),
    ordering: Type.Optional(inboundFields.ordering),
    timeout_ms: Type.Optional(inboundFields.timeout_ms),
    retry_schedule: Type.Optional(inboundFields.retry_schedule),
  },
  { additionalProperties: false },
);
export type InboundEndpointCreateBody = Static<typeof InboundEndpointCreate>;

export const InboundEndpointPatch = Type.Partial(InboundEndpointCreate, { additionalProperties: false });
export type InboundEndpointPatchBody = Static<typeof InboundEndpointPatch>;

export const InboundEndpointJson = Type.Object({
  id: Type.String(),
  ...inboundFields,
  verification: Type.Record(Type.String(), Type.Unknown()),
  ingest_url: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('disabled')]),
  signing_secret: Type.Optional(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export function inboundEndpointJson(e: InboundEndpoint, publicUrl: string, signingSecret?: string) {
  return {
    id: e.id,
    name: e.name,
    mode: e.mode,
    destination_url: e.destinationUrl,
    verification: redactVerification(e.verification) as Record<string, unknown>,
    allowed_cidrs: e.allowedCidrs,
    idempotency_header_names: e.idempotencyHeaderNames,
    dedupe_window_seconds: e.dedupeWindowSeconds,
    retention_seconds: e.retentionSeconds,
    ingest_response_code: e.ingestResponseCode,
    ordering: e.ordering,
    timeout_ms: e.timeoutMs,
    retry_schedule: e.retrySchedule,
    ingest_url: `${publicUrl}/in/${e.id}`,
    status: e.status,
    ...(signingSecret ? { signing_secret: signingSecret } : {}),
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt),
  };
}

export const InboundEventJson = Type.Object({
  id: Type.String(),
  inbound_endpoint_id: Type.String(),
  event_type: Nullable(Type.String()),
  headers: Type.Record(Type.String(), Type.String()),
  body: Nullable(Type.String({ description: 'null once retention removed it (payload_removed_at is then set; headers are then {})' })),
  body_encoding: Type.Optional(Type.Literal('base64')),
  source_ip: Nullable(Type.String()),
  dedupe_key: Nullable(Type.String()),
  acked_at: Nullable(Type.String()),
  created_at: Type.String(),
  payload_removed_at: Nullable(Type.String()),
  request_id: Nullable(Type.String({ description: 'the x-request-id of the ingest request that brought it' })),
  delivery: Type.Optional(Nullable(DeliveryJson)),
});

export function inboundEventJson(e: InboundEvent, withDelivery = true) {
  return {
    id: e.id,
    inbound_endpoint_id: e.inboundEndpointId,
    event_type: e.eventType,
    headers: e.headers,
    body: e.payloadRemovedAt === null ? e.body : null,
    ...(e.bodyEncoding ? { body_encoding: e.bodyEncoding } : {}),
    source_ip: e.sourceIp,
    dedupe_key: e.dedupeKey,
    acked_at: e.ackedAt === null ? null : iso(e.ackedAt),
    created_at: iso(e.createdAt),
    payload_removed_at: e.payloadRemovedAt === null ? null : iso(e.payloadRemovedAt),
    request_id: e.requestId,
    ...(withDelivery ? { delivery: e.delivery ? deliveryJson(e.delivery) : null } : {}),
  };
}

export const EventId = Type.String({ minLength: 1, maxLength: 128 });

/** `hookbridge listen`'s report of one event: the local server's status (null: unreachable). */
export const LocalResultJson = Type.Object(
  {
    id: EventId,
    status_code: Nullable(Type.Integer({ minimum: 100, maximum: 599 })),
    latency_ms: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
    error: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
  },
  { additionalProperties: false },
);

export function localResultOf(r: { id: string; status_code: number | null; latency_ms: number; error?: string | null }): LocalResult {
  return { id: r.id, statusCode: r.status_code, latencyMs: r.latency_ms, error: r.error ?? null };
}

export const InboundRejectionJson = Type.Object({
  id: Type.String(),
  inbound_endpoint_id: Type.String(),
  reason: Type.String(),
  status_code: Type.Integer(),
  source_ip: Nullable(Type.String()),
  headers: Type.Record(Type.String(), Type.String()),
  body_bytes: Type.Integer(),
  created_at: Type.String(),
});

export function inboundRejectionJson(r: InboundRejection) {
  return {
    id: r.id,
    inbound_endpoint_id: r.inboundEndpointId,
    reason: r.reason,
    status_code: r.statusCode,
    source_ip: r.sourceIp,
    headers: r.headers,
    body_bytes: r.bodyBytes,
    created_at: iso(r.createdAt),
  };
}
