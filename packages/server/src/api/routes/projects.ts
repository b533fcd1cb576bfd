import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../../core/errors.js';
import type { ProjectSettings } from '../../core/model.js';
import { generateApiKey } from '../../core/secret-box.js';
import { requireAdmin } from '../auth.js';
import type { RouteOptions } from '../app.js';
import { ApiKeyJson, IdParams, ListOf, ListQuery, ProjectJson, ProjectSettingsSchema, apiKeyJson, errorResponses, listJson, projectJson } from '../schemas.js';

export const KeyCreate = Type.Object(
  {
    label: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    mode: Type.Optional(Type.Union([Type.Literal('live'), Type.Literal('test')])),
  },
  { additionalProperties: false },
);

/** Projects and their keys: admin key only (DESIGN.md §1). */
export const projectRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps, projectCache }) => {
  const { store } = deps;
  const tags = ['projects'];
  app.addHook('onRequest', async (req) => {
    // Only this plugin's routes: the hook is encapsulated by Fastify's plugin scope.
    requireAdmin(req);
  });

  app.get('/projects', { schema: { tags, querystring: ListQuery, response: { 200: ListOf(ProjectJson), ...errorResponses } } }, async (req) => {
    return listJson(await store.projects.list(req.query.limit ?? 50, req.query.cursor), projectJson);
  });

  app.post(
    '/projects',
    {
      schema: {
        tags,
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), ...ProjectSettingsSchema }, { additionalProperties: false }),
        response: { 201: ProjectJson, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { name, ...settings } = req.body;
      const p = await store.projects.create(name, dropNulls(settings));
      return reply.status(201).send(projectJson(p));
    },
  );

  app.get('/projects/:id', { schema: { tags, params: IdParams, response: { 200: ProjectJson, ...errorResponses } } }, async (req) => {
    const p = await store.projects.get(req.params.id);
    if (!p) throw notFound('project');
    return projectJson(p);
  });

  app.patch(
    '/projects/:id',
    {
      schema: {
        tags,
        params: IdParams,
        description: 'Rename a project or change its defaults; null puts a setting back to the server default.',
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })), ...ProjectSettingsSchema }, { additionalProperties: false }),
        response: { 200: ProjectJson, ...errorResponses },
      },
    },
    async (req) => {
      const { name, ...settings } = req.body ?? {};
      const p = await store.projects.update(req.params.id, { name, settings: settings as ProjectSettings });
      if (!p) throw notFound('project');
      projectCache.forget(p.id);
      return projectJson(p);
    },
  );

  app.post(
    '/projects/:id/api-keys',
    { schema: { tags, params: IdParams, body: Type.Optional(KeyCreate), response: { 201: ApiKeyJson, ...errorResponses } } },
    async (req, reply) => {
      if (!(await store.projects.get(req.params.id))) throw notFound('project');
      const key = generateApiKey(req.body?.mode ?? 'live');
      const created = await store.projects.createKey(req.params.id, key, { label: req.body?.label ?? null });
      return reply.status(201).send(apiKeyJson(created, key));
    },
  );

  app.get(
    '/projects/:id/api-keys',
    { schema: { tags, params: IdParams, querystring: ListQuery, response: { 200: ListOf(ApiKeyJson), ...errorResponses } } },
    async (req) => {
      if (!(await store.projects.get(req.params.id))) throw notFound('project');
      return listJson(await store.projects.listKeys(req.params.id, req.query.limit ?? 50, req.query.cursor), (k) => apiKeyJson(k));
    },
  );
};

function dropNulls(o: Record<string, unknown>): ProjectSettings {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as ProjectSettings;
}
