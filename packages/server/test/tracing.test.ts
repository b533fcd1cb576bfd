/**
 * OpenTelemetry tracing (HOOKBRIDGE_OTLP_ENDPOINT) against a loopback HTTP server playing the
 * OTLP collector: the API request, the message it accepted and every delivery attempt share one
 * trace, parent to child, even though the attempts run later in the worker. Without the setting
 * the SDK is never loaded.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tracingSdkLoaded } from '../src/ops/tracing.js';
import { startReceiver, startTestServer, waitForDelivery } from './helpers.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  service: unknown;
}

/** A collector: accepts OTLP/HTTP JSON trace exports and keeps the spans. */
async function startCollector() {
  const spans: OtlpSpan[] = [];
  const posts: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      posts.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const doc = JSON.parse(body.toString('utf8'));
      for (const rs of doc.resourceSpans ?? []) {
        const service = attributesOf(rs.resource?.attributes)['service.name'];
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) spans.push({ ...s, attributes: attributesOf(s.attributes), service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function attributesOf(list: Array<{ key: string; value: Record<string, unknown> }> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    const v = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
    out[key] = value.intValue !== undefined ? Number(v) : v;
  }
  return out;
}

const SERVER = 2;
const CLIENT = 3;

describe.sequential('tracing', () => {
  it('is off without HOOKBRIDGE_OTLP_ENDPOINT: nothing loaded, no trace stored', async () => {
    const [server, receiver] = await Promise.all([startTestServer(), startReceiver()]);
    try {
      expect(server.tracing).toBeNull();
      const ep = (await server.api.post('/v1/endpoints', { url: receiver.url })).body;
      const m = (await server.api.post('/v1/messages', { event_type: 't.off', payload: {}, endpoint_id: ep.id })).body;
      await waitForDelivery(server.api, m.deliveries[0].id, ['succeeded']);
      const row = await server.store.db.selectFrom('messages').select('trace_parent').where('id', '=', m.id).executeTakeFirstOrThrow();
      expect(row.trace_parent).toBeNull();
      expect(tracingSdkLoaded()).toBe(false);
    } finally {
      await server.close();
      await receiver.close();
    }
  });

  it('links the API request, the accepted message and each attempt in one trace', async () => {
    const [collector, receiver] = await Promise.all([startCollector(), startReceiver()]);
    receiver.respondWith(500, 200);
    const server = await startTestServer({ HOOKBRIDGE_OTLP_ENDPOINT: collector.url });
    let messageId: string;
    let deliveryId: string;
    let endpointId: string;
    let storedTraceParent: string | null;
    // A caller's own trace: the request joins it.
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    let tracedMessageId: string;
    try {
      expect(server.tracing).not.toBeNull();
      expect(tracingSdkLoaded()).toBe(true);
      endpointId = (await server.api.post('/v1/endpoints', { url: receiver.url, retry_schedule: [0.1] })).body.id;
      const m = await server.api.post('/v1/messages', { event_type: 't.on', payload: { n: 1 }, endpoint_id: endpointId });
      expect(m.status).toBe(202);
      messageId = m.body.id;
      deliveryId = m.body.deliveries[0].id;
      await waitForDelivery(server.api, deliveryId, ['succeeded']);
      expect(receiver.requests).toHaveLength(2);
      storedTraceParent = (await server.store.db.selectFrom('messages').select('trace_parent').where('id', '=', messageId).executeTakeFirstOrThrow()).trace_parent;

      const paused = (await server.api.post('/v1/endpoints', { url: receiver.url })).body.id;
      await server.api.post(`/v1/endpoints/${paused}/pause`);
      const traced = await server.api.post('/v1/messages', { event_type: 't.caller', payload: {}, endpoint_id: paused }, { traceparent: `00-${callerTrace}-${callerSpan}-01` });
      tracedMessageId = traced.body.id;
      expect((await server.api.get('/healthz')).status).toBe(200);
    } finally {
      // Closing flushes the spans still batched.
      await server.close();
      await receiver.close();
      await collector.close();
    }

    expect(collector.posts.length).toBeGreaterThan(0);
    for (const p of collector.posts) expect(p).toBe('POST /v1/traces application/json');
    const spans = collector.spans;
    for (const s of spans) expect(s.service).toBe('hookbridge');

    const message = spans.find((s) => s.name === 'message.accept' && s.attributes['hookbridge.message.id'] === messageId);
    expect(message, 'message span').toBeDefined();
    const request = spans.find((s) => s.spanId === message!.parentSpanId);
    expect(request, 'request span').toMatchObject({ name: 'HTTP POST /v1/messages', kind: SERVER, traceId: message!.traceId });
    expect(request!.attributes).toMatchObject({ 'http.route': '/v1/messages', 'http.response.status_code': 202 });
    expect(request!.parentSpanId || undefined).toBeUndefined();
    // The traceparent stored with the message names the message span.
    expect(storedTraceParent).toBe(`00-${message!.traceId}-${message!.spanId}-01`);

    const attempts = spans.filter((s) => s.name === 'delivery.attempt' && s.attributes['hookbridge.delivery.id'] === deliveryId);
    attempts.sort((a, b) => Number(a.attributes['hookbridge.attempt.number']) - Number(b.attributes['hookbridge.attempt.number']));
    expect(attempts).toHaveLength(2);
    for (const a of attempts) {
      expect(a).toMatchObject({ kind: CLIENT, traceId: message!.traceId, parentSpanId: message!.spanId });
      expect(a.attributes).toMatchObject({ 'hookbridge.endpoint.id': endpointId, 'hookbridge.message.id': messageId });
    }
    expect(attempts.map((a) => a.attributes)).toMatchObject([
      { 'hookbridge.attempt.number': 1, 'http.response.status_code': 500, 'hookbridge.attempt.outcome': 'failure', 'hookbridge.delivery.status': 'pending_retry' },
      { 'hookbridge.attempt.number': 2, 'http.response.status_code': 200, 'hookbridge.attempt.outcome': 'success', 'hookbridge.delivery.status': 'succeeded' },
    ]);

    // A request carrying a traceparent continues the caller's trace.
    const tracedMessage = spans.find((s) => s.name === 'message.accept' && s.attributes['hookbridge.message.id'] === tracedMessageId);
    expect(tracedMessage?.traceId).toBe(callerTrace);
    expect(spans.find((s) => s.spanId === tracedMessage!.parentSpanId)).toMatchObject({ name: 'HTTP POST /v1/messages', parentSpanId: callerSpan });
    // Probes are not traced; other API requests are, by route pattern.
    expect(spans.some((s) => s.name.includes('/healthz'))).toBe(false);
    expect(spans.some((s) => s.name === 'HTTP POST /v1/endpoints/:id/pause')).toBe(true);
  });
});
