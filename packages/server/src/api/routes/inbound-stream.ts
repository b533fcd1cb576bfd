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
import { inboundEventJson } from '../inbound-schemas.js';

const BATCH = 100;
/** A client this far behind (bytes queued) is not sent more until it catches up. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export const inboundStreamRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const { store, hub } = deps;

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
        // With the local server's answer the ack is also kept as an attempt (hookbridge listen).
        const { status_code: status, latency_ms: latency } = frame;
        const withResult = (status === null || (Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)) && Number.isInteger(latency) && (latency as number) >= 0;
        const recorded = withResult
          ? store.inboundEvents.recordLocalResults(e, [{ id: frame.id, statusCode: status as number | null, latencyMs: latency as number, error: typeof frame.error === 'string' ? frame.error : null }])
          : store.inboundEvents.ack(e.id, [frame.id]);
        recorded.catch((err) => req.log.warn({ err }, 'could not record an ack; the event will be sent again'));
      });

      void (async () => {
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
      })().catch((err: Error) => {
        if (!open) return;
        req.log.error({ err }, 'inbound stream failed');
        socket.send(JSON.stringify({ type: 'error', code: 'internal_error', message: 'the stream failed; reconnect' }));
        socket.close(1011, 'internal_error');
      });
    },
  );
};
