/**
 * The listener HOOKBRIDGE_METRICS_PORT opens: GET /metrics and nothing else, so metrics can stay
 * off a public load balancer while the API port does not serve them at all.
 */
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import { installAuth } from '../api/auth.js';
import { installErrorHandling } from '../api/errors.js';
import { ProjectCache } from '../api/project-cache.js';
import { prometheusRoutes } from '../api/routes/prometheus.js';
import { localUrl } from '../core/local-url.js';
import type { Store } from '../store/store.js';
import type { Metrics } from './metrics.js';

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

export async function listenForMetrics(opts: {
  metrics: Metrics;
  store: Store;
  auth: 'none' | 'admin';
  port: number;
  host: string;
  logger: Logger;
  apiRateLimitPerMinute: number;
}): Promise<MetricsListener> {
  const app = Fastify({
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  installErrorHandling(app);
  installAuth(app, opts.store, new ProjectCache(opts.store), opts.apiRateLimitPerMinute);
  await app.register(prometheusRoutes, { metrics: opts.metrics, auth: opts.auth });
  await app.listen({ port: opts.port, host: opts.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return { url: localUrl(opts.host, port), close: () => app.close() };
}
