// The workloads of `npm run bench` (docs/benchmarks.md says what each measures and why). Each
// returns its figures and its goals; a goal is { name, value, target, met } with the same-run
// baseline it was divided by, so a reader can redo every ratio.
import crypto from 'node:crypto';
import { spawnChild } from './rpc.mjs';
import { API_KEY, api, cpuMs, createEndpoints, startHookbridge } from './hookbridge.mjs';
import { seedBacklog } from './seed.mjs';
import { W7 } from './console-load.mjs';
import { CLIENTS, assertAccepted, latency, throughput, warmUp } from './measure.mjs';
import { payloadOf, perSecond, round } from './stats.mjs';

const child = (name) => new URL(`./${name}.mjs`, import.meta.url).pathname;
const BENCH_SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const goal = (name, value, op, target, extra = {}) => ({ name, value, target: `${op} ${round(target)}`, met: op === '≥' ? value >= target : value <= target, ...extra });

async function withHookbridge(ctx, opts, fn) {
  const hb = await startHookbridge({ store: ctx.opts.store, pgAdminUrl: ctx.opts.pgUrl, profileDir: ctx.opts.profileDir, ...opts });
  try {
    return await fn(hb);
  } finally {
    await hb.destroy();
  }
}

const endpointTo = (ctx, path, extra = {}) => ({ url: `${ctx.sinkUrl}${path}`, ...extra });

/** Both baselines, first, with the same sink, payload and load generator as everything after. */
export async function baselines(ctx) {
  const count = ctx.opts.messages;
  const raw = await spawnChild(child('raw-sender'));
  try {
    await ctx.sink.call('reset');
    await raw.call('run', { sinkUrl: ctx.sinkUrl, group: 'raw', count: Math.min(1000, count), concurrency: CLIENTS, secret: BENCH_SECRET }); // warm-up
    await ctx.sink.call('reset');
    const r = await raw.call('run', { sinkUrl: ctx.sinkUrl, group: 'raw', count, concurrency: CLIENTS, secret: BENCH_SECRET });
    const sunk = await ctx.sink.call('waitFor', { group: 'raw', count, timeoutMs: 60_000 });
    ctx.baseline.raw = { messages: count, delivered_per_s: perSecond(sunk.count, sunk.last - r.startedAt), failures: r.failures };
  } finally {
    await raw.kill();
  }
  const relay = await spawnChild(child('bare-relay'));
  try {
    const { url } = await relay.call('address');
    await relay.call('configure', { sinkUrl: ctx.sinkUrl, path: '/ok/relay/', secret: BENCH_SECRET, connections: 16 });
    const args = { origin: url, endpointIds: ['ep_relay'], count, group: 'relay', cpuMs: () => cpuMs(relay.pid) };
    await warmUp(ctx, args);
    ctx.baseline.relay = await throughput(ctx, args);
  } finally {
    await relay.kill();
  }
  return { id: 'baselines', title: 'raw sender and bare relay', raw: ctx.baseline.raw, relay: ctx.baseline.relay, goals: [] };
}

/** W1 (and W1-pg): one endpoint, throughput, then latency at half the throughput. */
async function outboundSingle(ctx, { id, title, hbOpts, group, minRatio, latencyGoals }) {
  return withHookbridge(ctx, hbOpts, async (hb) => {
    const [ep] = await createEndpoints(hb, 1, () => endpointTo(ctx, `/ok/${group}/`));
    const args = { origin: hb.url, endpointIds: [ep.id], count: ctx.opts.messages, group, cpuMs: hb.cpuMs };
    await warmUp(ctx, args);
    const tp = await throughput(ctx, args);
    const rate = Math.max(20, Math.round(tp.delivered_per_s / 2));
    const lat = await latency(ctx, { origin: hb.url, endpointId: ep.id, path: `/ok/${group}/`, group, rate, seconds: ctx.opts.latencySeconds });
    const rss = hb.peakRssMb();
    const relay = ctx.baseline.relay.delivered_per_s;
    const goals = [goal('delivered/s', tp.delivered_per_s, '≥', minRatio * relay, { baseline: `bare relay ${round(relay)}/s × ${minRatio}`, ratio: tp.delivered_per_s / relay })];
    if (latencyGoals) {
      goals.push(goal(`accept p99 at ${rate}/s (ms)`, lat.accept_ms.p99, '≤', 10));
      goals.push(goal('accept→received p50 (ms)', lat.end_to_end_ms.p50, '≤', 15));
      goals.push(goal('accept→received p99 (ms)', lat.end_to_end_ms.p99, '≤', 100));
    }
    return { id, title, throughput: tp, latency: lat, peak_rss_mb: rss, goals };
  });
}

export const W1 = (ctx) =>
  outboundSingle(ctx, { id: 'W1', title: `${ctx.opts.messages} messages, 1 endpoint, ${ctx.opts.store}`, hbOpts: {}, group: 'w1', minRatio: 0.7, latencyGoals: true }).then((r) => (ctx.w1 = r));

export const W1pg = (ctx) =>
  outboundSingle(ctx, { id: 'W1-pg', title: `W1 on PostgreSQL, 1 API + 2 worker processes`, hbOpts: { store: 'postgres', workers: 2 }, group: 'w1pg', minRatio: 0.5, latencyGoals: false });

export async function W2(ctx) {
  const { fanoutEndpoints: n, fanoutMessages: count } = ctx.opts;
  return withHookbridge(ctx, {}, async (hb) => {
    await createEndpoints(hb, n, (i) => endpointTo(ctx, `/ok/w2/${i}`, { consumer_id: 'fan' }));
    const args = { origin: hb.url, consumerId: 'fan', count, group: 'w2', deliveriesPerMessage: n, cpuMs: hb.cpuMs };
    await warmUp(ctx, { ...args, count: Math.max(5, Math.round(count / 10)) });
    const tp = await throughput(ctx, args);
    const w1 = ctx.w1?.throughput.delivered_per_s;
    return { id: 'W2', title: `fan-out: ${count} messages × ${n} endpoints`, throughput: tp, goals: w1 ? [goal('deliveries/s', tp.delivered_per_s, '≥', w1, { baseline: `W1 ${round(w1)}/s`, ratio: tp.delivered_per_s / w1 })] : [] };
  });
}

export async function W3(ctx) {
  const { backlog } = ctx.opts;
  const backlogEndpoints = 100;
  return withHookbridge(ctx, {}, async (hb) => {
    const [ep] = await createEndpoints(hb, 1, () => endpointTo(ctx, '/ok/w3/'));
    const parked = await createEndpoints(hb, backlogEndpoints, (i) => endpointTo(ctx, `/ok/backlog/${i}`));
    await hb.stop();
    const t = Date.now();
    await seedBacklog(hb, { messages: Math.ceil(backlog / backlogEndpoints), endpointIds: parked.map((e) => e.id), payload: JSON.stringify(payloadOf(0)) });
    const seedSeconds = (Date.now() - t) / 1000;
    await hb.restart();
    const args = { origin: hb.url, endpointIds: [ep.id], count: ctx.opts.messages, group: 'w3', cpuMs: hb.cpuMs };
    await warmUp(ctx, args);
    const tp = await throughput(ctx, args);
    const w1 = ctx.w1;
    const rate = w1?.latency.rate ?? Math.round(tp.delivered_per_s / 2);
    const lat = await latency(ctx, { origin: hb.url, endpointId: ep.id, path: '/ok/w3/', group: 'w3', rate, seconds: ctx.opts.latencySeconds });
    const goals = [];
    if (w1) {
      goals.push(goal('delivered/s', tp.delivered_per_s, '≥', w1.throughput.delivered_per_s / 1.3, { baseline: `W1 ${round(w1.throughput.delivered_per_s)}/s ÷ 1.3`, ratio: tp.delivered_per_s / w1.throughput.delivered_per_s }));
      goals.push(goal(`accept p99 at ${rate}/s (ms)`, lat.accept_ms.p99, '≤', w1.latency.accept_ms.p99 * 1.3, { baseline: `W1 ${round(w1.latency.accept_ms.p99)} ms × 1.3`, ratio: lat.accept_ms.p99 / w1.latency.accept_ms.p99 }));
    }
    return { id: 'W3', title: `W1 with ${backlog.toLocaleString('en')} deliveries waiting for future retries`, seed_seconds: seedSeconds, throughput: tp, latency: lat, peak_rss_mb: hb.peakRssMb(), goals };
  });
}

export async function W4(ctx) {
  const hangEndpoints = 20;
  const hangRatePerEndpoint = 10;
  const seconds = ctx.opts.latencySeconds;
  return withHookbridge(ctx, {}, async (hb) => {
    const [ep] = await createEndpoints(hb, 1, () => endpointTo(ctx, '/ok/w4/'));
    const hang = await createEndpoints(hb, hangEndpoints, (i) => endpointTo(ctx, `/hang/${i}`, { timeout_ms: 5000 }));
    await warmUp(ctx, { origin: hb.url, endpointIds: [ep.id], count: ctx.opts.messages, group: 'w4' });
    const hangRate = hangEndpoints * hangRatePerEndpoint;
    const hangRun = ctx.loadgen2.call('run', { origin: hb.url, path: '/v1/messages', spec: { kind: 'message', endpointIds: hang.map((e) => e.id), apiKey: API_KEY, count: Math.round(hangRate * (seconds + 2)), payloadBytes: 1024 }, concurrency: CLIENTS, rate: hangRate });
    await new Promise((r) => setTimeout(r, 1500)); // let the hanging requests pile up first
    const rate = ctx.w1?.latency.rate ?? 200;
    const lat = await latency(ctx, { origin: hb.url, endpointId: ep.id, path: '/ok/w4/', group: 'w4', rate, seconds });
    const hung = await hangRun;
    const w1p99 = ctx.w1?.latency.end_to_end_ms.p99;
    return {
      id: 'W4',
      title: `W1's latency run while ${hangEndpoints} endpoints hang (5 s timeout) and get ${hangRate} messages/s`,
      latency: lat,
      hanging_messages: hung.count,
      goals: w1p99 ? [goal('healthy accept→received p99 (ms)', lat.end_to_end_ms.p99, '≤', 2 * w1p99, { baseline: `W1 ${round(w1p99)} ms × 2`, ratio: lat.end_to_end_ms.p99 / w1p99 })] : [],
    };
  });
}

export async function W5(ctx) {
  const count = ctx.opts.inbound;
  const warmUpCount = Math.min(1000, count);
  const stripeSecret = 'whsec_bench_stripe_secret';
  // Every run gets fresh event ids: Hookbridge would drop repeats as provider retries.
  const send = (origin, path, n) => ctx.loadgen.call('run', { origin, path, spec: { kind: 'stripe', secret: stripeSecret, runId: crypto.randomBytes(4).toString('hex'), count: n, payloadBytes: 1024 }, concurrency: CLIENTS });
  const fastify = await spawnChild(child('bare-fastify'));
  let bare;
  try {
    const { url } = await fastify.call('address');
    await send(url, '/in/x', warmUpCount);
    bare = await send(url, '/in/x', count);
    assertAccepted(bare, 'W5 bare Fastify');
  } finally {
    await fastify.kill();
  }
  return withHookbridge(ctx, {}, async (hb) => {
    const inbound = await api(hb, 'POST', '/v1/inbound-endpoints', { name: 'stripe', mode: 'forward', destination_url: `${ctx.sinkUrl}/ok/w5/`, verification: { type: 'stripe', secret: stripeSecret } });
    const path = `/in/${inbound.id}`;
    await ctx.sink.call('reset');
    await send(hb.url, path, warmUpCount);
    await ctx.sink.call('waitFor', { group: 'w5', count: warmUpCount, timeoutMs: 60_000 }); // its forwards must not overlap the run
    await ctx.sink.call('reset');
    const run = await send(hb.url, path, count);
    assertAccepted(run, 'W5');
    const sunk = await ctx.sink.call('waitFor', { group: 'w5', count, timeoutMs: 120_000 });
    const accepted = perSecond(count, run.durationMs);
    const base = perSecond(count, bare.durationMs);
    return {
      id: 'W5',
      title: `inbound: ${count} Stripe-signed requests to a forward-mode ingest URL`,
      accepted_per_s: accepted,
      accept_ms: run.latency,
      forwarded: sunk.count,
      forwarded_per_s: perSecond(sunk.count, sunk.last - run.startedAt),
      bare_fastify: { accepted_per_s: base, accept_ms: bare.latency },
      goals: [goal('accepted/s', accepted, '≥', 0.5 * base, { baseline: `bare Fastify ${round(base)}/s × 0.5`, ratio: accepted / base })],
    };
  });
}

/** W6: issue 4's goal — ingest must not wait on forwarding, even when the destination hangs. */
export async function W6(ctx) {
  return withHookbridge(ctx, {}, async (hb) => {
    const inbound = await api(hb, 'POST', '/v1/inbound-endpoints', { name: 'hang', mode: 'forward', destination_url: `${ctx.sinkUrl}/hang/w6`, timeout_ms: 30000, verification: { type: 'none' } });
    const run = await ctx.loadgen.call('run', { origin: hb.url, path: `/in/${inbound.id}`, spec: { kind: 'stripe', secret: 'unused', runId: 'w6', count: ctx.opts.smoke ? 20 : 100, payloadBytes: 512 }, concurrency: 1 });
    return { id: 'W6', title: 'ingest, one request at a time, while the forwarding destination hangs', accept_ms: run.latency, goals: [goal('ingest p99 (ms)', run.latency.p99, '≤', 200)] };
  });
}

export const WORKLOADS = { W1, 'W1-pg': W1pg, W2, W3, W4, W5, W6, W7 };
