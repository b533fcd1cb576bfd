// The load generator, in a process of its own: posts requests with an undici pool, either as
// fast as `concurrency` clients can (closed loop) or at a fixed rate (open loop). In the open loop
// latency counts from each request's scheduled time, so a stalled server cannot hide its stall by
// slowing the generator down (coordinated omission).
import crypto from 'node:crypto';
import { Pool } from 'undici';
import { nowMs, serve } from './rpc.mjs';
import { payloadOf, percentiles } from './stats.mjs';

/** The requests of a run, built before the clock starts. */
function buildRequests(spec) {
  const out = new Array(spec.count);
  for (let i = 0; i < spec.count; i++) {
    if (spec.kind === 'message') {
      const target = spec.endpointIds ? { endpoint_id: spec.endpointIds[i % spec.endpointIds.length] } : spec.consumerId ? { consumer_id: spec.consumerId } : {};
      out[i] = { body: JSON.stringify({ event_type: 'bench.event', ...target, payload: payloadOf(i, spec.payloadBytes) }), headers: { 'content-type': 'application/json', authorization: `Bearer ${spec.apiKey}` } };
    } else if (spec.kind === 'stripe') {
      const body = JSON.stringify({ id: `evt_${spec.runId}_${i}`, object: 'event', type: 'charge.succeeded', created: Math.floor(Date.now() / 1000), data: { object: payloadOf(i, spec.payloadBytes) } });
      const t = Math.floor(Date.now() / 1000);
      const v1 = crypto.createHmac('sha256', spec.secret).update(`${t}.${body}`).digest('hex');
      out[i] = { body, headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` } };
    } else throw new Error(`unknown request kind ${spec.kind}`);
  }
  return out;
}

async function run({ origin, path, spec, concurrency, rate, wantIds }) {
  const requests = buildRequests(spec);
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies = new Float64Array(requests.length);
  const starts = new Float64Array(requests.length);
  const ids = wantIds ? new Array(requests.length) : null;
  const statuses = {};
  let errors = 0;
  let firstError = null;

  const send = async (i, scheduledAt) => {
    starts[i] = scheduledAt;
    try {
      const res = await pool.request({ method: 'POST', path, headers: requests[i].headers, body: requests[i].body });
      const text = await res.body.text();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      if (ids && res.statusCode < 300) ids[i] = JSON.parse(text).id;
      if (res.statusCode >= 300 && !firstError) firstError = `${res.statusCode} ${text.slice(0, 300)}`;
    } catch (err) {
      errors++;
      firstError ??= String(err);
    }
    latencies[i] = nowMs() - scheduledAt;
  };

  const t0 = nowMs();
  if (!rate) {
    let next = 0;
    const client = async () => {
      while (next < requests.length) {
        const i = next++;
        await send(i, nowMs());
      }
    };
    await Promise.all(Array.from({ length: concurrency }, client));
  } else {
    // Open loop: request i is due at t0 + i / rate; at most `concurrency` in flight (undici
    // queues the rest, and their wait counts as latency).
    const interval = 1000 / rate;
    const inflight = [];
    let i = 0;
    while (i < requests.length) {
      const now = nowMs();
      while (i < requests.length && t0 + i * interval <= now) {
        inflight.push(send(i, t0 + i * interval));
        i++;
      }
      if (i < requests.length) await new Promise((r) => setTimeout(r, Math.max(0, t0 + i * interval - nowMs())));
    }
    await Promise.all(inflight);
  }
  const t1 = nowMs();
  await pool.close();
  return { count: requests.length, startedAt: t0, endedAt: t1, durationMs: t1 - t0, statuses, errors, firstError, latency: percentiles(latencies), starts: wantIds ? Array.from(starts) : undefined, ids: ids ?? undefined };
}

serve({ run });
