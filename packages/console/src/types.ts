/**
 * The JSON shapes of the public API. Those the SDK describes come from `@hookbridge/sdk` as types
 * only (nothing of the SDK reaches the bundle); below them, the console-only routes' shapes
 * (docs/api.md; the server's src/api/schemas.ts is the source).
 */
import type { EndpointStatus } from '@hookbridge/sdk';

export type {
  ApiKey,
  Attempt,
  Delivery,
  DeliveryStatus,
  Endpoint,
  EndpointStatus,
  EventType,
  InboundEndpoint,
  InboundEvent,
  InboundRejection,
  Message,
  MessageAccepted,
  Metrics,
  MetricsTimeseries,
  Page,
  Project,
  QueryParams,
  RotatedSecret,
} from '@hookbridge/sdk';

/** The windows the console offers (the API takes 30d too). */
export type MetricsWindow = '1h' | '24h' | '7d';

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

/** GET /v1/portal-sessions/current: what a portal token may do, and the project's branding. */
export interface PortalSession {
  id: string;
  consumer_id: string;
  read_only: boolean;
  expires_at: string;
  brand: { name: string; color: string | null; logo_url: string | null };
}
