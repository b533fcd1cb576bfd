/**
 * Table types for Kysely. Portable-schema rules (so the same queries serve SQLite and
 * PostgreSQL): ids are text made by the app, times are bigint epoch milliseconds, booleans are
 * integers 0/1, JSON is stored as text and parsed by the store.
 */
import type { ColumnType } from 'kysely';

export interface ProjectsTable {
  id: string;
  name: string;
  /** JSON: ProjectSettings */
  settings: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  project_id: string;
  key_hash: string;
  prefix: string;
  label: string | null;
  is_admin: number;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface EventTypesTable {
  project_id: string;
  name: string;
  description: string | null;
  /** JSON Schema as text, or null */
  schema: string | null;
  created_at: number;
}

export interface EndpointsTable {
  id: string;
  project_id: string;
  url: string;
  consumer_id: string | null;
  description: string | null;
  /** JSON string[] or null (= every type) */
  event_types: string | null;
  /** JSON string[] or null (= every channel) */
  channels: string | null;
  /** JSON Record<string,string> */
  headers: string;
  rate_limit_rps: number | null;
  timeout_ms: number | null;
  /** JSON number[] or null (= project default) */
  retry_schedule: string | null;
  retry_client_errors: number;
  signature_scheme: string;
  ordering: string;
  /** JSON object */
  metadata: string;
  status: string;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** 'outbound', or 'inbound' for the delivery side of an inbound endpoint (same id). */
  direction: ColumnType<string, string | undefined, string>;
  /** Start of the current run of failed attempts (null after a success): what auto-disable measures. */
  failing_since: ColumnType<number | null, number | null | undefined, number | null>;
  failures_since_success: ColumnType<number, number | undefined, number>;
  /** 1 when the URL was last set in a consumer portal session (migration 005). */
  url_set_in_portal: ColumnType<number, number | undefined, number>;
  /** Overrides of the project's auto-disable limits (null = the project's). */
  disable_after_seconds: ColumnType<number | null, number | null | undefined, number | null>;
  disable_min_failures: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface EndpointSecretsTable {
  id: string;
  endpoint_id: string;
  /** AES-256-GCM sealed secret (core/secret-box.ts) */
  secret_enc: string;
  created_at: number;
  /** null = current secret; otherwise it keeps signing until this time (rotation grace). */
  expires_at: number | null;
}

export interface MessagesTable {
  id: string;
  project_id: string;
  event_type: string;
  consumer_id: string | null;
  endpoint_id: string | null;
  broadcast: number;
  /** JSON string[] or null */
  channels: string | null;
  /** The exact bytes that are signed and sent. */
  payload: string;
  idempotency_key: string | null;
  request_hash: string;
  created_at: number;
  /** Set for inbound events (ids `ie_…`): the inbound endpoint that accepted it. */
  inbound_endpoint_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Inbound: JSON Record of the request headers, minus hop-by-hop and provider credentials. */
  headers: ColumnType<string | null, string | null | undefined, string | null>;
  /** 'base64' when payload holds a body that is not valid UTF-8; null = UTF-8 text. */
  body_encoding: ColumnType<string | null, string | null | undefined, string | null>;
  source_ip: ColumnType<string | null, string | null | undefined, string | null>;
  /** Inbound: the provider's event id (or idempotency header) used for deduplication. */
  dedupe_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** Inbound pull/cli modes: when a consumer acknowledged it. */
  acked_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** When retention or DELETE /v1/messages/{id} removed the payload (payload is then ''). */
  payload_removed_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** The id of the API request that created it. */
  request_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** W3C traceparent of the span that accepted it (tracing on), parent of its attempts' spans. */
  trace_parent: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface DeliveriesTable {
  id: string;
  project_id: string;
  message_id: string;
  endpoint_id: string;
  /** Copied from the endpoint at fan-out, for filtering. */
  consumer_id: string | null;
  event_type: string;
  status: string;
  /** Attempts ever made (replays keep counting). */
  attempt_count: number;
  /** Attempts since created or last replayed: indexes the retry schedule. */
  run_attempts: number;
  replay_count: number;
  next_attempt_at: number | null;
  lease_expires_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface AttemptsTable {
  id: string;
  delivery_id: string;
  project_id: string;
  endpoint_id: string;
  attempt_number: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  /** succeeded | retry | failed */
  outcome: string;
  error_class: string | null;
  error_message: string | null;
  response_body: string | null;
  response_truncated: number;
  /** The id of the HTTP request Hookbridge sent (also its x-hookbridge-request-id header). */
  request_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON Record of that request's headers, custom header values redacted (migration 005). */
  request_headers: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface InboundEndpointsTable {
  /** Same id as its row in `endpoints` (direction 'inbound'). */
  id: string;
  project_id: string;
  name: string;
  /** forward | pull | cli */
  mode: string;
  /** AES-256-GCM sealed JSON of the verification config (it holds the provider's secrets). */
  verification_enc: string;
  /** JSON CIDR string[] or null (= any source) */
  allowed_cidrs: string | null;
  /** JSON string[] or null (= the preset's event id) */
  idempotency_header_names: string | null;
  dedupe_window_seconds: number | null;
  retention_seconds: number | null;
  ingest_response_code: number;
}

export interface InboundRejectionsTable {
  id: string;
  project_id: string;
  inbound_endpoint_id: string;
  reason: string;
  status_code: number;
  source_ip: string | null;
  /** JSON Record, credentials redacted */
  headers: string;
  body_bytes: number;
  created_at: number;
}

export interface EndpointBucketsTable {
  endpoint_id: string;
  tokens: number;
  refilled_at: number;
}

export interface ExportsTable {
  id: string;
  project_id: string;
  /** deliveries | inbound-events */
  kind: string;
  /** csv | ndjson */
  format: string;
  /** JSON of the filters given at creation */
  filters: string;
  /** pending | ready | failed */
  status: string;
  row_count: number | null;
  /** The newest row id included: the snapshot bound. */
  last_id: string | null;
  error: string | null;
  created_at: number;
  finished_at: number | null;
  expires_at: number;
}

export interface OpsWatermarksTable {
  name: string;
  value: number;
}

export interface Database {
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  event_types: EventTypesTable;
  endpoints: EndpointsTable;
  endpoint_secrets: EndpointSecretsTable;
  messages: MessagesTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  endpoint_buckets: EndpointBucketsTable;
  inbound_endpoints: InboundEndpointsTable;
  inbound_rejections: InboundRejectionsTable;
  exports: ExportsTable;
  ops_watermarks: OpsWatermarksTable;
}

