/**
 * The JSON shapes of the API (docs/api.md; the server's api/schemas.ts and api/inbound-schemas.ts
 * are the source). Field names stay snake_case, exactly as on the wire, so what you read here is
 * what `curl` shows. Times are RFC 3339 strings.
 */

export type QueryParams = Record<string, string | number | boolean | undefined | null>;

/** Every list route answers this; follow `next_cursor` (or use `paginate`/`listAll`). */
export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

export interface ListParams {
  /** 1–250, default 50. */
  limit?: number;
  cursor?: string;
}

// --- endpoints ----------------------------------------------------------------------------------

export type EndpointStatus = 'active' | 'paused' | 'disabled';
export type SignatureScheme = 'standard' | 'hookbridge';
export type Ordering = 'none' | 'fifo';

export interface EndpointFields {
  url: string;
  consumer_id: string | null;
  description: string | null;
  event_types: string[] | null;
  channels: string[] | null;
  /** Read back as `"[redacted]"` values. */
  headers: Record<string, string>;
  rate_limit_rps: number | null;
  timeout_ms: number | null;
  retry_schedule: number[] | null;
  retry_client_errors: boolean;
  signature_scheme: SignatureScheme;
  ordering: Ordering;
  metadata: Record<string, unknown>;
  /** Auto-disable after this long without a success (null = the project's limit; 0 = never). */
  disable_after_seconds: number | null;
  /** …and at least this many failed attempts in a row (null = the project's). */
  disable_min_failures: number | null;
}

export interface Endpoint extends EndpointFields {
  id: string;
  status: EndpointStatus;
  disabled_reason: string | null;
  /** Start of the current run of failed attempts, or null. */
  failing_since: string | null;
  failures_since_success: number;
  created_at: string;
  updated_at: string;
  /** Only in the answer to create. */
  signing_secret?: string;
}

export type EndpointCreate = Partial<EndpointFields> & { url: string };
export type EndpointUpdate = Partial<EndpointFields>;
export interface EndpointListParams extends ListParams {
  consumer_id?: string;
  status?: EndpointStatus;
}

export interface RotateSecretParams {
  /** 0–604 800 s, default 86 400: how long the previous secret keeps signing too. */
  grace_seconds?: number;
}
export interface RotatedSecret {
  signing_secret: string;
  previous_secret_expires_at: string;
}

// --- messages, deliveries, attempts -------------------------------------------------------------

export type DeliveryStatus = 'queued' | 'delivering' | 'pending_retry' | 'succeeded' | 'failed' | 'cancelled' | 'paused';

export interface MessageSend {
  event_type: string;
  payload: unknown;
  consumer_id?: string;
  endpoint_id?: string;
  broadcast?: boolean;
  channels?: string[];
  idempotency_key?: string;
}

export interface MessageAccepted {
  id: string;
  event_type: string;
  created_at: string;
  deliveries: Array<{ id: string; endpoint_id: string; status: DeliveryStatus }>;
}

export interface Message {
  id: string;
  event_type: string;
  consumer_id: string | null;
  endpoint_id: string | null;
  broadcast: boolean;
  channels: string[] | null;
  /** null once the payload was removed (then payload_removed_at is set). */
  payload: unknown;
  idempotency_key: string | null;
  created_at: string;
  /** When retention or messages.delete() removed the payload, or null. */
  payload_removed_at: string | null;
  /** The x-request-id of the API request that created it; null for operational events. */
  request_id: string | null;
}

export interface MessageListParams extends ListParams {
  event_type?: string;
  consumer_id?: string;
}

export interface Delivery {
  id: string;
  message_id: string;
  endpoint_id: string;
  consumer_id: string | null;
  event_type: string;
  status: DeliveryStatus;
  attempt_count: number;
  replay_count: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeliveryListParams extends ListParams {
  status?: DeliveryStatus;
  endpoint_id?: string;
  message_id?: string;
  consumer_id?: string;
  event_type?: string;
  /** RFC 3339, on created_at. */
  since?: string;
  until?: string;
}

export interface Attempt {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  attempt_number: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  outcome: 'succeeded' | 'retry' | 'failed';
  error_class: string | null;
  error_message: string | null;
  response_body: string | null;
  response_truncated: boolean;
  /** The x-hookbridge-request-id header the receiver got; null for results reported by `hookbridge listen`. */
  request_id: string | null;
  /** The headers of the request sent (the endpoint's custom header values as [redacted]); null for `hookbridge listen` results and once retention removed the payload. */
  request_headers: Record<string, string> | null;
}

export type BulkReplay =
  | { ids: string[] }
  | { status: 'succeeded' | 'failed' | 'cancelled'; endpoint_id?: string; since?: string; until?: string };
export interface BulkReplayResult {
  replayed: number;
  skipped: number;
  /** Of the skipped, those whose payload was removed. */
  expired: number;
}

// --- event types, projects, API keys ------------------------------------------------------------

export interface EventType {
  name: string;
  description: string | null;
  schema: unknown;
  created_at: string;
}
export interface EventTypeCreate {
  name: string;
  description?: string;
  schema?: unknown;
}

export interface ProjectSettings {
  retry_schedule?: number[] | null;
  api_rate_limit_per_minute?: number | null;
  strict_event_types?: boolean | null;
  disable_after_seconds?: number | null;
  disable_min_failures?: number | null;
  /** Days (fractions allowed) before finished deliveries' payloads are removed. */
  payload_retention_days?: number | null;
  /** Days (at least 1) before finished messages are deleted with their deliveries and attempts. */
  record_retention_days?: number | null;
  /** The name the consumer portal shows (1–100 characters); null = the project name. */
  portal_brand_name?: string | null;
  /** The portal's accent colour, `#rrggbb`. */
  portal_brand_color?: string | null;
  /** An `https://` URL of a logo the portal shows. */
  portal_logo_url?: string | null;
  /** Up to 20 origins (`https://app.example.com`) that may embed the portal in an iframe; null = none but the server itself. */
  portal_frame_ancestors?: string[] | null;
}
export interface Project {
  id: string;
  name: string;
  retry_schedule: number[] | null;
  api_rate_limit_per_minute: number | null;
  strict_event_types: boolean;
  disable_after_seconds: number | null;
  disable_min_failures: number | null;
  payload_retention_days: number | null;
  record_retention_days: number | null;
  portal_brand_name: string | null;
  portal_brand_color: string | null;
  portal_logo_url: string | null;
  portal_frame_ancestors: string[] | null;
  created_at: string;
}
export type ProjectCreate = ProjectSettings & { name: string };
export type ProjectUpdate = ProjectSettings & { name?: string };

export interface ApiKey {
  id: string;
  project_id: string;
  prefix: string;
  label: string | null;
  admin: boolean;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** The key itself: only in the answer to create. */
  key?: string;
}
export interface ApiKeyCreate {
  label?: string;
  mode?: 'live' | 'test';
}

// --- inbound ------------------------------------------------------------------------------------

export type InboundMode = 'forward' | 'pull' | 'cli';

/** `verification` of an inbound endpoint; `secret` may be `secrets: [...]` (docs/api.md). */
export type InboundVerification =
  | { type: 'stripe' | 'slack' | 'standard'; secret?: string; secrets?: string[]; tolerance_seconds?: number }
  | { type: 'github' | 'shopify'; secret?: string; secrets?: string[] }
  | {
      type: 'hmac';
      secret?: string;
      secrets?: string[];
      header: string;
      algorithm: 'sha1' | 'sha256' | 'sha512';
      encoding: 'hex' | 'base64';
      prefix?: string;
      timestamp_header?: string;
      signed_content?: string;
      tolerance_seconds?: number;
      id_header?: string;
    }
  | { type: 'token'; secret?: string; secrets?: string[]; header?: string; query?: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'none' };

export interface InboundEndpointFields {
  name: string;
  mode: InboundMode;
  destination_url: string | null;
  verification: InboundVerification;
  allowed_cidrs: string[] | null;
  idempotency_header_names: string[] | null;
  dedupe_window_seconds: number | null;
  retention_seconds: number | null;
  ingest_response_code: number;
  ordering: Ordering;
  timeout_ms: number | null;
  retry_schedule: number[] | null;
}

export interface InboundEndpoint extends Omit<InboundEndpointFields, 'verification'> {
  id: string;
  /** Read back with secrets redacted (`whsec_…abcd`). */
  verification: Record<string, unknown>;
  ingest_url: string;
  status: EndpointStatus;
  /** Only in the answer to create. */
  signing_secret?: string;
  created_at: string;
  updated_at: string;
}

export type InboundEndpointCreate = Partial<InboundEndpointFields> & Pick<InboundEndpointFields, 'name' | 'mode' | 'verification'>;
export type InboundEndpointUpdate = Partial<Omit<InboundEndpointFields, 'mode'>>;

export interface InboundEvent {
  id: string;
  inbound_endpoint_id: string;
  event_type: string | null;
  headers: Record<string, string>;
  /**
   * UTF-8 text, or base64 when `body_encoding` is `"base64"`. A forwarded event's body is null once
   * payload retention removed it (held events of pull and cli endpoints always have theirs).
   */
  body: string | null;
  body_encoding?: 'base64';
  source_ip: string | null;
  dedupe_key: string | null;
  acked_at: string | null;
  created_at: string;
  /** When payload retention removed the body and headers, or null. */
  payload_removed_at: string | null;
  /** The x-request-id of the ingest request that brought it. */
  request_id: string | null;
  /** The forwarding delivery (forward mode); absent from pulled events. */
  delivery?: Delivery | null;
}

export interface InboundListParams extends ListParams {
  inbound_endpoint_id?: string;
}

export interface PullParams {
  /** The last id seen (the previous answer's `next_cursor`). */
  after?: string;
  limit?: number;
  /** Long-poll for up to this many seconds (≤ 60) while nothing is waiting. */
  wait?: number;
}

export interface InboundRejection {
  id: string;
  inbound_endpoint_id: string;
  reason: string;
  status_code: number;
  source_ip: string | null;
  headers: Record<string, string>;
  body_bytes: number;
  created_at: string;
}

// --- metrics ------------------------------------------------------------------------------------

export interface MetricsParams {
  window?: '1h' | '24h' | '7d' | '30d';
  endpoint_id?: string;
  direction?: 'outbound' | 'inbound';
}
export interface Metrics {
  window: string;
  total_messages: number;
  deliveries: number;
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
  retries: number;
  success_rate: number | null;
  avg_latency_ms: number | null;
  /** With direction=inbound: refused ingest requests. */
  rejected?: number;
}
export interface MetricsTimeseries {
  window: string;
  bucket_seconds: number;
  data: Array<{ timestamp: string; succeeded: number; failed: number; retrying: number; total: number; avg_latency_ms: number | null }>;
}

// --- exports ------------------------------------------------------------------------------------

export type ExportKind = 'deliveries' | 'inbound-events';
export type ExportFormat = 'csv' | 'ndjson';

export interface ExportCreate {
  kind: ExportKind;
  format: ExportFormat;
  /** deliveries: the filters of `deliveries.list` (no cursor/limit); inbound-events: `inbound_endpoint_id`. */
  filters?: Omit<DeliveryListParams, 'limit' | 'cursor'> | Omit<InboundListParams, 'limit' | 'cursor'>;
}

export interface ExportJob {
  id: string;
  kind: ExportKind;
  format: ExportFormat;
  /** The filters as given. */
  filters: Record<string, string>;
  /** `ready` once counted (the server counts while it makes the job). */
  status: 'pending' | 'ready' | 'failed';
  /** Rows matching when the job was made: the file has these (rows changed since may differ). */
  row_count: number | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  /** After this the job is gone (404). */
  expires_at: string;
}
