import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { customHeaderProblems } from '../../core/endpoint-rules.js';
import { ApiError, invalidRequest, invalidState, notFound } from '../../core/errors.js';
import { checkUrlAllowed, UrlNotAllowedError } from '../../delivery/ssrf-guard.js';
import { ENDPOINT_DEFAULTS, type EndpointInput } from '../../store/endpoints.js';
import type { RouteOptions } from '../app.js';
import { consumerFor, listConsumer, ownOrNotFound } from '../portal-scope.js';
import { RotateBody, RotateResponse, rotationGraceMs } from './secret-rotation.js';
import { EndpointCreate, EndpointJson, EndpointPatch, IdParams, ListOf, ListQuery, endpointJson, errorResponses, listJson, type EndpointPatchBody } from '../schemas.js';

/**
 * What a consumer may set on its endpoints in a portal session. The rest (retries, timeouts,
 * auto-disable, metadata) costs the operator's worker or is the operator's own bookkeeping.
 */
export const PORTAL_WRITABLE = new Set(['url', 'consumer_id', 'description', 'event_types', 'channels', 'headers', 'rate_limit_rps', 'signature_scheme']);

export const endpointRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { store } = deps;
  const tags = ['endpoints'];
  // Every route here is a portal route: each reads the endpoint through `own`, which answers 404
  // for another consumer's, and writes consumer_id through consumerFor.
  const config = { portal: true };
  const own = async (req: FastifyRequest, id: string) => ownOrNotFound(req, await store.endpoints.get(req.auth.projectId, id), 'endpoint');

  async function vetted(req: FastifyRequest, body: EndpointPatchBody): Promise<Partial<EndpointInput>> {
    if (req.auth.portal) {
      const operatorOnly = Object.keys(body).filter((k) => !PORTAL_WRITABLE.has(k));
      if (operatorOnly.length) throw new ApiError('forbidden', `a portal session may not set ${operatorOnly.join(', ')}`, operatorOnly.map((field) => ({ field, message: 'set by the operator only' })));
    }
    if (body.url !== undefined) {
      try {
        // The operator's private networks are the operator's: a consumer gets its own list (none by default).
        await checkUrlAllowed(body.url, req.auth.portal ? deps.portalAllowPrivateNetworks : deps.allowPrivateNetworks, deps.resolver);
      } catch (e) {
        if (e instanceof UrlNotAllowedError) throw new ApiError('url_not_allowed', e.message, [{ field: 'url', message: e.message }]);
        throw e;
      }
    }
    if (body.headers) {
      const problems = customHeaderProblems(body.headers);
      if (problems.length) throw invalidRequest('invalid headers', problems.map((message) => ({ field: 'headers', message })));
    }
    return {
      url: body.url,
      consumerId: consumerFor(req, body.consumer_id),
      description: body.description,
      eventTypes: body.event_types,
      channels: body.channels,
      headers: body.headers,
      rateLimitRps: body.rate_limit_rps,
      timeoutMs: body.timeout_ms,
      retrySchedule: body.retry_schedule,
      retryClientErrors: body.retry_client_errors,
      signatureScheme: body.signature_scheme,
      ordering: body.ordering,
      metadata: body.metadata,
      disableAfterSeconds: body.disable_after_seconds,
      disableMinFailures: body.disable_min_failures,
      // Whoever sets the URL decides the network policy it is sent under (the portal's or the operator's).
      urlSetInPortal: body.url !== undefined ? req.auth.portal !== null : undefined,
    };
  }

  app.post('/endpoints', { config, schema: { tags, body: EndpointCreate, response: { 201: EndpointJson, ...errorResponses } } }, async (req, reply) => {
    const input = await vetted(req, req.body);
    const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<EndpointInput>;
    const { endpoint, secret } = await store.endpoints.create(req.auth.projectId, { ...ENDPOINT_DEFAULTS, ...given, url: req.body.url });
    return reply.status(201).send(endpointJson(endpoint, secret));
  });

  app.get(
    '/endpoints',
    {
      config,
      schema: {
        tags,
        querystring: Type.Object({
          ...ListQuery.properties,
          consumer_id: Type.Optional(Type.String({ maxLength: 256 })),
          status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('disabled')])),
        }),
        response: { 200: ListOf(EndpointJson), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      const consumerId = listConsumer(req, q.consumer_id);
      if (consumerId === null) return { data: [], has_more: false, next_cursor: null };
      const page = await store.endpoints.list(req.auth.projectId, { consumerId, status: q.status }, q.limit ?? 50, q.cursor);
      return listJson(page, (e) => endpointJson(e));
    },
  );

  app.get('/endpoints/:id', { config, schema: { tags, params: IdParams, response: { 200: EndpointJson, ...errorResponses } } }, async (req) => {
    return endpointJson(await own(req, req.params.id));
  });

  app.patch('/endpoints/:id', { config, schema: { tags, params: IdParams, body: EndpointPatch, response: { 200: EndpointJson, ...errorResponses } } }, async (req) => {
    await own(req, req.params.id);
    const e = await store.endpoints.update(req.auth.projectId, req.params.id, await vetted(req, req.body ?? {}));
    if (!e) throw notFound('endpoint');
    return endpointJson(e);
  });

  app.delete('/endpoints/:id', { config, schema: { tags, params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (req, reply) => {
    await own(req, req.params.id);
    if (!(await store.endpoints.delete(req.auth.projectId, req.params.id))) throw notFound('endpoint');
    deps.endpointChanged(req.params.id);
    return reply.status(204).send(null);
  });

  app.post('/endpoints/:id/pause', { config, schema: { tags, params: IdParams, response: { 200: EndpointJson, ...errorResponses } } }, async (req) => {
    const current = await own(req, req.params.id);
    if (current.status === 'disabled') throw invalidState('the endpoint is disabled; resume it to enable it');
    const e = await store.endpoints.setStatus(req.auth.projectId, req.params.id, 'paused');
    if (!e) throw notFound('endpoint');
    deps.endpointChanged(e.id);
    return endpointJson(e);
  });

  app.post('/endpoints/:id/resume', { config, schema: { tags, params: IdParams, response: { 200: EndpointJson, ...errorResponses } } }, async (req) => {
    await own(req, req.params.id);
    const resumed = await store.endpoints.resume(req.auth.projectId, req.params.id);
    if (!resumed) throw notFound('endpoint');
    // Its parked deliveries and any hookbridge.endpoint.enabled deliveries are due now.
    deps.wakeWorker();
    return endpointJson(resumed.endpoint);
  });

  app.post(
    '/endpoints/:id/secret/rotate',
    {
      config,
      schema: {
        tags,
        params: IdParams,
        body: RotateBody,
        response: { 200: RotateResponse, ...errorResponses },
      },
    },
    async (req) => {
      await own(req, req.params.id);
      const graceMs = rotationGraceMs(req.body);
      const secret = await store.endpoints.rotateSecret(req.auth.projectId, req.params.id, graceMs);
      if (!secret) throw notFound('endpoint');
      return { signing_secret: secret, previous_secret_expires_at: new Date(Date.now() + graceMs).toISOString() };
    },
  );
};
