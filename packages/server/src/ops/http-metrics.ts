import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

/** Times every request the app answers (hookbridge_http_request_duration_seconds). */
export function installHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  // A callback hook, not an async one: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
