/**
 * Consumer portal sessions: an API key mints a short-lived token limited to one consumer
 * (core/portal-token.ts); the portal (the console at /portal/<project>) signs in with it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../../core/errors.js';
import { newPortalSessionId, signPortalToken } from '../../core/portal-token.js';
import { PORTAL_KEY_PURPOSE } from '../auth.js';
import type { RouteOptions } from '../app.js';
import { errorResponses, iso, Name } from '../schemas.js';

/** One hour by default; at most a week (a portal link is a bearer credential in a URL fragment). */
export const PORTAL_TTL = { default: 3600, min: 60, max: 7 * 86400 };

const Brand = Type.Object({ name: Type.String(), color: Type.Union([Type.String(), Type.Null()]), logo_url: Type.Union([Type.String(), Type.Null()]) });

export const portalSessionRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const tags = ['portal'];
  const key = deps.store.box.deriveKey(PORTAL_KEY_PURPOSE);

  app.post(
    '/portal-sessions',
    {
      schema: {
        tags,
        description:
          'Create a consumer portal session: a URL (and its bearer token) that opens the console limited to one consumer\'s endpoints and deliveries until expires_at. ' +
          'The token works only until then, only for that consumer, and never for project settings, keys or other portal sessions.',
        body: Type.Object(
          {
            consumer_id: Name,
            ttl_seconds: Type.Optional(Type.Integer({ minimum: PORTAL_TTL.min, maximum: PORTAL_TTL.max, default: PORTAL_TTL.default })),
            read_only: Type.Optional(Type.Boolean({ default: false })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            id: Type.String(),
            url: Type.String({ description: 'The portal, with the token in the fragment (#token=…), which browsers do not send to servers' }),
            token: Type.String({ description: 'Bearer token of the session (hbp_…), for an own embedding' }),
            consumer_id: Type.String(),
            read_only: Type.Boolean(),
            expires_at: Type.String(),
          }),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const ttl = req.body.ttl_seconds ?? PORTAL_TTL.default;
      const readOnly = req.body.read_only ?? false;
      const claims = { sessionId: newPortalSessionId(), projectId: req.auth.projectId, consumerId: req.body.consumer_id, readOnly, expiresAt: Date.now() + ttl * 1000, keyId: req.auth.keyId };
      const token = signPortalToken(key, claims);
      return reply.status(201).send({
        id: claims.sessionId,
        url: `${deps.publicUrl()}/portal/${encodeURIComponent(claims.projectId)}#token=${token}`,
        token,
        consumer_id: claims.consumerId,
        read_only: readOnly,
        expires_at: iso(claims.expiresAt),
      });
    },
  );

  app.get(
    '/portal-sessions/current',
    {
      config: { portal: true },
      schema: {
        tags,
        description: 'The portal session of the bearer token (a portal token only): its consumer, whether it is read only, when it ends, and the project\'s portal branding.',
        response: {
          200: Type.Object({ id: Type.String(), consumer_id: Type.String(), read_only: Type.Boolean(), expires_at: Type.String(), brand: Brand }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const portal = req.auth.portal;
      if (!portal) throw new ApiError('forbidden', 'this route answers a portal token only (POST /v1/portal-sessions makes one)');
      const s = req.auth.project.settings;
      return {
        id: portal.sessionId,
        consumer_id: portal.consumerId,
        read_only: portal.readOnly,
        expires_at: iso(portal.expiresAt),
        brand: { name: s.portal_brand_name ?? req.auth.project.name, color: s.portal_brand_color ?? null, logo_url: s.portal_logo_url ?? null },
      };
    },
  );
};
