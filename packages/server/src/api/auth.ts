/**
 * Bearer credentials: API keys and consumer portal tokens. A key is looked up by its hash on every
 * request, so revocation takes effect at once. The bootstrap key is the admin key: it may also
 * manage projects and keys. A portal token (core/portal-token.ts) reaches only the routes marked
 * `portal: true`, and only its consumer's rows there (portal-scope.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../core/errors.js';
import type { ApiKey, Project } from '../core/model.js';
import { isPortalToken, verifyPortalToken } from '../core/portal-token.js';
import type { PortalScope } from './portal-scope.js';
import type { ProjectCache } from './project-cache.js';
import type { Store } from '../store/store.js';

export interface AuthContext {
  keyId: string;
  projectId: string;
  isAdmin: boolean;
  /** The key's project, read at most once a second per project (settings apply within 1 s). */
  project: Project;
  /** Set for a consumer portal token: keyId is then the key that created the session. */
  portal: PortalScope | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext;
  }
  interface FastifyContextConfig {
    /** Routes that need no API key (health checks, the OpenAPI document). */
    public?: boolean;
    /** Routes a consumer portal token may call; each limits what it answers to the consumer. */
    portal?: boolean;
  }
}

/** How often last_used_at is written per key: often enough to be useful, rarely enough to be free. */
const TOUCH_EVERY_MS = 60_000;

/** What HKDF derives the portal token key for, from the master key. */
export const PORTAL_KEY_PURPOSE = 'portal tokens v1';

export function installAuth(app: FastifyInstance, store: Store, projects: ProjectCache, defaultRateLimitPerMinute: number): void {
  const touched = new Map<string, number>();
  const limiter = new ProjectRateLimiter();
  const portalKey = store.box.deriveKey(PORTAL_KEY_PURPOSE);
  app.decorateRequest('auth', null as unknown as AuthContext);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config?.public) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new ApiError('unauthorized', 'send an API key as "Authorization: Bearer <key>"');
    const now = Date.now();
    let portal: PortalScope | null = null;
    let key: ApiKey | null;
    if (isPortalToken(match[1])) {
      const check = verifyPortalToken(portalKey, match[1], now);
      if ('error' in check) throw new ApiError('unauthorized', check.error === 'expired' ? 'this portal session has expired' : 'invalid portal token');
      const c = check.ok;
      portal = { sessionId: c.sessionId, consumerId: c.consumerId, readOnly: c.readOnly, expiresAt: c.expiresAt };
      // A portal session lives no longer than the key that created it, and stays in its project.
      key = await store.projects.getKey(c.keyId);
      if (!key || key.revokedAt !== null || key.projectId !== c.projectId) throw new ApiError('unauthorized', 'the API key that created this portal session was revoked');
    } else {
      key = await store.projects.findKeyBySecret(match[1]);
      if (!key) throw new ApiError('unauthorized', 'unknown or revoked API key');
    }
    const project = await projects.get(key.projectId, now);
    if (!project) throw new ApiError('unauthorized', 'the project of this API key no longer exists');
    if (portal) {
      if (!request.routeOptions.config?.portal) throw new ApiError('forbidden', 'a consumer portal session may not use this route');
      if (portal.readOnly && request.method !== 'GET' && request.method !== 'HEAD') throw new ApiError('forbidden', 'this portal session is read only');
    }
    request.auth = { keyId: key.id, projectId: key.projectId, isAdmin: key.isAdmin && !portal, project, portal };
    // A portal session's use is not the key's own: an idle key must look idle to whoever revokes keys.
    if (!portal && (touched.get(key.id) ?? 0) + TOUCH_EVERY_MS <= now) {
      touched.set(key.id, now);
      store.projects.touchKey(key.id, now).catch((err) => request.log.warn({ err }, 'could not record key use'));
    }
    // Each portal consumer has a bucket of its own, so that no consumer can spend the operator's.
    const limit = project.settings.api_rate_limit_per_minute ?? defaultRateLimitPerMinute;
    const bucket = portal ? `${key.projectId}\0portal\0${portal.consumerId}` : key.projectId;
    const retryAfter = limiter.take(bucket, limit, now);
    if (retryAfter !== null) {
      const whose = portal ? 'this portal consumer' : 'this project';
      throw new ApiError('rate_limited', `more than ${limit} requests per minute for ${whose}`, undefined, { 'retry-after': String(retryAfter) });
    }
  });
}

export function requireAdmin(request: FastifyRequest): void {
  if (!request.auth.isAdmin) throw new ApiError('forbidden', 'only the admin key may manage projects');
}

/** Token bucket per project (and per portal consumer); limit 0 means unlimited. Returns null or the seconds to wait. */
class ProjectRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  take(bucket: string, perMinute: number, now: number): number | null {
    if (!perMinute) return null;
    const b = this.buckets.get(bucket) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) / 60_000) * perMinute);
    b.at = now;
    this.buckets.set(bucket, b);
    if (b.tokens < 1) return Math.max(1, Math.ceil(((1 - b.tokens) * 60) / perMinute));
    b.tokens -= 1;
    return null;
  }
}
