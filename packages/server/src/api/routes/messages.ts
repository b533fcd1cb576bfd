import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { canonicalJson } from '../../core/canonical-json.js';
import { ApiError, invalidRequest, invalidState, notFound } from '../../core/errors.js';
import { isOperationalEventType, OPERATIONAL_PREFIX } from '../../core/operational-events.js';
import type { RouteOptions } from '../app.js';
import { ownOrNotFound, portalDeliveryFilter } from '../portal-scope.js';
import { IdParams, ListOf, ListQuery, MessageAccepted, MessageCreate, MessageJson, errorResponses, listJson, messageJson } from '../schemas.js';

export const messageRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { store } = deps;
  const tags = ['messages'];

  app.post(
    '/messages',
    {
      // A portal session may send (a test event) to one of its own endpoints, nowhere else.
      config: { portal: true },
      schema: {
        tags,
        description:
          'Publish an event. With endpoint_id it goes to that endpoint only; otherwise it fans out to the matching endpoints of consumer_id, ' +
          'or to the endpoints without a consumer, or with broadcast: true to every matching endpoint. 202 once stored durably.',
        body: MessageCreate,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) }),
        response: { 200: MessageAccepted, 202: MessageAccepted, ...errorResponses },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const scopes = [b.consumer_id !== undefined, b.endpoint_id !== undefined, b.broadcast === true].filter(Boolean).length;
      if (scopes > 1) throw invalidRequest('give at most one of consumer_id, endpoint_id and broadcast: true');
      const headerKey = req.headers['idempotency-key'];
      if (req.auth.portal) {
        if (b.endpoint_id === undefined) throw new ApiError('forbidden', 'a portal session may send messages only to one of its endpoints (endpoint_id)');
        // Idempotency keys are the project's: a consumer must neither probe nor take the operator's.
        if (b.idempotency_key !== undefined || headerKey !== undefined) throw new ApiError('forbidden', 'a portal session sends test events without an idempotency key');
        ownOrNotFound(req, await store.endpoints.get(req.auth.projectId, b.endpoint_id), 'endpoint');
      }
      if (b.idempotency_key !== undefined && headerKey !== undefined && headerKey !== b.idempotency_key) {
        throw invalidRequest('idempotency_key and the Idempotency-Key header differ');
      }
      const payload = JSON.stringify(b.payload);
      if (Buffer.byteLength(payload) > deps.maxPayloadBytes) {
        throw new ApiError('payload_too_large', `payload is larger than ${deps.maxPayloadBytes} bytes`);
      }
      // Subscribers trust a hookbridge.* event to come from Hookbridge (operational webhooks).
      if (isOperationalEventType(b.event_type)) {
        throw invalidRequest(`event types starting with "${OPERATIONAL_PREFIX}" are reserved for operational webhooks`, [{ field: 'event_type', message: 'reserved prefix' }]);
      }
      if (req.auth.project.settings.strict_event_types && !(await store.projects.getEventType(req.auth.projectId, b.event_type))) {
        throw invalidRequest(`event type "${b.event_type}" is not registered (the project sets strict_event_types)`, [{ field: 'event_type', message: 'not registered' }]);
      }
      const request = {
        eventType: b.event_type,
        payload,
        consumerId: b.consumer_id ?? null,
        endpointId: b.endpoint_id ?? null,
        broadcast: b.broadcast === true,
        channels: b.channels && b.channels.length > 0 ? b.channels : null,
        idempotencyKey: b.idempotency_key ?? (headerKey as string | undefined) ?? null,
      };
      const requestHash = createHash('sha256')
        .update(canonicalJson({ ...request, payload: b.payload }))
        .digest('hex');
      const publish = (traceParent: string | null) => store.messages.publish(req.auth.projectId, { ...request, requestHash, traceParent, requestId: req.id });
      const result = deps.tracing ? await deps.tracing.messageAccept(req, publish) : await publish(null);
      switch (result.kind) {
        case 'idempotency_conflict':
          throw new ApiError('idempotency_conflict', 'this idempotency key was used with a different request');
        case 'endpoint_not_found':
          throw notFound('endpoint');
        case 'endpoint_disabled':
          throw invalidState('the endpoint is disabled; resume it first');
      }
      if (result.kind === 'created') {
        deps.metrics.messageAccepted();
        const queued = result.deliveries.filter((d) => d.status === 'queued').map((d) => d.endpointId);
        if (queued.length > 0) deps.wakeWorker(queued);
      }
      return reply.status(result.kind === 'created' ? 202 : 200).send({
        id: result.message.id,
        event_type: result.message.eventType,
        created_at: new Date(result.message.createdAt).toISOString(),
        deliveries: result.deliveries.map((d) => ({ id: d.id, endpoint_id: d.endpointId, status: d.status })),
      });
    },
  );

  app.get(
    '/messages',
    {
      schema: {
        tags,
        querystring: Type.Object({
          ...ListQuery.properties,
          event_type: Type.Optional(Type.String({ maxLength: 256 })),
          consumer_id: Type.Optional(Type.String({ maxLength: 256 })),
        }),
        response: { 200: ListOf(MessageJson), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      return listJson(await store.messages.list(req.auth.projectId, { eventType: q.event_type, consumerId: q.consumer_id }, q.limit ?? 50, q.cursor), messageJson);
    },
  );

  app.get('/messages/:id', { config: { portal: true }, schema: { tags, params: IdParams, response: { 200: MessageJson, ...errorResponses } } }, async (req) => {
    const m = await store.messages.get(req.auth.projectId, req.params.id);
    if (!m) throw notFound('message');
    // A portal session reads the messages its consumer was sent (one may have gone to many consumers).
    if (!req.auth.portal) return messageJson(m);
    if ((await store.deliveries.list(req.auth.projectId, { messageId: m.id, ...portalDeliveryFilter(req) }, 1)).data.length === 0) throw notFound('message');
    // The operator's bookkeeping of a message (its idempotency key, the request that made it) is not the consumer's.
    return { ...messageJson(m), idempotency_key: null, request_id: null };
  });

  app.delete(
    '/messages/:id',
    {
      schema: {
        tags,
        params: IdParams,
        description:
          'Remove the payload now: deliveries that could still send it are cancelled, attempts lose their response excerpts; ' +
          'the message, its deliveries and attempts stay listable (payload null, payload_removed_at set). Idempotent.',
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const done = await store.retention.deleteMessagePayload(req.auth.projectId, req.params.id, Date.now());
      if (!done) throw notFound('message');
      // Deliveries this worker claimed ahead still hold the payload: drop them (the store keeps them cancelled).
      for (const endpointId of new Set(done.cancelled.filter((d) => d.status === 'delivering').map((d) => d.endpointId))) deps.endpointChanged(endpointId);
      if (done.cancelled.length > 0) deps.metrics.deliveryFinished('cancelled', done.cancelled.length);
      return reply.status(204).send(null);
    },
  );
};
