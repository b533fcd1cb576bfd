import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { ApiError, invalidRequest } from '../../core/errors.js';
import { DELIVERY_STATUSES, REPLAYABLE, type DeliveryStatus as DeliveryStatusName } from '../../core/model.js';
import type { ActionResult, DeliveryFilter } from '../../store/deliveries.js';
import type { RouteOptions } from '../app.js';
import { listConsumer, ownDelivery, portalDeliveryFilter } from '../portal-scope.js';
import { AttemptJson, DeliveryJson, ErrorBody, IdParams, ListOf, ListQuery, attemptJson, deliveryJson, errorResponses, listJson } from '../schemas.js';

const Status = Type.Unsafe<DeliveryStatusName>({ type: 'string', enum: [...DELIVERY_STATUSES] });
const ReplayableStatus = Type.Unsafe<DeliveryStatusName>({ type: 'string', enum: [...REPLAYABLE] });
const Time = Type.String({ format: 'date-time' });

const ms = (t: string | undefined) => (t === undefined ? undefined : Date.parse(t));

/** The filters of GET /v1/deliveries, which an export of deliveries takes too (routes/exports.ts). */
export const DeliveryFilterFields = {
  status: Type.Optional(Status),
  endpoint_id: Type.Optional(Type.String({ maxLength: 128 })),
  message_id: Type.Optional(Type.String({ maxLength: 128 })),
  consumer_id: Type.Optional(Type.String({ maxLength: 256 })),
  event_type: Type.Optional(Type.String({ maxLength: 256 })),
  since: Type.Optional(Time),
  until: Type.Optional(Time),
};
const DeliveryFilterQuery = Type.Object(DeliveryFilterFields);

export function deliveryFilterOf(q: Static<typeof DeliveryFilterQuery>): DeliveryFilter {
  return {
    status: q.status,
    endpointId: q.endpoint_id,
    messageId: q.message_id,
    consumerId: q.consumer_id,
    eventType: q.event_type,
    since: ms(q.since),
    until: ms(q.until),
  };
}

export const deliveryRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { store } = deps;
  const tags = ['deliveries'];
  // Every route here is a portal route: a portal session sees and acts on its consumer's
  // deliveries only (the list is filtered; one of another consumer's is a 404).
  const config = { portal: true };
  const own = async (req: FastifyRequest, id: string) => ownDelivery(req, store, await store.deliveries.get(req.auth.projectId, id));

  function unwrap(r: ActionResult) {
    if ('ok' in r) return deliveryJson(r.ok);
    throw new ApiError(r.error, r.message);
  }

  app.get(
    '/deliveries',
    {
      config,
      schema: {
        tags,
        querystring: Type.Object({ ...ListQuery.properties, ...DeliveryFilterFields }),
        response: { 200: ListOf(DeliveryJson), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      if (listConsumer(req, q.consumer_id) === null) return { data: [], has_more: false, next_cursor: null };
      return listJson(await store.deliveries.list(req.auth.projectId, { ...deliveryFilterOf(q), ...portalDeliveryFilter(req) }, q.limit ?? 50, q.cursor), deliveryJson);
    },
  );

  app.get('/deliveries/:id', { config, schema: { tags, params: IdParams, response: { 200: DeliveryJson, ...errorResponses } } }, async (req) => {
    return deliveryJson(await own(req, req.params.id));
  });

  app.get(
    '/deliveries/:id/attempts',
    { config, schema: { tags, params: IdParams, querystring: ListQuery, response: { 200: ListOf(AttemptJson), ...errorResponses } } },
    async (req) => {
      await own(req, req.params.id);
      return listJson(await store.deliveries.attempts(req.auth.projectId, req.params.id, req.query.limit ?? 50, req.query.cursor), attemptJson);
    },
  );

  const action = { tags, params: IdParams, response: { 202: DeliveryJson, ...errorResponses } };

  app.post('/deliveries/:id/retry', { config, schema: { ...action, description: 'Attempt now a delivery waiting for its next retry (pending_retry).' } }, async (req, reply) => {
    await own(req, req.params.id);
    const out = unwrap(await store.deliveries.retryNow(req.auth.projectId, req.params.id));
    deps.wakeWorker();
    return reply.status(202).send(out);
  });

  app.post('/deliveries/:id/cancel', { config, schema: { ...action, description: 'Cancel a queued, pending_retry or paused delivery.' } }, async (req, reply) => {
    await own(req, req.params.id);
    const out = unwrap(await store.deliveries.cancel(req.auth.projectId, req.params.id));
    deps.metrics.deliveryFinished('cancelled');
    return reply.status(202).send(out);
  });

  app.post(
    '/deliveries/:id/replay',
    {
      config,
      schema: {
        ...action,
        description: 'Send a succeeded, failed or cancelled delivery again: same webhook-id, attempts keep numbering. 410 payload_expired once the payload was removed.',
        response: { ...action.response, 410: ErrorBody },
      },
    },
    async (req, reply) => {
      await own(req, req.params.id);
      const out = unwrap(await store.deliveries.replay(req.auth.projectId, req.params.id));
      deps.wakeWorker();
      return reply.status(202).send(out);
    },
  );

  app.post(
    '/deliveries/replay',
    {
      config,
      schema: {
        tags,
        description: 'Bulk replay, by ids or by a filter (status is required with a filter). A portal session replays its consumer\'s deliveries only.',
        body: Type.Union([
          Type.Object({ ids: Type.Array(Type.String({ maxLength: 128 }), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
          Type.Object(
            { status: ReplayableStatus, endpoint_id: Type.Optional(Type.String({ maxLength: 128 })), since: Type.Optional(Time), until: Type.Optional(Time) },
            { additionalProperties: false },
          ),
        ]),
        response: {
          202: Type.Object({ replayed: Type.Integer(), skipped: Type.Integer(), expired: Type.Integer({ description: 'of the skipped, those whose payload was removed' }) }),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if (!b) throw invalidRequest('send {ids} or {status, endpoint_id?, since?, until?}');
      const scope = portalDeliveryFilter(req);
      const selection = 'ids' in b ? { ids: b.ids, ...scope } : { status: b.status, endpointId: b.endpoint_id, since: ms(b.since), until: ms(b.until), ...scope };
      const counts = await store.deliveries.bulkReplay(req.auth.projectId, selection);
      if (counts.replayed > 0) deps.wakeWorker();
      return reply.status(202).send(counts);
    },
  );
};
