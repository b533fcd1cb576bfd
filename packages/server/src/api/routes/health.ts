import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../app.js';

/** /healthz: the process answers. /readyz: the store answers and the process is not draining. */
export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  app.get('/healthz', { config: { public: true }, schema: { tags: ['operations'] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { public: true }, schema: { tags: ['operations'] } }, async (_req, reply) => {
    if (deps.isDraining()) return reply.status(503).send({ status: 'draining', store: 'ok' });
    try {
      await deps.store.ping();
      return { status: 'ready', store: 'ok' };
    } catch (err) {
      _req.log.warn({ err }, 'readiness check: store unreachable');
      return reply.status(503).send({ status: 'unavailable', store: 'unreachable' });
    }
  });
};
