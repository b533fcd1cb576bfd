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
import { createLogger } from './logger.js';
import { Store } from './store/store.js';

export interface RunningServer {
  url: string;
  app: App;
  store: Store;
  /** Null in an `api`-role process. */
  worker: DeliveryWorker | null;
  bootstrap: BootstrapResult;
  /** Drain and stop: no new claims, in-flight attempts finish within the grace, then close. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** DNS for the SSRF guard (create-time check and connect-time lookup); tests inject one. */
  resolver?: Resolver;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const store = await Store.open({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    dbPoolSize: config.dbPoolSize,
    masterKey: config.masterKey,
    logger,
  });
  let draining = false;
  try {
    const bootstrap = await bootstrapIfEmpty(store, config.bootstrapApiKey);
    const sender = new Sender({ allowPrivateNetworks: config.allowPrivateNetworks, connectTimeoutMs: config.connectTimeoutMs, resolver: opts.resolver });
    const worker =
      config.role === 'api'
        ? null
        : new DeliveryWorker(
            store,
            sender,
            {
              concurrency: config.workerConcurrency,
              endpointConcurrency: config.endpointConcurrency,
              claimBatchSize: config.claimBatchSize,
              leaseSeconds: config.leaseSeconds,
              pollIntervalMs: config.pollIntervalMs,
              defaultTimeoutMs: config.defaultTimeoutMs,
              throttleMinDelaySeconds: config.throttleMinDelaySeconds,
            },
            logger.child({ component: 'worker' }),
          );
    if (worker) store.signal.subscribe(() => worker.wake());
    const app = await buildApp({
      store,
      logger,
      // A worker-only process serves its health checks and nothing else.
      routes: config.role === 'worker' ? 'health' : 'all',
      maxPayloadBytes: config.maxPayloadBytes,
      apiRateLimitPerMinute: config.apiRateLimitPerMinute,
      allowPrivateNetworks: config.allowPrivateNetworks,
      wakeWorker: () => {
        worker?.wake();
        store.signal.notifyOthers();
      },
      endpointChanged: (id) => worker?.endpointChanged(id),
      isDraining: () => draining,
      resolver: opts.resolver,
    });
    await app.listen({ port: config.port, host: config.host });
    worker?.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
    let closing: Promise<void> | null = null;
    return {
      url: `http://${host}:${port}`,
      app,
      store,
      worker,
      bootstrap,
      close() {
        closing ??= (async () => {
          // The API stays up while attempts drain, answering /readyz with 503 so a load balancer
          // moves traffic away; anything it still accepts is durable and goes out after restart.
          draining = true;
          await worker?.stop(config.shutdownGraceSeconds * 1000);
          await app.close();
          await sender.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}
