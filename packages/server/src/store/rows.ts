/** Row ↔ domain conversions and the list convention, shared by every repository. */
import type { Selectable } from 'kysely';
import type { Attempt, Delivery, DeliveryStatus, Endpoint, EndpointStatus, Message, Ordering, Page } from '../core/model.js';
import { newId } from '../core/ids.js';
import type { SecretBox } from '../core/secret-box.js';
import type { SignatureScheme } from '../core/signing.js';
import type { AttemptsTable, DeliveriesTable, EndpointsTable, MessagesTable } from './schema.js';

/** A delivery as fan-out and ingest create it: no attempt made yet. */
export function newDeliveryRow(
  d: { projectId: string; messageId: string; endpointId: string; consumerId: string | null; eventType: string; status: DeliveryStatus; nextAttemptAt: number | null },
  now: number,
): DeliveriesTable {
  return {
    id: newId('dlv', now),
    project_id: d.projectId,
    message_id: d.messageId,
    endpoint_id: d.endpointId,
    consumer_id: d.consumerId,
    event_type: d.eventType,
    status: d.status,
    attempt_count: 0,
    run_attempts: 0,
    replay_count: 0,
    next_attempt_at: d.nextAttemptAt,
    lease_expires_at: null,
    last_status_code: null,
    last_error: null,
    last_attempt_at: null,
    created_at: now,
    updated_at: now,
  };
}

export const json = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
export const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** Rows fetched with limit + 1, newest first; the extra row only says there is more. */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, map: (r: R) => T): Page<T> {
  const hasMore = rows.length > limit;
  const kept = hasMore ? rows.slice(0, limit) : rows;
  return { data: kept.map(map), hasMore, nextCursor: hasMore ? kept[kept.length - 1].id : null };
}

/**
 * An endpoint's own headers often carry the receiver's credential (Authorization, X-Api-Key…), so
 * they are sealed at rest like signing secrets. No headers stay a plain `{}`; rows written before
 * headers were sealed hold plain JSON until Store.open seals them.
 */
export function sealHeaders(box: SecretBox, headers: Record<string, string> | null | undefined): string {
  const text = JSON.stringify(headers ?? {});
  return text === '{}' ? text : box.seal(text);
}

export function openHeaders(box: SecretBox, stored: string): Record<string, string> {
  return JSON.parse(stored.startsWith('{') ? stored : box.open(stored)) as Record<string, string>;
}

/** `headersOf` opens the sealed headers column (see sealHeaders). */
export function endpointFromRow(r: Selectable<EndpointsTable>, headersOf: (stored: string) => Record<string, string>): Endpoint {
  return {
    id: r.id,
    projectId: r.project_id,
    url: r.url,
    consumerId: r.consumer_id,
    description: r.description,
    eventTypes: json<string[]>(r.event_types),
    channels: json<string[]>(r.channels),
    headers: headersOf(r.headers),
    rateLimitRps: r.rate_limit_rps,
    timeoutMs: r.timeout_ms,
    retrySchedule: json<number[]>(r.retry_schedule),
    retryClientErrors: r.retry_client_errors === 1,
    signatureScheme: r.signature_scheme as SignatureScheme,
    ordering: r.ordering as Ordering,
    metadata: json<Record<string, unknown>>(r.metadata) ?? {},
    status: r.status as EndpointStatus,
    disabledReason: r.disabled_reason,
    disableAfterSeconds: r.disable_after_seconds,
    disableMinFailures: r.disable_min_failures,
    failingSince: r.failing_since === null ? null : Number(r.failing_since),
    failuresSinceSuccess: r.failures_since_success,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function messageFromRow(r: Selectable<MessagesTable>): Message {
  return {
    id: r.id,
    projectId: r.project_id,
    eventType: r.event_type,
    consumerId: r.consumer_id,
    endpointId: r.endpoint_id,
    broadcast: r.broadcast === 1,
    channels: json<string[]>(r.channels),
    payload: r.payload,
    idempotencyKey: r.idempotency_key,
    createdAt: Number(r.created_at),
    payloadRemovedAt: r.payload_removed_at === null ? null : Number(r.payload_removed_at),
    requestId: r.request_id,
  };
}

export function deliveryFromRow(r: Selectable<DeliveriesTable>): Delivery {
  return {
    id: r.id,
    projectId: r.project_id,
    messageId: r.message_id,
    endpointId: r.endpoint_id,
    consumerId: r.consumer_id,
    eventType: r.event_type,
    status: r.status as DeliveryStatus,
    attemptCount: r.attempt_count,
    replayCount: r.replay_count,
    nextAttemptAt: r.next_attempt_at === null ? null : Number(r.next_attempt_at),
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    lastAttemptAt: r.last_attempt_at === null ? null : Number(r.last_attempt_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function attemptFromRow(r: Selectable<AttemptsTable>): Attempt {
  return {
    id: r.id,
    deliveryId: r.delivery_id,
    endpointId: r.endpoint_id,
    attemptNumber: r.attempt_number,
    startedAt: Number(r.started_at),
    durationMs: r.duration_ms,
    statusCode: r.status_code,
    outcome: r.outcome as Attempt['outcome'],
    errorClass: r.error_class,
    errorMessage: r.error_message,
    responseBody: r.response_body,
    responseTruncated: r.response_truncated === 1,
    requestId: r.request_id,
    requestHeaders: json<Record<string, string>>(r.request_headers),
  };
}
