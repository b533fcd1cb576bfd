/** /v1/inbound-endpoints: create, read, change, pause/resume, rotate the forwarding secret, delete. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError, invalidRequest, invalidState, notFound } from '../../core/errors.js';
import { parseCidrList } from '../../core/ip-policy.js';
import type { InboundEndpoint } from '../../core/model.js';
import { checkVerificationConfig, type VerificationConfig } from '../../core/verify/index.js';
import { checkUrlAllowed, UrlNotAllowedError } from '../../delivery/ssrf-guard.js';
import type { InboundEndpointInput } from '../../store/inbound-endpoints.js';
import type { RouteOptions } from '../app.js';
import { InboundEndpointCreate, InboundEndpointJson, InboundEndpointPatch, inboundEndpointJson, type InboundEndpointCreateBody } from '../inbound-schemas.js';
import { IdParams, ListOf, ListQuery, errorResponses, listJson } from '../schemas.js';
import { RotateBody, RotateResponse, rotationGraceMs } from './secret-rotation.js';

function inputOf(body: InboundEndpointCreateBody): InboundEndpointInput {
  return {
    name: body.name,
    mode: body.mode,
    destinationUrl: body.destination_url ?? null,
    verification: body.verification as VerificationConfig,
    allowedCidrs: body.allowed_cidrs ?? null,
    idempotencyHeaderNames: body.idempotency_header_names ?? null,
    dedupeWindowSeconds: body.dedupe_window_seconds ?? null,
    retentionSeconds: body.retention_seconds ?? null,
    ingestResponseCode: body.ingest_response_code ?? 202,
    ordering: body.ordering ?? 'none',
    timeoutMs: body.timeout_ms ?? null,
    retrySchedule: body.retry_schedule ?? null,
  };
}

/** The API shape of a stored endpoint, so a PATCH can be merged onto it and vetted whole. */
function bodyOf(e: InboundEndpoint): InboundEndpointCreateBody {
  return {
    name: e.name,
    mode: e.mode,
    destination_url: e.destinationUrl,
    verification: e.verification as InboundEndpointCreateBody['verification'],
    allowed_cidrs: e.allowedCidrs,
    idempotency_header_names: e.idempotencyHeaderNames,
    dedupe_window_seconds: e.dedupeWindowSeconds,
    retention_seconds: e.retentionSeconds,
    ingest_response_code: e.ingestResponseCode,
    ordering: e.ordering,
    timeout_ms: e.timeoutMs,
    retry_schedule: e.retrySchedule,
  };
}

export const inboundEndpointRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { store } = deps;
  const tags = ['inbound'];
  const json = (e: InboundEndpoint, secret?: string) => inboundEndpointJson(e, deps.publicUrl(), secret);

  async function vetted(body: InboundEndpointCreateBody): Promise<InboundEndpointInput> {
    const problem = checkVerificationConfig(body.verification as VerificationConfig);
    if (problem) throw invalidRequest('invalid verification', [{ field: 'verification', message: problem }]);
    if (body.mode === 'forward') {
      if (!body.destination_url) throw invalidRequest('forward mode needs a destination_url', [{ field: 'destination_url', message: 'is required in forward mode' }]);
      try {
        await checkUrlAllowed(body.destination_url, deps.forwardAllowNetworks, deps.resolver);
      } catch (e) {
        if (e instanceof UrlNotAllowedError) throw new ApiError('url_not_allowed', e.message, [{ field: 'destination_url', message: e.message }]);
        throw e;
      }
    } else if (body.destination_url) {
      throw invalidRequest(`${body.mode} mode holds events; it has no destination_url`, [{ field: 'destination_url', message: `only in forward mode` }]);
    }
    if (body.allowed_cidrs) {
      try {
        parseCidrList(body.allowed_cidrs.join(','));
      } catch (e) {
        throw invalidRequest('invalid allowed_cidrs', [{ field: 'allowed_cidrs', message: (e as Error).message }]);
      }
    }
    return inputOf(body);
  }

  app.post('/inbound-endpoints', { schema: { tags, body: InboundEndpointCreate, response: { 201: InboundEndpointJson, ...errorResponses } } }, async (req, reply) => {
    const { inbound, secret } = await store.inboundEndpoints.create(req.auth.projectId, await vetted(req.body));
    return reply.status(201).send(json(inbound, secret));
  });

  app.get('/inbound-endpoints', { schema: { tags, querystring: ListQuery, response: { 200: ListOf(InboundEndpointJson), ...errorResponses } } }, async (req) => {
    return listJson(await store.inboundEndpoints.list(req.auth.projectId, req.query.limit ?? 50, req.query.cursor), (e) => json(e));
  });

  const load = async (projectId: string, id: string) => {
    const e = await store.inboundEndpoints.get(projectId, id);
    if (!e) throw notFound('inbound endpoint');
    return e;
  };

  app.get('/inbound-endpoints/:id', { schema: { tags, params: IdParams, response: { 200: InboundEndpointJson, ...errorResponses } } }, async (req) => {
    return json(await load(req.auth.projectId, req.params.id));
  });

  app.patch('/inbound-endpoints/:id', { schema: { tags, params: IdParams, body: InboundEndpointPatch, response: { 200: InboundEndpointJson, ...errorResponses } } }, async (req) => {
    const current = await load(req.auth.projectId, req.params.id);
    const patch = req.body ?? {};
    if (patch.mode !== undefined && patch.mode !== current.mode) {
      throw invalidRequest('the mode of an inbound endpoint cannot change; create another one', [{ field: 'mode', message: 'cannot change' }]);
    }
    const merged = { ...bodyOf(current), ...patch };
    const e = await store.inboundEndpoints.update(req.auth.projectId, req.params.id, await vetted(merged));
    if (!e) throw notFound('inbound endpoint');
    return json(e);
  });

  app.delete('/inbound-endpoints/:id', { schema: { tags, params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (req, reply) => {
    if (!(await store.inboundEndpoints.delete(req.auth.projectId, req.params.id))) throw notFound('inbound endpoint');
    deps.endpointChanged(req.params.id);
    return reply.status(204).send(null);
  });

  app.post('/inbound-endpoints/:id/pause', { schema: { tags, params: IdParams, response: { 200: InboundEndpointJson, ...errorResponses } } }, async (req) => {
    const current = await load(req.auth.projectId, req.params.id);
    if (current.status === 'disabled') throw invalidState('the inbound endpoint is disabled; resume it to enable it');
    await store.endpoints.setStatus(req.auth.projectId, current.id, 'paused');
    deps.endpointChanged(current.id);
    return json(await load(req.auth.projectId, current.id));
  });

  app.post('/inbound-endpoints/:id/resume', { schema: { tags, params: IdParams, response: { 200: InboundEndpointJson, ...errorResponses } } }, async (req) => {
    const current = await load(req.auth.projectId, req.params.id);
    await store.endpoints.resume(req.auth.projectId, current.id, 'inbound');
    deps.wakeWorker();
    return json(await load(req.auth.projectId, current.id));
  });

  app.post(
    '/inbound-endpoints/:id/secret/rotate',
    { schema: { tags, params: IdParams, body: RotateBody, response: { 200: RotateResponse, ...errorResponses } } },
    async (req) => {
      const graceMs = rotationGraceMs(req.body);
      const secret = await store.endpoints.rotateSecret(req.auth.projectId, req.params.id, graceMs, 'inbound');
      if (!secret) throw notFound('inbound endpoint');
      return { signing_secret: secret, previous_secret_expires_at: new Date(Date.now() + graceMs).toISOString() };
    },
  );
};
