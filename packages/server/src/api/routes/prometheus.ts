/**
 * GET /metrics: Prometheus text. On the API port, or on its own listener when
 * HOOKBRIDGE_METRICS_PORT is set (src/ops/metrics-listener.ts); HOOKBRIDGE_METRICS_AUTH decides
 * whether it takes an admin API key.
 */
import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from '../../core/errors.js';
import type { Metrics } from '../../ops/metrics.js';

export interface PrometheusRouteOptions {
  metrics: Metrics;
  /** none: anyone who reaches it; admin: an admin API key as bearer token. */
  auth: 'none' | 'admin';
}

export const prometheusRoutes: FastifyPluginAsync<PrometheusRouteOptions> = async (app, { metrics, auth }) => {
  // Not in the OpenAPI document: it is an operator's endpoint, not part of the API.
  app.get('/metrics', { config: { public: auth === 'none' }, schema: { hide: true } }, async (req, reply) => {
    if (auth === 'admin' && !req.auth.isAdmin) throw new ApiError('forbidden', 'only an admin API key may read /metrics');
    const text = await metrics.scrape();
    return reply.type(metrics.contentType).send(text);
  });
};
