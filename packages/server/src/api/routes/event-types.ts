import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Ajv } from 'ajv';
import { ApiError, invalidRequest, notFound } from '../../core/errors.js';
import type { RouteOptions } from '../app.js';
import { EventTypeJson, ListOf, ListQuery, errorResponses, eventTypeJson, listJson } from '../schemas.js';

/** Only used to check that a registered schema compiles. */
const schemaChecker = new Ajv({ strict: false });

export const eventTypeRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { store } = deps;
  const tags = ['event-types'];

  app.post(
    '/event-types',
    {
      schema: {
        tags,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9_.:/-]+$' }),
            description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
            schema: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: { 201: EventTypeJson, ...errorResponses },
      },
    },
    async (req, reply) => {
      if (req.body.schema) {
        try {
          schemaChecker.compile(req.body.schema);
        } catch (e) {
          throw invalidRequest('schema is not a valid JSON Schema', [{ field: 'schema', message: (e as Error).message }]);
        }
      }
      const et = await store.projects.createEventType(req.auth.projectId, req.body);
      if (!et) throw new ApiError('conflict', `event type "${req.body.name}" already exists`);
      return reply.status(201).send(eventTypeJson(et));
    },
  );

  app.get('/event-types', { config: { portal: true }, schema: { tags, querystring: ListQuery, response: { 200: ListOf(EventTypeJson), ...errorResponses } } }, async (req) => {
    return listJson(await store.projects.listEventTypes(req.auth.projectId, req.query.limit ?? 50, req.query.cursor), eventTypeJson);
  });

  app.get(
    '/event-types/:name',
    { schema: { tags, params: Type.Object({ name: Type.String({ maxLength: 256 }) }), response: { 200: EventTypeJson, ...errorResponses } } },
    async (req) => {
      const et = await store.projects.getEventType(req.auth.projectId, req.params.name);
      if (!et) throw notFound('event type');
      return eventTypeJson(et);
    },
  );
};
