/** `@hookbridge/sdk`: the API client and webhook verification. Web standards only (fetch, Web Crypto). */
export { HookbridgeClient, type ClientOptions, type RequestOptions } from './client.js';
export { HookbridgeApiError, HookbridgeNetworkError, WebhookVerificationError, type WebhookVerificationReason } from './errors.js';
export type * from './types.js';
export type {
  ApiKeysApi,
  DeliveriesApi,
  EndpointsApi,
  EventTypesApi,
  ExportsApi,
  InboundEndpointsApi,
  InboundEventsApi,
  InboundRejectionsApi,
  MessagesApi,
  MetricsApi,
  ProjectsApi,
  Transport,
} from './resources.js';
export { SDK_VERSION } from './version.js';
export { verifyWebhook, type VerifyOptions, type WebhookHeaders } from './verify.js';
