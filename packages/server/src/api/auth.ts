/**
 * Bearer API keys. A key is looked up by its hash on every request, so revocation takes effect at
 * once. The bootstrap key is the admin key: it may also manage projects and keys.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../core/errors.js';
import type { Project } from '../core/model.js';
import type { ProjectCache } from './project-cache.js';
import type { Store } from '../store/store.js';

export interface AuthContext {
  keyId: string;
  projectId: string;
  isAdmin: boolean;
  /** The key's project, read at most once a second per project (settings apply within 1 s). */
  project: Project;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext;
  }
  interface FastifyContextConfig {
    /** Routes that need no API key (health checks, the OpenAPI document). */
    public?: boolean;
  }
}

/** How often last_used_at is written per key: often enough to be useful, rarely enough to be free. */
const TOUCH_EVERY_MS = 60_000;

export function installAuth(app: FastifyInstance, store: Store, projects: ProjectCache, defaultRateLimitPerMinute: number): void {
  const touched = new Map<string, number>();
  const limiter = new ProjectRateLimiter();
  app.decorateRequest('auth', null as unknown as AuthContext);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config?.public) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new ApiError('unauthorized', 'send an API key as "Authorization: Bearer <key>"');
    const key = await store.projects.findKeyBySecret(match[1]);
    if (!key) throw new ApiError('unauthorized', 'unknown or revoked API key');
    const now = Date.now();
    const project = await projects.get(key.projectId, now);
    if (!project) throw new ApiError('unauthorized', 'the project of this API key no longer exists');
    request.auth = { keyId: key.id, projectId: key.projectId, isAdmin: key.isAdmin, project };
    if ((touched.get(key.id) ?? 0) + TOUCH_EVERY_MS <= now) {
      touched.set(key.id, now);
      store.projects.touchKey(key.id, now).catch((err) => request.log.warn({ err }, 'could not record key use'));
    }
    const limit = project.settings.api_rate_limit_per_minute ?? defaultRateLimitPerMinute;
    const retryAfter = limiter.take(key.projectId, limit, now);
    if (retryAfter !== null) {
      throw new ApiError('rate_limited', `more than ${limit} requests per minute for this project`, undefined, { 'retry-after': String(retryAfter) });
    }
  });
}

export function requireAdmin(request: FastifyRequest): void {
  if (!request.auth.isAdmin) throw new ApiError('forbidden', 'only the admin key may manage projects');
}

/** Token bucket per project; limit 0 means unlimited. Returns null or the seconds to wait. */
class ProjectRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  take(projectId: string, perMinute: number, now: number): number | null {
    if (!perMinute) return null;
    const b = this.buckets.get(projectId) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) / 60_000) * perMinute);
    b.at = now;
    this.buckets.set(projectId, b);
    if (b.tokens < 1) return Math.max(1, Math.ceil(((1 - b.tokens) * 60) / perMinute));
    b.tokens -= 1;
    return null;
  }
}
