/**
 * `@hookbridge/sdk/fastify`: verify Hookbridge webhooks in Fastify (written for 4 and 5; tested on 5). Register the plugin in
 * the scope of the webhook routes; inside that scope it replaces the body parsers with one that
 * keeps the raw bytes (signatures are over the exact bytes) and verifies every request before the
 * handler, which finds the payload in `request.webhook`. Routes outside the scope are untouched.
 *
 *   app.register(async (scope) => {
 *     await scope.register(hookbridgeWebhook, { secret });
 *     scope.post('/webhooks/hookbridge', async (request) => { request.webhook … });
 *   });
 */
import type { FastifyPluginAsync } from 'fastify';
import { DEFAULT_MAX_BODY_BYTES, verdict, type WebhookMiddlewareOptions } from './middleware.js';

export type { WebhookMiddlewareOptions } from './middleware.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified payload, set by the hookbridgeWebhook plugin. */
    webhook?: unknown;
  }
}

const plugin: FastifyPluginAsync<WebhookMiddlewareOptions> = async (scope, opts) => {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }, (_request, body, done) => done(null, body));
  if (!scope.hasRequestDecorator('webhook')) scope.decorateRequest('webhook', undefined);
  scope.addHook('preHandler', async (request, reply) => {
    const raw = request.body instanceof Uint8Array || typeof request.body === 'string' ? request.body : '';
    const v = await verdict(raw, request.headers, opts);
    if (!v.ok) return reply.code(v.status).send(v.body);
    request.webhook = v.payload;
  });
};

// What fastify-plugin does, without the dependency: the plugin acts on the scope that registers
// it instead of on a child scope of its own, so the parser and hook reach that scope's routes.
Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'hookbridge-webhook' });

export const hookbridgeWebhook = plugin;
export default plugin;
