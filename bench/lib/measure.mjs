// The two measurements every outbound workload is made of, for Hookbridge and the bare relay alike:
//   throughput: `count` messages from 32 closed-loop clients; delivered/s runs from the first send
//               to the last arrival at the sink;
//   latency:    messages at a fixed rate (open loop) for a few seconds; accept latency is the API's
//               answer time, end-to-end runs from the scheduled send to the arrival at the sink.
import { API_KEY } from './hookbridge.mjs';
import { percentiles, perSecond } from './stats.mjs';

export const CLIENTS = 32;
const DRAIN_TIMEOUT_MS = 120_000;

export function assertAccepted(run, what) {
  const accepted = Object.entries(run.statuses).filter(([s]) => Number(s) < 300).reduce((n, [, c]) => n + c, 0);
  if (accepted !== run.count) throw new Error(`${what}: ${accepted} of ${run.count} accepted (${JSON.stringify(run.statuses)}, ${run.errors} errors; first: ${run.firstError})`);
}

const messageSpec = (endpointIds, count) => ({ kind: 'message', endpointIds, apiKey: API_KEY, count, payloadBytes: 1024 });

/** Closed loop to `origin`'s POST /v1/messages; waits until the sink has every delivery of `group`. */
export async function throughput(ctx, { origin, endpointIds, count, group, deliveriesPerMessage = 1, consumerId, cpuMs }) {
  await ctx.sink.call('reset');
  const cpuBefore = cpuMs?.();
  const spec = consumerId ? { kind: 'message', consumerId, apiKey: API_KEY, count, payloadBytes: 1024 } : messageSpec(endpointIds, count);
  const run = await ctx.loadgen.call('run', { origin, path: '/v1/messages', spec, concurrency: CLIENTS });
  assertAccepted(run, `throughput to ${group}`);
  const expected = count * deliveriesPerMessage;
  const sunk = await ctx.sink.call('waitFor', { group, count: expected, timeoutMs: DRAIN_TIMEOUT_MS });
  if (sunk.count < expected) throw new Error(`${group}: only ${sunk.count} of ${expected} deliveries arrived within ${DRAIN_TIMEOUT_MS / 1000} s`);
  const ms = sunk.last - run.startedAt;
  return {
    messages: count,
    deliveries: expected,
    accepted_per_s: perSecond(count, run.durationMs),
    delivered_per_s: perSecond(expected, ms),
    seconds: ms / 1000,
    accept_ms: run.latency,
    duplicates: sunk.duplicates,
    // CPU the system under test used per delivery, from the first send to the last arrival.
    cpu_ms_per_delivery: cpuMs ? (cpuMs() - cpuBefore) / expected : undefined,
  };
}

/** Open loop at `rate` messages/s for `seconds` to one endpoint (path = the endpoint's URL path). */
export async function latency(ctx, { origin, endpointId, path, group, rate, seconds, loadgen = ctx.loadgen, resetSink = true }) {
  if (resetSink) await ctx.sink.call('reset');
  const count = Math.max(10, Math.round(rate * seconds));
  const run = await loadgen.call('run', { origin, path: '/v1/messages', spec: messageSpec([endpointId], count), concurrency: CLIENTS, rate, wantIds: true });
  assertAccepted(run, `latency to ${group}`);
  await ctx.sink.call('waitFor', { group, count, timeoutMs: DRAIN_TIMEOUT_MS });
  const arrivals = await ctx.sink.call('arrivalsOf', { path, ids: run.ids });
  const e2e = [];
  let missing = 0;
  arrivals.forEach((t, i) => (t === undefined || t === null ? missing++ : e2e.push(t - run.starts[i])));
  if (missing) throw new Error(`${group}: ${missing} of ${count} messages never arrived`);
  return { rate, messages: count, accept_ms: run.latency, end_to_end_ms: percentiles(e2e) };
}

export async function warmUp(ctx, args) {
  await throughput(ctx, { ...args, count: Math.max(50, Math.min(1000, Math.round(args.count / 10))) });
}
