import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../../core/errors.js';
import type { MetricsScope } from '../../store/metrics.js';
import type { RouteOptions } from '../app.js';
import { errorResponses } from '../schemas.js';

const WINDOWS = { '1h': 3600_000, '24h': 86400_000, '7d': 7 * 86400_000, '30d': 30 * 86400_000 } as const;
/** Bucket sizes give 60, 24, 28 and 30 points: enough for a chart, few enough to be cheap. */
const BUCKETS = { '1h': 60_000, '24h': 3600_000, '7d': 6 * 3600_000, '30d': 86400_000 } as const;

const Count = Type.Integer({ minimum: 0 });
const Rate = Type.Union([Type.Number(), Type.Null()]);

const Query = Type.Object({
  window: Type.Optional(Type.Union([Type.Literal('1h'), Type.Literal('24h'), Type.Literal('7d'), Type.Literal('30d')])),
  endpoint_id: Type.Optional(Type.String({ maxLength: 128 })),
  direction: Type.Optional(Type.Union([Type.Literal('outbound'), Type.Literal('inbound')], { description: 'inbound: accepted events (total_messages), forwarding deliveries and attempts, and rejections; endpoint_id is then an inbound endpoint. Default outbound.' })),
});

export const metricsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  const { store } = deps;
  const tags = ['metrics'];

  async function scope(projectId: string, q: { endpoint_id?: string; direction?: 'outbound' | 'inbound' }): Promise<MetricsScope> {
    const direction = q.direction ?? 'outbound';
    if (q.endpoint_id && !(await store.endpoints.get(projectId, q.endpoint_id, store.db, direction))) throw notFound(direction === 'inbound' ? 'inbound endpoint' : 'endpoint');
    return { direction, endpointId: q.endpoint_id };
  }

  app.get(
    '/metrics',
    {
      schema: {
        tags,
        description: 'Totals over a window: deliveries by outcome, attempts, retries, success rate and mean attempt latency.',
        querystring: Query,
        response: {
          200: Type.Object({
            window: Type.String(),
            total_messages: Type.Integer(),
            deliveries: Type.Integer(),
            succeeded: Type.Integer(),
            failed: Type.Integer(),
            pending: Type.Integer(),
            attempts: Type.Integer(),
            retries: Type.Integer(),
            success_rate: Type.Union([Type.Number(), Type.Null()]),
            avg_latency_ms: Type.Union([Type.Number(), Type.Null()]),
            rejected: Type.Optional(Type.Integer({ description: 'inbound only: ingest requests refused in the window' })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const window = req.query.window ?? '24h';
      const s = await store.metrics.summary(req.auth.projectId, Date.now() - WINDOWS[window], await scope(req.auth.projectId, req.query));
      const finished = s.succeeded + s.failed;
      return {
        window,
        total_messages: s.totalMessages,
        deliveries: s.deliveries,
        succeeded: s.succeeded,
        failed: s.failed,
        pending: s.pending,
        attempts: s.attempts,
        retries: s.retries,
        success_rate: finished === 0 ? null : s.succeeded / finished,
        avg_latency_ms: s.avgLatencyMs,
        ...(req.query.direction === 'inbound' ? { rejected: s.rejected } : {}),
      };
    },
  );

  app.get(
    '/metrics/timeseries',
    {
      schema: {
        tags,
        description: 'Attempts per time bucket by outcome (succeeded, failed for good, retrying) with mean latency.',
        querystring: Query,
        response: {
          200: Type.Object({
            window: Type.String(),
            bucket_seconds: Type.Integer(),
            data: Type.Array(
              Type.Object({
                timestamp: Type.String(),
                succeeded: Type.Integer(),
                failed: Type.Integer(),
                retrying: Type.Integer(),
                total: Type.Integer(),
                avg_latency_ms: Type.Union([Type.Number(), Type.Null()]),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const window = req.query.window ?? '24h';
      const now = Date.now();
      const buckets = await store.metrics.timeseries(req.auth.projectId, now - WINDOWS[window], now, BUCKETS[window], await scope(req.auth.projectId, req.query));
      return {
        window,
        bucket_seconds: BUCKETS[window] / 1000,
        data: buckets.map((b) => ({ ...b, timestamp: new Date(b.timestamp).toISOString(), avg_latency_ms: b.avgLatencyMs })),
      };
    },
  );

  app.get(
    '/metrics/backlog',
    {
      schema: {
        tags,
        description:
          "The project's outbound deliveries not finished now, and the failed ones: due (queued or waiting for a retry, due now), scheduled (due later, or waiting behind the head of a fifo line), delivering, paused, failed.",
        response: {
          200: Type.Object({ due: Count, scheduled: Count, delivering: Count, paused: Count, failed: Count }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const b = await store.metrics.backlog(Date.now(), req.auth.projectId);
      return { due: b.due, scheduled: b.scheduled, delivering: b.delivering, paused: b.paused, failed: b.failed };
    },
  );

  app.get(
    '/metrics/endpoints',
    {
      schema: {
        tags,
        description:
          "The project's outbound endpoints with their attempts over a window, most failed attempts first (then most attempts); endpoints without attempts last. success_rate = succeeded / attempts (null without attempts).",
        querystring: Type.Object({
          window: Query.properties.window,
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: {
          200: Type.Object({
            window: Type.String(),
            data: Type.Array(
              Type.Object({
                endpoint_id: Type.String(),
                url: Type.String(),
                status: Type.String(),
                attempts: Count,
                succeeded: Count,
                failed: Type.Integer({ minimum: 0, description: 'attempts that did not succeed (retried or failed for good)' }),
                success_rate: Rate,
                avg_latency_ms: Rate,
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const window = req.query.window ?? '24h';
      const rows = await store.metrics.endpointStats(req.auth.projectId, Date.now() - WINDOWS[window], req.query.limit ?? 100);
      return {
        window,
        data: rows.map((r) => ({
          endpoint_id: r.endpointId,
          url: r.url,
          status: r.status,
          attempts: r.attempts,
          succeeded: r.succeeded,
          failed: r.failed,
          success_rate: r.attempts === 0 ? null : r.succeeded / r.attempts,
          avg_latency_ms: r.avgLatencyMs,
        })),
      };
    },
  );
};
