/**
 * Wires one Hookbridge process: store, API and delivery worker, and the drain on shutdown.
 * Tests start servers through startServer too, so they run exactly what `hookbridge serve` runs.
 */
import type { Logger } from 'pino';
import { buildApp, type App } from './api/app.js';
import { bootstrapIfEmpty, type BootstrapResult } from './bootstrap.js';
import type { Config } from './config.js';
import { Sender } from './delivery/sender.js';
import type { Resolver } from './delivery/ssrf-guard.js';
import { DeliveryWorker } from './delivery/worker.js';
import { InboundHub } from './inbound/hub.js';
import { localUrl } from './core/local-url.js';
import { createLogger } from './logger.js';
import { RetentionJob } from './ops/retention.js';
import { listenForMetrics, type MetricsListener } from './ops/metrics-listener.js';
import { Metrics } from './ops/metrics.js';
import { Tracing } from './ops/tracing.js';
import { InboundRejectedSummary } from './ops/inbound-rejected-summary.js';
import { ControlSocket } from './ops/control-socket.js';
import { Store } from './store/store.js';

const PURGE_EVERY_MS = 10 * 60_000;

export interface RunningServer {
  url: string;
  app: App;
  store: Store;
  /** Null in an `api`-role process. */
  worker: DeliveryWorker | null;
  /** The retention job (ops/retention.ts); null where no worker runs. */
  retention: RetentionJob | null;
  bootstrap: BootstrapResult;
  /** This server's Prometheus metrics, served at `${metricsUrl}/metrics`. */
  metrics: Metrics;
  /** The API's URL, or the metrics listener's when HOOKBRIDGE_METRICS_PORT is set. */
  metricsUrl: string;
  /** Null unless HOOKBRIDGE_OTLP_ENDPOINT is set. */
  tracing: Tracing | null;
  /** Drain and stop: no new claims, in-flight attempts finish within the grace, then close. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** DNS for the SSRF guard (create-time check and connect-time lookup); tests inject one. */
  resolver?: Resolver;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel, config.logFormat);
  const metrics = new Metrics();
  const store = await Store.open({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    dbPoolSize: config.dbPoolSize,
    masterKey: config.masterKey,
    logger,
    onQuery: metrics.storeQuery,
  });
  let draining = false;
  let tracing: Tracing | null = null;
  let metricsListener: MetricsListener | null = null;
  try {
    metrics.watchBacklog(() => store.metrics.backlog(Date.now()), logger);
    tracing = config.otlpEndpoint ? await Tracing.start(config.otlpEndpoint, logger) : null;
    const bootstrap = await bootstrapIfEmpty(store, config.bootstrapApiKey);
    // Customers' endpoints and the operator's own services (inbound forwarding) are reached under
    // different network policies (DESIGN.md §7), so each has its own connection pool and guard.
    const senders = {
      outbound: new Sender({ allowPrivateNetworks: config.allowPrivateNetworks, connectTimeoutMs: config.connectTimeoutMs, resolver: opts.resolver }),
      forward: new Sender({ allowPrivateNetworks: config.forwardAllowNetworks, connectTimeoutMs: config.connectTimeoutMs, resolver: opts.resolver }),
      // Endpoint URLs set by a consumer in a portal session: not the operator's private networks.
      portal: new Sender({ allowPrivateNetworks: config.portalAllowPrivateNetworks, connectTimeoutMs: config.connectTimeoutMs, resolver: opts.resolver }),
    };
    const worker =
      config.role === 'api'
        ? null
        : new DeliveryWorker(
            store,
            senders,
            {
              concurrency: config.workerConcurrency,
              endpointConcurrency: config.endpointConcurrency,
              claimBatchSize: config.claimBatchSize,
              leaseSeconds: config.leaseSeconds,
              pollIntervalMs: config.pollIntervalMs,
              defaultTimeoutMs: config.defaultTimeoutMs,
              throttleMinDelaySeconds: config.throttleMinDelaySeconds,
              autoDisable: { afterSeconds: config.disableAfterSeconds, minFailures: config.disableMinFailures },
            },
            logger.child({ component: 'worker' }),
            { metrics, tracing },
          );
    if (worker) store.signal.subscribe(() => worker.wake());
    let publicUrl = config.publicUrl;
    const app = await buildApp({
      store,
      logger,
      // A worker-only process serves its health checks and nothing else.
      routes: config.role === 'worker' ? 'health' : 'all',
      maxPayloadBytes: config.maxPayloadBytes,
      maxHeaderBytes: config.maxHeaderBytes,
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      apiRateLimitPerMinute: config.apiRateLimitPerMinute,
      allowPrivateNetworks: config.allowPrivateNetworks,
      portalAllowPrivateNetworks: config.portalAllowPrivateNetworks,
      forwardAllowNetworks: config.forwardAllowNetworks,
      trustProxy: config.trustProxy,
      inboundDedupeWindowSeconds: config.inboundDedupeWindowSeconds,
      inboundRetentionSeconds: config.inboundRetentionSeconds,
      publicUrl: () => publicUrl,
      hub: new InboundHub(),
      wakeWorker: (endpointIds) => {
        worker?.wake(endpointIds);
        store.signal.notifyOthers();
      },
      endpointChanged: (id) => worker?.endpointChanged(id),
      isDraining: () => draining,
      resolver: opts.resolver,
      metrics,
      metricsRoute: config.metricsPort === undefined ? { auth: config.metricsAuth } : null,
      tracing,
      console: config.console === 'on' ? { dir: config.consoleDir } : null,
    });
    if (config.metricsPort !== undefined) {
      metricsListener = await listenForMetrics({
        metrics,
        store,
        auth: config.metricsAuth,
        port: config.metricsPort,
        host: config.host,
        logger,
        apiRateLimitPerMinute: config.apiRateLimitPerMinute,
      });
    }
    await app.listen({ port: config.port, host: config.host });
    worker?.start();
    // Background work that feeds the worker: it runs where a worker runs (not in role 'api').
    const rejectedSummary = worker
      ? new InboundRejectedSummary(store, config.inboundRejectedSummarySeconds * 1000, logger.child({ component: 'ops' }), (ids) => {
          worker.wake(ids);
          store.signal.notifyOthers();
        })
      : null;
    rejectedSummary?.start();
    // Retention is background work too: an API-only process keeps its event loop for requests,
    // and every deployment has a worker (else nothing is delivered), so it always runs somewhere.
    const retention = worker
      ? new RetentionJob(
          store,
          {
            intervalMs: config.retentionIntervalSeconds * 1000,
            batchSize: config.retentionBatchSize,
            payloadRetentionDays: config.payloadRetentionDays,
            recordRetentionDays: config.recordRetentionDays,
          },
          logger.child({ component: 'retention' }),
        )
      : null;
    retention?.start();
    // `hookbridge backup` reaches the embedded store through this process (ops/control-socket.ts).
    const control = store.backupTo ? await ControlSocket.listen(config.dataDir, store, logger.child({ component: 'control' })) : null;
    // Held (pull/cli) events past their retention go, acknowledged or not; any process may do it.
    const purgeTimer = setInterval(() => {
      store.inboundEvents
        .purgeExpired(Date.now(), config.inboundRetentionSeconds)
        .then((n) => n > 0 && logger.info({ deleted: n }, 'held inbound events past retention deleted'))
        .catch((err) => logger.warn({ err }, 'could not delete expired inbound events'));
    }, PURGE_EVERY_MS);
    purgeTimer.unref();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    // Port 0 (tests) is known only now; a configured public URL is kept as it is.
    if (config.port === 0 && publicUrl.endsWith(':0')) publicUrl = `${publicUrl.slice(0, -2)}:${port}`;
    const url = localUrl(config.host, port);
    let closing: Promise<void> | null = null;
    return {
      url,
      app,
      store,
      worker,
      retention,
      metrics,
      metricsUrl: metricsListener?.url ?? url,
      tracing,
      bootstrap,
      close() {
        closing ??= (async () => {
          // The API stays up while attempts drain, answering /readyz with 503 so a load balancer
          // moves traffic away; anything it still accepts is durable and goes out after restart.
          draining = true;
          clearInterval(purgeTimer);
          await retention?.stop();
          await rejectedSummary?.stop();
          await worker?.stop(config.shutdownGraceSeconds * 1000);
          await Promise.all([app.close(), metricsListener?.close()]);
          // After the worker stopped and the API closed: their last spans are in the batch.
          await tracing?.shutdown();
          await Promise.all([senders.outbound.close(), senders.forward.close(), senders.portal.close()]);
          await control?.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    await metricsListener?.close().catch(() => undefined);
    await tracing?.shutdown();
    await store.close().catch(() => undefined);
    throw e;
  }
}
