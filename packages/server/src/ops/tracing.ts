/**
 * Optional OpenTelemetry tracing (HOOKBRIDGE_OTLP_ENDPOINT). One trace follows a message: the API
 * request span, its `message.accept` child, and one `delivery.attempt` span per attempt, made
 * minutes or days later, perhaps by another process. The attempts find their parent through the
 * W3C traceparent stored with the message (messages.trace_parent).
 *
 * Nothing of OpenTelemetry is loaded unless tracing is on (the SDK is imported on start), and
 * callers hold a `Tracing | null`, so with tracing off a request or attempt costs one null check.
 * The provider is not registered globally: several servers may run in one process (tests), each
 * with its own exporter, so parents are passed explicitly instead of through a context manager.
 */
import type { Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { attemptOutcome } from '../core/attempt-outcome.js';
import type { DeliveryStatus } from '../core/model.js';
import type { ErrorClass } from '../core/retry-policy.js';
import { VERSION } from '../version.js';

type OtelApi = typeof import('@opentelemetry/api');

/** Most time closing a server waits for the last spans to reach the collector. */
const FLUSH_TIMEOUT_MS = 5000;
/** Probes and scrapes would drown the traces that matter. */
const UNTRACED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
/** version-traceid-spanid-flags; versions above 00 may append fields (W3C Trace Context §3.2.4). */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-|$)/;

let sdkLoaded = false;
/** Whether this process ever loaded the OpenTelemetry SDK (tests prove tracing off loads nothing). */
export const tracingSdkLoaded = (): boolean => sdkLoaded;

/** What an attempt span needs to know of its delivery. */
export interface TracedDelivery {
  id: string;
  messageId: string;
  endpointId: string;
  attemptNumber: number;
  traceParent: string | null;
}

export class Tracing {
  private readonly requestSpans = new WeakMap<FastifyRequest, Span>();

  private constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
    private readonly provider: { shutdown(): Promise<void> },
  ) {}

  /** Loads the SDK and exports spans in batches to `${otlpEndpoint}/v1/traces` (OTLP, JSON over HTTP). */
  static async start(otlpEndpoint: string, log: Logger): Promise<Tracing> {
    const [api, { NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
    sdkLoaded = true;
    // The exporter reports failed exports through OpenTelemetry's (process-wide) diagnostic logger.
    const diagLog = log.child({ component: 'tracing' });
    api.diag.setLogger(
      {
        error: (msg, ...args) => diagLog.error({ args }, msg),
        warn: (msg, ...args) => diagLog.warn({ args }, msg),
        info: (msg, ...args) => diagLog.info({ args }, msg),
        debug: (msg, ...args) => diagLog.debug({ args }, msg),
        verbose: (msg, ...args) => diagLog.trace({ args }, msg),
      },
      { logLevel: api.DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'hookbridge', 'service.version': VERSION }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint}/v1/traces` }))],
    });
    return new Tracing(api, provider.getTracer('hookbridge', VERSION), provider);
  }

  /** A SERVER span per API request, `HTTP <method> <route pattern>`; a client's traceparent is honoured. */
  installRequestSpans(app: FastifyInstance): void {
    const { api } = this;
    app.addHook('onRequest', (req, _reply, done) => {
      const route = req.routeOptions.url;
      if (route === undefined || !UNTRACED_ROUTES.has(route)) {
        const pattern = route ?? 'unmatched';
        const header = req.headers.traceparent;
        const span = this.tracer.startSpan(
          `HTTP ${req.method} ${pattern}`,
          { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': pattern } },
          this.contextOf(typeof header === 'string' ? header : null),
        );
        this.requestSpans.set(req, span);
      }
      done();
    });
    app.addHook('onResponse', (req, reply, done) => {
      const span = this.requestSpans.get(req);
      if (span) {
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
        span.end();
      }
      done();
    });
  }

  /**
   * Runs `publish` inside a `message.accept` span, a child of the request's span; `publish` gets
   * the span's traceparent to store with the message.
   */
  async messageAccept<T extends { kind: string }>(req: FastifyRequest, publish: (traceParent: string) => Promise<T>): Promise<T> {
    const { api } = this;
    const parent = this.requestSpans.get(req);
    const span = this.tracer.startSpan(
      'message.accept',
      { kind: api.SpanKind.INTERNAL, attributes: { 'hookbridge.project.id': req.auth.projectId } },
      parent ? api.trace.setSpan(api.ROOT_CONTEXT, parent) : api.ROOT_CONTEXT,
    );
    try {
      const result = await publish(traceParentOf(span.spanContext()));
      span.setAttribute('hookbridge.message.result', result.kind);
      const id = (result as { message?: { id?: string } }).message?.id;
      if (id) span.setAttribute('hookbridge.message.id', id);
      return result;
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: api.SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  }

  /** A CLIENT span for one attempt, a child of the span that accepted its message. */
  attemptStarted(d: TracedDelivery, startedAt: number): Span {
    return this.tracer.startSpan(
      'delivery.attempt',
      {
        kind: this.api.SpanKind.CLIENT,
        startTime: startedAt,
        attributes: {
          'hookbridge.delivery.id': d.id,
          'hookbridge.message.id': d.messageId,
          'hookbridge.endpoint.id': d.endpointId,
          'hookbridge.attempt.number': d.attemptNumber,
        },
      },
      this.contextOf(d.traceParent),
    );
  }

  /** Ends an attempt's span with what came of it; `status` is the delivery's status after it. */
  attemptEnded(span: Span, statusCode: number | null, errorClass: ErrorClass | null, status?: DeliveryStatus): void {
    const outcome = attemptOutcome(statusCode, errorClass);
    if (statusCode !== null) span.setAttribute('http.response.status_code', statusCode);
    if (errorClass !== null) span.setAttribute('error.type', errorClass);
    span.setAttribute('hookbridge.attempt.outcome', outcome);
    if (status) span.setAttribute('hookbridge.delivery.status', status);
    if (outcome !== 'success') span.setStatus({ code: this.api.SpanStatusCode.ERROR });
    span.end();
  }

  /** Exports what is still buffered (bounded by FLUSH_TIMEOUT_MS) and stops. */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.provider.shutdown().catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_TIMEOUT_MS).unref())),
    ]);
    clearTimeout(timer);
  }

  /** The context a traceparent names, or the root context when there is none or it is malformed. */
  private contextOf(traceParent: string | null): Context {
    const { api } = this;
    const m = traceParent ? TRACEPARENT.exec(traceParent) : null;
    if (!m) return api.ROOT_CONTEXT;
    const parent: SpanContext = { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16) & api.TraceFlags.SAMPLED, isRemote: true };
    return api.isSpanContextValid(parent) ? api.trace.setSpanContext(api.ROOT_CONTEXT, parent) : api.ROOT_CONTEXT;
  }
}

function traceParentOf(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags.toString(16).padStart(2, '0')}`;
}
