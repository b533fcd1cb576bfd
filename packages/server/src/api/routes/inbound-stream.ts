/**
 * GET /v1/inbound-endpoints/:id/stream — the WebSocket `hookbridge listen` connects to. It sends
 * every unacknowledged event of a cli-mode endpoint (those stored while nobody listened first,
 * then new ones as they arrive), each once per connection; the client acknowledges each. Whatever
 * is not acknowledged is sent again on the next connection.
 *
 * Frames: server → client `{"type":"event", id, event_type, headers, body, body_encoding?, created_at}`;
 * client → server `{"type":"ack", id, status_code?, latency_ms?}`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { notFound, invalidState } from '../../core/errors.js';
import { HUB_POLL_MS } from '../../inbound/hub.js';
import type { RouteOptions } from '../app.js';
import { inboundEventJson } from '../inbound-schemas.js';

const BATCH = 100;
/** A client this far behind (bytes queued) is not sent more until it catches up. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export const inboundStreamRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const { store, hub } = deps;

  app.get<{ Params: { id: string } }>('/inbound-endpoints/:id/stream', { websocket: true, schema: { tags: ['inbound'], hide: true } }, (socket: WebSocket, req) => {
    let open = true;
    /** Set once the endpoint is known to be the caller's: acks before that are refused. */
    let endpointId: string | null = null;
    socket.on('close', () => (open = false));
    socket.on('error', () => (open = false));
    socket.on('message', (data) => {
      let frame: { type?: unknown; id?: unknown };
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return socket.send(JSON.stringify({ type: 'error', code: 'invalid_request', message: 'frames are JSON' }));
      }
      if (frame.type !== 'ack' || typeof frame.id !== 'string') {
        return socket.send(JSON.stringify({ type: 'error', code: 'invalid_request', message: 'expected {"type":"ack","id":"ie_…"}' }));
      }
      if (endpointId === null) return socket.send(JSON.stringify({ type: 'error', code: 'invalid_state', message: 'the stream is not open yet' }));
      store.inboundEvents.ack(endpointId, [frame.id]).catch((err) => req.log.warn({ err }, 'could not record an ack; the event will be sent again'));
    });

    void (async () => {
      const e = await store.inboundEndpoints.get(req.auth.projectId, req.params.id);
      if (!e) throw notFound('inbound endpoint');
      if (e.mode === 'forward') throw invalidState('this inbound endpoint forwards its events; stream a cli-mode endpoint');
      endpointId = e.id;
      let cursor: string | null = null;
      while (open) {
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
    })().catch((err: Error & { code?: string }) => {
      if (!open) return;
      // Known refusals close with the API's error code as the reason (a 4000-range close code).
      const code = err.code ?? 'internal_error';
      if (code === 'internal_error') req.log.error({ err }, 'inbound stream failed');
      socket.send(JSON.stringify({ type: 'error', code, message: err.message }));
      socket.close(code === 'not_found' ? 4404 : code === 'invalid_state' ? 4409 : 1011, code);
    });
  });
};
