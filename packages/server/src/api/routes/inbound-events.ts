/**
 * Inbound events and rejections: listing, one event with its forwarding status, its attempts,
 * replay; and pull mode — events held for a consumer behind a firewall, listed and acknowledged.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError, invalidRequest, invalidState, notFound } from '../../core/errors.js';
import type { RouteOptions } from '../app.js';
import { EventId, InboundEventJson, InboundRejectionJson, LocalResultJson, inboundEventJson, inboundRejectionJson, localResultOf } from '../inbound-schemas.js';
import { AttemptJson, DeliveryJson, ErrorBody, IdParams, ListOf, ListQuery, attemptJson, deliveryJson, errorResponses, listJson } from '../schemas.js';
import { HUB_POLL_MS } from '../../inbound/hub.js';

/** The filter of GET /v1/inbound-events, which an export of inbound events takes too (routes/exports.ts). */
export const InboundEventFilterFields = { inbound_endpoint_id: Type.Optional(Type.String({ maxLength: 128 })) };
const ByEndpoint = Type.Object({ ...ListQuery.properties, ...InboundEventFilterFields });
const MAX_WAIT_SECONDS = 60;

export const inboundEventRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { store } = deps;
  const tags = ['inbound'];

  app.get('/inbound-events', { schema: { tags, querystring: ByEndpoint, response: { 200: ListOf(InboundEventJson), ...errorResponses } } }, async (req) => {
    const q = req.query;
    return listJson(await store.inboundEvents.list(req.auth.projectId, { inboundEndpointId: q.inbound_endpoint_id }, q.limit ?? 50, q.cursor), (e) => inboundEventJson(e));
  });

  const loadEvent = async (projectId: string, id: string) => {
    const e = await store.inboundEvents.get(projectId, id);
    if (!e) throw notFound('inbound event');
    return e;
  };

  app.get('/inbound-events/:id', { schema: { tags, params: IdParams, response: { 200: InboundEventJson, ...errorResponses } } }, async (req) => {
    return inboundEventJson(await loadEvent(req.auth.projectId, req.params.id));
  });

  app.get(
    '/inbound-events/:id/attempts',
    { schema: { tags, params: IdParams, querystring: ListQuery, response: { 200: ListOf(AttemptJson), ...errorResponses } } },
    async (req) => {
      const e = await loadEvent(req.auth.projectId, req.params.id);
      if (!e.delivery) return { data: [], has_more: false, next_cursor: null };
      return listJson(await store.deliveries.attempts(req.auth.projectId, e.delivery.id, req.query.limit ?? 50, req.query.cursor), attemptJson);
    },
  );

  app.post('/inbound-events/:id/replay', { schema: { tags, params: IdParams, response: { 202: DeliveryJson, 410: ErrorBody, ...errorResponses } } }, async (req, reply) => {
    const e = await loadEvent(req.auth.projectId, req.params.id);
    if (!e.delivery) throw invalidState('only events of forward-mode endpoints are forwarded, so only they can be replayed');
    const out = await store.deliveries.replay(req.auth.projectId, e.delivery.id);
    if ('error' in out) throw out.error === 'not_found' ? notFound('inbound event') : new ApiError(out.error, out.message);
    deps.wakeWorker();
    return reply.status(202).send(deliveryJson(out.ok));
  });

  app.get('/inbound-rejections', { schema: { tags, querystring: ByEndpoint, response: { 200: ListOf(InboundRejectionJson), ...errorResponses } } }, async (req) => {
    const q = req.query;
    return listJson(await store.inboundEvents.rejections(req.auth.projectId, { inboundEndpointId: q.inbound_endpoint_id }, q.limit ?? 50, q.cursor), inboundRejectionJson);
  });

  /** A pull- or cli-mode endpoint of the caller's project. */
  const holdingEndpoint = async (projectId: string, id: string) => {
    const e = await store.inboundEndpoints.get(projectId, id);
    if (!e) throw notFound('inbound endpoint');
    if (e.mode === 'forward') throw invalidState('this inbound endpoint forwards its events; only pull and cli endpoints hold them');
    return e;
  };

  app.get(
    '/inbound-endpoints/:id/events',
    {
      schema: {
        tags,
        params: IdParams,
        querystring: Type.Object({
          after: Type.Optional(Type.String({ maxLength: 128 })),
          cursor: Type.Optional(Type.String({ maxLength: 128 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250, default: 50 })),
          wait: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_WAIT_SECONDS })),
        }),
        response: { 200: ListOf(InboundEventJson), ...errorResponses },
      },
    },
    async (req) => {
      const e = await holdingEndpoint(req.auth.projectId, req.params.id);
      const after = req.query.after ?? req.query.cursor ?? null;
      const limit = req.query.limit ?? 50;
      const retainedSince = () => Date.now() - (e.retentionSeconds ?? deps.inboundRetentionSeconds) * 1000;
      let page = await store.inboundEvents.pending(e.id, after, limit, retainedSince());
      // Long poll: wait for an event accepted by this process, and look again every poll
      // interval for ones accepted by others; give up at the deadline or when the client leaves.
      const deadline = Date.now() + (req.query.wait ?? 0) * 1000;
      const gone = new AbortController();
      req.raw.once('close', () => gone.abort());
      while (page.data.length === 0 && Date.now() < deadline && !gone.signal.aborted) {
        await deps.hub.waitFor(e.id, Math.min(HUB_POLL_MS, deadline - Date.now()), gone.signal);
        page = await store.inboundEvents.pending(e.id, after, limit, retainedSince());
      }
      return {
        data: page.data.map((ev) => inboundEventJson(ev, false)),
        has_more: page.hasMore,
        // Even the last page has a cursor: the next poll continues after what was seen.
        next_cursor: page.data.length > 0 ? page.data[page.data.length - 1].id : after,
      };
    },
  );

  app.post(
    '/inbound-endpoints/:id/events/ack',
    {
      schema: {
        tags,
        params: IdParams,
        description: 'Acknowledges held events: `ids` just marks them consumed; `results` (what `hookbridge listen` got from the local server) also records each as an attempt.',
        body: Type.Object(
          {
            ids: Type.Optional(Type.Array(EventId, { minItems: 1, maxItems: 1000 })),
            results: Type.Optional(Type.Array(LocalResultJson, { minItems: 1, maxItems: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ acked: Type.Integer() }), ...errorResponses },
      },
    },
    async (req) => {
      const e = await holdingEndpoint(req.auth.projectId, req.params.id);
      const { ids = [], results = [] } = req.body;
      const all = [...ids, ...results.map((r) => r.id)];
      if (all.length === 0) throw invalidRequest('give ids or results');
      if (new Set(all).size !== all.length) throw invalidRequest('an event id appears twice');
      const acked = (await store.inboundEvents.ack(e.id, ids)) + (await store.inboundEvents.recordLocalResults(e, results.map(localResultOf)));
      return { acked };
    },
  );
};
