import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { invalidState, notFound } from '../../core/errors.js';
import { generateApiKey } from '../../core/secret-box.js';
import type { RouteOptions } from '../app.js';
import { ApiKeyJson, IdParams, ListOf, ListQuery, apiKeyJson, errorResponses, listJson } from '../schemas.js';
import { KeyCreate } from './projects.js';

/** The caller's own project's keys. The admin key may also revoke keys of other projects. */
export const apiKeyRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { store } = deps;
  const tags = ['api-keys'];

  app.get('/api-keys', { schema: { tags, querystring: ListQuery, response: { 200: ListOf(ApiKeyJson), ...errorResponses } } }, async (req) => {
    return listJson(await store.projects.listKeys(req.auth.projectId, req.query.limit ?? 50, req.query.cursor), (k) => apiKeyJson(k));
  });

  app.post('/api-keys', { schema: { tags, body: KeyCreate, response: { 201: ApiKeyJson, ...errorResponses } } }, async (req, reply) => {
    const key = generateApiKey(req.body?.mode ?? 'live');
    const created = await store.projects.createKey(req.auth.projectId, key, { label: req.body?.label ?? null });
    return reply.status(201).send(apiKeyJson(created, key));
  });

  app.delete('/api-keys/:id', { schema: { tags, params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (req, reply) => {
    const key = await store.projects.getKey(req.params.id);
    if (!key || (key.projectId !== req.auth.projectId && !req.auth.isAdmin)) throw notFound('API key');
    // Revoking the admin key would lock everyone out of project management for good.
    if (key.isAdmin) throw invalidState('the admin key cannot be revoked');
    await store.projects.revokeKey(key.id);
    return reply.status(204).send(null);
  });
};
