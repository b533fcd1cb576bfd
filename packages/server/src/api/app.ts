/**
 * Builds the Fastify app: JSON parsing, validation, auth, error mapping, OpenAPI, and one plugin
 * per resource under /v1.
 */
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../core/errors.js';
import type { CidrList } from '../core/ip-policy.js';
import { jsonNestingExceeds, MAX_JSON_DEPTH } from '../core/json-depth.js';
import { requestIdFrom } from '../core/request-id.js';
import type { Resolver } from '../delivery/ssrf-guard.js';
import type { InboundHub } from '../inbound/hub.js';
import { ingestRoutes } from '../inbound/ingest.js';
import { installHttpMetrics } from '../ops/http-metrics.js';
import type { Metrics } from '../ops/metrics.js';
import type { Tracing } from '../ops/tracing.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import { installAuth } from './auth.js';
import { consoleRoutes, type ConsoleOptions } from './console.js';
import { ProjectCache } from './project-cache.js';
import { answerClientError, errorBody, installErrorHandling } from './errors.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { endpointRoutes } from './routes/endpoints.js';
import { eventTypeRoutes } from './routes/event-types.js';
import { exportRoutes } from './routes/exports.js';
import { healthRoutes } from './routes/health.js';
import { inboundEndpointRoutes } from './routes/inbound-endpoints.js';
import { inboundEventRoutes } from './routes/inbound-events.js';
import { inboundStreamRoutes } from './routes/inbound-stream.js';
import { messageRoutes } from './routes/messages.js';
import { metricsRoutes } from './routes/metrics.js';
import { portalSessionRoutes } from './routes/portal-sessions.js';
import { projectRoutes } from './routes/projects.js';
import { prometheusRoutes } from './routes/prometheus.js';

export interface AppDeps {
  store: Store;
  logger: Logger;
  /** 'health': only /healthz and /readyz (a worker-role process). Default 'all'. */
  routes?: 'all' | 'health';
  maxPayloadBytes: number;
  /** Largest request line + headers (Node's maxHeaderSize); more → 431. */
  maxHeaderBytes: number;
  /** Time to receive the request line and headers (slowloris guard); then 408 and closed. */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included; answering may take longer (long-polls). */
  requestTimeoutMs: number;
  apiRateLimitPerMinute: number;
  allowPrivateNetworks: CidrList;
  /** The private networks endpoints made or changed in a consumer portal session may reach. */
  portalAllowPrivateNetworks: CidrList;
  /** Where inbound endpoints may forward to (DESIGN.md §7). */
  forwardAllowNetworks: CidrList;
  /** Proxies whose X-Forwarded-For is believed at ingest. */
  trustProxy: CidrList;
  inboundDedupeWindowSeconds: number;
  inboundRetentionSeconds: number;
  /** Base of ingest URLs (known only once the server listens when the port is 0). */
  publicUrl: () => string;
  /** Wakes pull long-polls and cli streams when an inbound event arrives. */
  hub: InboundHub;
  /**
   * Tells the delivery worker that new work may be due — for these endpoints only, when given
   * (the worker then skips a claim if all of them are already at their limit).
   */
  wakeWorker: (endpointIds?: string[]) => void;
  /** Tells the delivery worker an endpoint was paused or deleted (drop what it claimed ahead). */
  endpointChanged: (endpointId: string) => void;
  /** Whether the process is draining (then /readyz says so). */
  isDraining: () => boolean;
  /** DNS for the create-time SSRF check; tests inject one. */
  resolver?: Resolver;
  /** This server's Prometheus metrics. */
  metrics: Metrics;
  /** Who may read GET /metrics here; null when it is served on its own port (HOOKBRIDGE_METRICS_PORT). */
  metricsRoute: { auth: 'none' | 'admin' } | null;
  /** Null when tracing is off. */
  tracing: Tracing | null;
  /** The web console and portal pages (api/console.ts); null or unset: not served. */
  console?: ConsoleOptions | null;
}

export type App = FastifyInstance;

/** One route the app serves (the HEAD twins Fastify adds to GET routes are left out). */
export interface RouteInfo {
  method: string;
  url: string;
  /** Needs no API key. */
  public: boolean;
  /** A consumer portal token may call it (api/portal-scope.ts). */
  portal: boolean;
  websocket: boolean;
}

const routeLists = new WeakMap<object, RouteInfo[]>();

/** Every route of an app built by buildApp, so that tests can prove they cover each one. */
export function routesOf(app: App): RouteInfo[] {
  return [...(routeLists.get(app) ?? [])];
}

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsPlugin as unknown as { default?: unknown }).default ?? addFormatsPlugin) as (ajv: Ajv) => Ajv;

/** Request bodies may be up to the payload limit plus room for the envelope around the payload. */
const ENVELOPE_ROOM = 64 * 1024;

export async function buildApp(deps: AppDeps): Promise<App> {
  // Bodies are validated strictly (a string is not a number); query strings and path params are
  // text by nature, so they are coerced.
  const bodyAjv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
  const paramAjv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, removeAdditional: false, strict: false });
  addFormats(bodyAjv);
  addFormats(paramAjv);

  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: deps.maxPayloadBytes + ENVELOPE_ROOM,
    // Per-request access logs would dominate the log at webhook volumes; errors are still logged.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    // Every request's id: the client's x-request-id when acceptable, else a new one. It is on
    // every log line of the request (request.log), in the answer's header and in error bodies.
    requestIdHeader: false,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    return503OnClosing: true,
    // Slow clients (slowloris) must not hold connections: Node checks the header and request
    // deadlines every connectionsCheckingInterval (30 s by default), so check often enough that
    // they hold within a second. requestTimeout ends when the request is received, so long-polls
    // and WebSocket streams may run longer; the idle socket timeout stays off for the same reason.
    requestTimeout: deps.requestTimeoutMs,
    http: {
      headersTimeout: deps.headersTimeoutMs,
      requestTimeout: deps.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(deps.headersTimeoutMs / 4))),
      maxHeaderSize: deps.maxHeaderBytes,
      // Node's own refusal of an HTTP/1.1 request without Host is an empty 400: made below instead.
      requireHostHeader: false,
    },
    clientErrorHandler: answerClientError,
    // Errors the router raises before any route or hook runs; without this they bypass the error
    // handler and answer in Fastify's own shape.
    frameworkErrors: (err, request, reply: FastifyReply) => {
      // No hook runs here, so an upgrade request's socket would stay open once answered: close it.
      if (request.headers.upgrade !== undefined) reply.raw.once('finish', () => request.raw.socket?.destroy());
      void reply.header('x-request-id', request.id);
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return reply.status(404).send(errorBody(request.id, 'not_found', 'not found (the id is too long)'));
      if (err.code === 'FST_ERR_BAD_URL') return reply.status(400).send(errorBody(request.id, 'invalid_request', 'the URL path is not valid (bad percent-encoding)'));
      return reply.status(400).send(errorBody(request.id, 'invalid_request', err.message));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // First of all hooks, so that answers made by any later hook (401, 429, a refused upgrade) or by
  // the error and not-found handlers carry the id too.
  const upgradeIds = new WeakMap<object, string>();
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    if (request.headers.upgrade !== undefined) upgradeIds.set(request.raw, request.id);
    done();
  });
  // Each failed request gets a line at debug level, to follow one by its id (a 5xx is also
  // logged where it is handled, at error level; successes are not logged at all).
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode >= 400) request.log.debug({ req: request, statusCode: reply.statusCode }, 'request failed');
    done();
  });

  const routes: RouteInfo[] = [];
  routeLists.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: r.url, public: r.config?.public === true, portal: r.config?.portal === true, websocket: r.websocket === true });
    }
  });

  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema));

  // Node answers an Expect other than 100-continue with an empty 417; a server may ignore it
  // instead (RFC 9110 §10.1.1), so the request is served (or refused) like any other.
  app.server.on('checkExpectation', (req, res) => app.server.emit('request', req, res));

  // Action routes (POST …/pause) carry no body; accept an empty JSON body rather than fail on it.
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  // Fastify parses text/plain by default; the API is JSON only, so that must be a 415 (DESIGN.md §3).
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' || body === undefined) return done(null, undefined);
    if (jsonNestingExceeds(body as string, MAX_JSON_DEPTH)) {
      return done(new ApiError('invalid_request', `JSON is nested more than ${MAX_JSON_DEPTH} levels deep`), undefined);
    }
    defaultJson(req, body as string, done);
  });

  // A POST without a body (an action, or a rotation taking its defaults) validates as `{}`.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) request.body = {};
  });

  installErrorHandling(app);
  installHttpMetrics(app, deps.metrics);
  deps.tracing?.installRequestSpans(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Hookbridge API', version: VERSION, description: 'Send signed, retried webhooks and inspect every attempt.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  // Before auth: its onRequest hook marks upgrade requests, so that a refused upgrade (401) gets
  // its socket closed; registered after auth, the refusal would leave the socket open.
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // A 101 is written by ws, not by the reply: the id joins its headers here.
  app.websocketServer.on('headers', (headers: string[], raw: object) => {
    const id = upgradeIds.get(raw);
    if (id) headers.push(`X-Request-Id: ${id}`);
  });
  // After the plugin's hook (which marks upgrades, so that their sockets are closed once answered),
  // before auth. HTTP/1.1 requires Host (RFC 9112 §3.2). Any route can be asked to upgrade; ws
  // refuses a handshake it cannot take (Upgrade: h2c, no key) in text/html.
  app.addHook('onRequest', async (request) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) throw new ApiError('invalid_request', 'the Host header is required');
    const problem = request.ws ? handshakeProblem(request.method, request.headers) : null;
    if (problem) throw new ApiError('invalid_request', problem);
  });
  const projectCache = new ProjectCache(deps.store);
  installAuth(app, deps.store, projectCache, deps.apiRateLimitPerMinute);

  await app.register(healthRoutes, { deps, projectCache });
  // Worker processes make the attempts, so they serve /metrics too.
  if (deps.metricsRoute) await app.register(prometheusRoutes, { metrics: deps.metrics, auth: deps.metricsRoute.auth });
  if (deps.routes === 'health') return app;
  await app.register(ingestRoutes, {
    store: deps.store,
    hub: deps.hub,
    maxPayloadBytes: deps.maxPayloadBytes,
    trustProxy: deps.trustProxy,
    dedupeWindowSeconds: deps.inboundDedupeWindowSeconds,
    wakeWorker: deps.wakeWorker,
    metrics: deps.metrics,
  });
  await app.register(
    async (v1) => {
      await v1.register(projectRoutes, { deps, projectCache });
      await v1.register(apiKeyRoutes, { deps, projectCache });
      await v1.register(endpointRoutes, { deps, projectCache });
      await v1.register(messageRoutes, { deps, projectCache });
      await v1.register(deliveryRoutes, { deps, projectCache });
      await v1.register(eventTypeRoutes, { deps, projectCache });
      await v1.register(metricsRoutes, { deps, projectCache });
      await v1.register(inboundEndpointRoutes, { deps, projectCache });
      await v1.register(inboundEventRoutes, { deps, projectCache });
      await v1.register(inboundStreamRoutes, { deps, projectCache });
      await v1.register(exportRoutes, { deps, projectCache });
      await v1.register(portalSessionRoutes, { deps, projectCache });
    },
    { prefix: '/v1' },
  );
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  if (deps.console) await app.register(consoleRoutes, { ...deps.console, projectCache });
  return app;
}

/** What ws's handleUpgrade would refuse in a WebSocket handshake, or null. */
function handshakeProblem(method: string, h: Record<string, string | string[] | undefined>): string | null {
  if (method !== 'GET') return 'only GET requests can be upgraded';
  if (String(h.upgrade).toLowerCase() !== 'websocket') return 'only upgrades to WebSocket are supported';
  if (!/^[+/0-9A-Za-z]{22}==$/.test(String(h['sec-websocket-key']))) return 'missing or invalid Sec-WebSocket-Key header';
  if (!['8', '13'].includes(String(h['sec-websocket-version']))) return 'missing or invalid Sec-WebSocket-Version header';
  return null;
}

export interface RouteOptions {
  deps: AppDeps;
  projectCache: ProjectCache;
}
