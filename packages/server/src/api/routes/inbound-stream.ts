/**
 * GET /v1/inbound-endpoints/:id/stream — the WebSocket `hookbridge listen` connects to. It sends
 * every unacknowledged event of a cli-mode endpoint (those stored while nobody listened first,
 * then new ones as they arrive), each once per connection; the client acknowledges each. Whatever
 * is not acknowledged is sent again on the next connection.
 *
 * Frames: server → client `{"type":"event", id, event_type, headers, body, body_encoding?, created_at}`;
 * client → server `{"type":"ack", id, status_code?, latency_ms?, error?}` (with status_code and
 * latency_ms the ack is also kept as an attempt: the local result of `hookbridge listen`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { invalidRequest, invalidState, notFound } from '../../core/errors.js';
import type { InboundEndpoint } from '../../core/model.js';
import { HUB_POLL_MS } from '../../inbound/hub.js';
import type { RouteOptions } from '../app.js';
import { Value } from 'typebox/value';
import { inboundEventJson, LocalResultJson, localResultOf } from '../inbound-schemas.js';
import type { LocalResult } from '../../store/inbound-events.js';

const BATCH = 100;
/** A client this far behind (bytes queued) is not sent more until it catches up. */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** How often the key and the endpoint are checked again while a stream is open. */
const RECHECK_MS = 5000;
/** Ping interval; a peer that misses one pong is dropped. */
export const HEARTBEAT_MS = 30_000;

/** The local result an ack frame carries, held to the schema of POST …/events/ack; null when it breaks it. */
function localResultFrom(frame: Record<string, unknown>): LocalResult | null {
  const { type: _type, ...result } = frame;
  return Value.Check(LocalResultJson, result) ? localResultOf(result) : null;
}
export const inboundStreamRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const { store, hub } = deps;

  const stillAllowed = async (keyId: string, projectId: string, endpointId: string) => {
    const key = await store.projects.getKey(keyId);
    if (!key || key.revokedAt !== null) return { code: 'unauthorized', message: 'the API key was revoked' };
    const now = await store.inboundEndpoints.get(projectId, endpointId);
    if (!now || now.mode === 'forward') return { code: 'not_found', message: 'the inbound endpoint was deleted or no longer holds events' };
    return null;
  };

  /** The endpoint each accepted upgrade is for, found before the upgrade. */
  const streamed = new WeakMap<object, InboundEndpoint>();

  app.get<{ Params: { id: string } }>(
    '/inbound-endpoints/:id/stream',
    {
      websocket: true,
      schema: { tags: ['inbound'], hide: true },
      // Checked before the upgrade, so an unknown id or another project's endpoint is refused
      // with a plain 404 (a forward-mode one with 409) and no socket is ever opened for it.
      preHandler: async (req) => {
        const e = await store.inboundEndpoints.get(req.auth.projectId, req.params.id);
        if (!e) throw notFound('inbound endpoint');
        if (e.mode === 'forward') throw invalidState('this inbound endpoint forwards its events; stream a cli-mode endpoint');
        if (!req.ws) throw invalidRequest('this route is a WebSocket: connect with "Upgrade: websocket"');
        streamed.set(req, e);
      },
    },
    (socket: WebSocket, req) => {
      const e = streamed.get(req)!;
      let open = true;
      socket.on('close', () => (open = false));
      socket.on('error', () => (open = false));
      socket.on('message', (data) => {
        let frame: { type?: unknown; id?: unknown; status_code?: unknown; latency_ms?: unknown; error?: unknown };
        try {
          frame = JSON.parse(data.toString());
        } catch {
          return socket.send(JSON.stringify({ type: 'error', code: 'invalid_request', message: 'frames are JSON' }));
        }
        if (frame.type !== 'ack' || typeof frame.id !== 'string') {
          return socket.send(JSON.stringify({ type: 'error', code: 'invalid_request', message: 'expected {"type":"ack","id":"ie_…"[,"status_code":200,"latency_ms":12]}' }));
        }
        // With the local server's answer the ack is also kept as an attempt (hookbridge listen),
        // held to the same bounds as the results of POST …/events/ack.
        const withResult = 'status_code' in frame || 'latency_ms' in frame;
        const result = withResult ? localResultFrom(frame as Record<string, unknown>) : null;
        if (withResult && !result) {
          return socket.send(JSON.stringify({ type: 'error', code: 'invalid_request', message: 'status_code must be null or 100–599, latency_ms an integer 0–3600000' }));
        }
        const recorded = result ? store.inboundEvents.recordLocalResults(e, [result]) : store.inboundEvents.ack(e.id, [frame.id]);
        recorded.catch((err) => req.log.warn({ err }, 'could not record an ack; the event will be sent again'));
      });

      // A dead peer (a laptop gone to sleep, a NAT that forgot the connection) sends no FIN: ping,
      // and drop the connection when a pong does not come back before the next ping.
      let alive = true;
      socket.on('pong', () => (alive = true));
      const heartbeat = setInterval(() => {
        if (!alive) return void socket.terminate();
        alive = false;
        socket.ping();
      }, HEARTBEAT_MS);
      socket.on('close', () => clearInterval(heartbeat));

      void (async () => {
        let cursor: string | null = null;
        let checkedAt = Date.now();
        while (open) {
          // The key and the endpoint were checked at the upgrade; a revoked key or a deleted or
          // changed endpoint must end the stream too, as it would end any other request.
          if (Date.now() - checkedAt >= RECHECK_MS) {
            checkedAt = Date.now();
            const refusal = await stillAllowed(req.auth.keyId, req.auth.projectId, e.id);
            if (refusal) {
              socket.send(JSON.stringify({ type: 'error', code: refusal.code, message: refusal.message }));
              return void socket.close(refusal.code === 'unauthorized' ? 4401 : 4404, refusal.code);
            }
          }
          if (socket.bufferedAmount < MAX_BUFFERED) {
            const retainedSince = Date.now() - (e.retentionSeconds ?? deps.inboundRetentionSeconds) * 1000;
            const page = await store.inboundEvents.pending(e.id, cursor, BATCH, retainedSince);
            for (const ev of page.data) {
              if (!open) break;
              socket.send(JSON.stringify({ type: 'event', ...inboundEventJson(ev, false) }));
              cursor = ev.id;
            }
            if (page.hasMore) continue;
          }
          await hub.waitFor(e.id, HUB_POLL_MS);
        }
      })().catch((err: Error) => {
        if (!open) return;
        req.log.error({ err }, 'inbound stream failed');
        socket.send(JSON.stringify({ type: 'error', code: 'internal_error', message: 'the stream failed; reconnect' }));
        socket.close(1011, 'internal_error');
      });
    },
  );
};
