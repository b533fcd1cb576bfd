/** The JSON shapes of the public API (docs/api.md; the server's src/api/schemas.ts is the source). */

export type EndpointStatus = 'active' | 'paused' | 'disabled';

export interface Endpoint {
  id: string;
  url: string;
  consumer_id: string | null;
  description: string | null;
  event_types: string[] | null;
  channels: string[] | null;
  headers: Record<string, string>;
  rate_limit_rps: number | null;
  timeout_ms: number | null;
  retry_schedule: number[] | null;
  retry_client_errors: boolean;
  signature_scheme: 'standard' | 'hookbridge';
  ordering: 'none' | 'fifo';
  metadata: Record<string, unknown>;
  status: EndpointStatus;
  disabled_reason: string | null;
  disable_after_seconds: number | null;
  disable_min_failures: number | null;
  failing_since: string | null;
  failures_since_success: number;
  created_at: string;
  updated_at: string;
  signing_secret?: string;
}

export type DeliveryStatus = 'queued' | 'delivering' | 'pending_retry' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

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
  request_id: string | null;
}

export interface Message {
  id: string;
  event_type: string;
  consumer_id: string | null;
  endpoint_id: string | null;
  broadcast: boolean;
  channels: string[] | null;
  payload: unknown;
  idempotency_key: string | null;
  created_at: string;
  payload_removed_at: string | null;
  request_id: string | null;
}

export interface MessageAccepted {
  id: string;
  event_type: string;
  created_at: string;
  deliveries: { id: string; endpoint_id: string; status: DeliveryStatus }[];
}

export interface EventType {
  name: string;
  description: string | null;
  schema: unknown;
  created_at: string;
}

export interface ApiKey {
  id: string;
  project_id: string;
  prefix: string;
  label: string | null;
  admin: boolean;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  key?: string;
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

export interface InboundEndpoint {
  id: string;
  name: string;
  mode: 'forward' | 'pull' | 'cli';
  destination_url: string | null;
  verification: Record<string, unknown>;
  allowed_cidrs: string[] | null;
  idempotency_header_names: string[] | null;
  dedupe_window_seconds: number | null;
  retention_seconds: number | null;
  ingest_response_code: number;
  ordering: 'none' | 'fifo';
  timeout_ms: number | null;
  retry_schedule: number[] | null;
  ingest_url: string;
  status: EndpointStatus;
  signing_secret?: string;
  created_at: string;
  updated_at: string;
}

export interface InboundEvent {
  id: string;
  inbound_endpoint_id: string;
  event_type: string | null;
  headers: Record<string, string>;
  body: string | null;
  body_encoding?: 'base64';
  source_ip: string | null;
  dedupe_key: string | null;
  acked_at: string | null;
  created_at: string;
  payload_removed_at: string | null;
  request_id: string | null;
  delivery?: Delivery | null;
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

export type MetricsWindow = '1h' | '24h' | '7d';

export interface MetricsSummary {
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
}

export interface Timeseries {
  window: string;
  bucket_seconds: number;
  data: { timestamp: string; succeeded: number; failed: number; retrying: number; total: number; avg_latency_ms: number | null }[];
}

/** GET /v1/metrics/backlog: the project's outbound deliveries by where they stand now. */
export interface Backlog {
  due: number;
  scheduled: number;
  delivering: number;
  paused: number;
  failed: number;
}

/** GET /v1/metrics/endpoints: one endpoint's attempts over the window. */
export interface EndpointStats {
  endpoint_id: string;
  url: string;
  status: EndpointStatus;
  attempts: number;
  succeeded: number;
  failed: number;
  success_rate: number | null;
  avg_latency_ms: number | null;
}

/** POST /v1/endpoints/{id}/secret/rotate */
export interface SecretRotation {
  signing_secret: string;
  previous_secret_expires_at: string;
}

/** GET /v1/portal-sessions/current: what a portal token may do, and the project's branding. */
export interface PortalSession {
  id: string;
  consumer_id: string;
  read_only: boolean;
  expires_at: string;
  brand: { name: string; color: string | null; logo_url: string | null };
}
