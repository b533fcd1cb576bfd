/**
 * The domain objects the store hands out and the API serializes. Times are epoch milliseconds;
 * the API turns them into RFC 3339 strings.
 */
import type { SignatureScheme } from './signing.js';

export type EndpointStatus = 'active' | 'paused' | 'disabled';
export type Ordering = 'none' | 'fifo';
export type DeliveryStatus = 'queued' | 'delivering' | 'succeeded' | 'pending_retry' | 'failed' | 'paused' | 'cancelled';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['queued', 'delivering', 'succeeded', 'pending_retry', 'failed', 'paused', 'cancelled'];
/** Statuses a delivery can be replayed from. */
export const REPLAYABLE: readonly DeliveryStatus[] = ['succeeded', 'failed', 'cancelled'];
/** Statuses a delivery can be cancelled from. */
export const CANCELLABLE: readonly DeliveryStatus[] = ['queued', 'pending_retry', 'paused'];

export interface ProjectSettings {
  retry_schedule?: number[];
  api_rate_limit_per_minute?: number;
  strict_event_types?: boolean;
  /** Auto-disable limits for the project's endpoints (core/auto-disable.ts); absent = the server's. */
  disable_after_seconds?: number;
  disable_min_failures?: number;
  /** Days after which finished messages lose their payload (fractions allowed; absent = the server's). */
  payload_retention_days?: number;
  /** Days after which finished messages are deleted with their deliveries and attempts (≥ 1). */
  record_retention_days?: number;
  /** The consumer portal's branding (absent: the project's name, the default colour, no logo). */
  portal_brand_name?: string;
  portal_brand_color?: string;
  portal_logo_url?: string;
  /** Origins that may embed the portal in an iframe (CSP frame-ancestors); absent: none but its own. */
  portal_frame_ancestors?: string[];
}

export interface Project {
  id: string;
  name: string;
  settings: ProjectSettings;
  createdAt: number;
}

export interface ApiKey {
  id: string;
  projectId: string;
  prefix: string;
  label: string | null;
  isAdmin: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface EventType {
  name: string;
  description: string | null;
  schema: unknown;
  createdAt: number;
}

export interface Endpoint {
  id: string;
  projectId: string;
  url: string;
  consumerId: string | null;
  description: string | null;
  eventTypes: string[] | null;
  channels: string[] | null;
  headers: Record<string, string>;
  rateLimitRps: number | null;
  timeoutMs: number | null;
  retrySchedule: number[] | null;
  retryClientErrors: boolean;
  signatureScheme: SignatureScheme;
  ordering: Ordering;
  metadata: Record<string, unknown>;
  status: EndpointStatus;
  disabledReason: string | null;
  /** Overrides of the project's auto-disable limits (null = the project's). */
  disableAfterSeconds: number | null;
  disableMinFailures: number | null;
  /** The current run of failed attempts: when it started (null after a success) and its length. */
  failingSince: number | null;
  failuresSinceSuccess: number;
  createdAt: number;
  updatedAt: number;
}

export interface Message {
  id: string;
  projectId: string;
  eventType: string;
  consumerId: string | null;
  endpointId: string | null;
  broadcast: boolean;
  channels: string[] | null;
  /** The exact JSON text that is signed and sent. */
  payload: string;
  idempotencyKey: string | null;
  createdAt: number;
  /** When retention or a DELETE removed the payload (it is then ''), or null. */
  payloadRemovedAt: number | null;
  /** The id of the API request that created it (its x-request-id); null for operational events. */
  requestId: string | null;
}

export interface Delivery {
  id: string;
  projectId: string;
  messageId: string;
  endpointId: string;
  consumerId: string | null;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  replayCount: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface Attempt {
  id: string;
  deliveryId: string;
  endpointId: string;
  attemptNumber: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  outcome: 'succeeded' | 'retry' | 'failed';
  errorClass: string | null;
  errorMessage: string | null;
  responseBody: string | null;
  responseTruncated: boolean;
  /** The id of the request Hookbridge sent (its x-hookbridge-request-id header); null if it sent none. */
  requestId: string | null;
  /** The headers of that request, custom header values redacted; null if it sent none (or retention removed them). */
  requestHeaders: Record<string, string> | null;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

export type InboundMode = 'forward' | 'pull' | 'cli';

/**
 * An ingest URL with its verification rules. Its delivery side (destination, timeout, retries,
 * ordering, status) is an endpoint with the same id, so forwarding uses the outbound engine.
 */
export interface InboundEndpoint {
  id: string;
  projectId: string;
  name: string;
  mode: InboundMode;
  destinationUrl: string | null;
  /** The verification config (core/verify), secrets included: redact before showing. */
  verification: import('./verify/index.js').VerificationConfig;
  allowedCidrs: string[] | null;
  idempotencyHeaderNames: string[] | null;
  dedupeWindowSeconds: number | null;
  retentionSeconds: number | null;
  ingestResponseCode: number;
  ordering: Ordering;
  timeoutMs: number | null;
  retrySchedule: number[] | null;
  status: EndpointStatus;
  createdAt: number;
  updatedAt: number;
}

/** One accepted ingest request. */
export interface InboundEvent {
  id: string;
  projectId: string;
  inboundEndpointId: string;
  eventType: string | null;
  /** Request headers as stored: hop-by-hop and provider credentials removed. */
  headers: Record<string, string>;
  /** UTF-8 text, or base64 when bodyEncoding is 'base64'. */
  body: string;
  bodyEncoding: 'base64' | null;
  sourceIp: string | null;
  dedupeKey: string | null;
  ackedAt: number | null;
  createdAt: number;
  /** When retention removed the body and headers (then '' and {}), or null. */
  payloadRemovedAt: number | null;
  /** The id of the ingest request that brought it. */
  requestId: string | null;
  /** forward mode: the delivery that forwards it. */
  delivery: Delivery | null;
}

export interface InboundRejection {
  id: string;
  inboundEndpointId: string;
  reason: string;
  statusCode: number;
  sourceIp: string | null;
  headers: Record<string, string>;
  bodyBytes: number;
  createdAt: number;
}
